// Short polling for the alarm list: ask /console/alarms/live every 5 s; reload when the timeline moved.
(function () {
  var box = document.getElementById("alarm-live");
  if (!box) return;
  var version = box.getAttribute("data-version");
  var url = box.getAttribute("data-url");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.version !== version) {
          var typing = document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
          if (typing) { box.textContent = "有新的告警变化，刷新查看"; } else { window.location.reload(); }
        }
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 5000);
})();
