// The escalation queue and conversation pages poll a small JSON endpoint every few seconds; both work without it.
(function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }
  function poll(node, apply) {
    var seconds = parseInt(node.getAttribute("data-seconds"), 10) || 5;
    function tick() {
      fetch(node.getAttribute("data-poll"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { apply(data); } })
        .catch(function () {})
        .then(function () { window.setTimeout(tick, seconds * 1000); });
    }
    window.setTimeout(tick, seconds * 1000);
  }
  var list = document.getElementById("escalations");
  if (list) {
    poll(list, function (data) {
      Object.keys(data.counts).forEach(function (key) {
        var count = document.getElementById("count-" + key);
        if (count) { count.textContent = data.counts[key]; }
      });
      var list = document.getElementById("escalations-rows");
      list.textContent = "";
      data.rows.forEach(function (r) {
        var li = el("li", "row esc" + (r.urgent ? " urgent" : "") + (r.breached ? " late" : ""));
        li.id = "esc-" + r.id;
        var a = el("a", "esc-link");
        a.href = r.url;
        a.appendChild(el("strong", null, r.number));
        if (r.urgent) { a.appendChild(el("span", "badge danger", "紧急")); }
        if (r.breached) { a.appendChild(el("span", "badge late", "超时")); }
        a.appendChild(el("span", null, " " + r.who + " " + r.where));
        li.appendChild(a);
        li.appendChild(el("span", "summary", r.summary));
        li.appendChild(el("span", "muted", r.created + " · " + (r.assignee || "待接手")));
        list.appendChild(li);
      });
      document.getElementById("escalations-empty").hidden = data.rows.length > 0;
    });
  }
  var chat = document.getElementById("messages");
  if (chat) {
    var names = { resident: "住户", bot: "机器人", staff: "工作人员" };
    poll(chat, function (data) {
      data.messages.forEach(function (m) {
        var li = document.getElementById("msg-" + m.id);
        if (!li) {
          li = el("li", "msg " + m.who);
          li.id = "msg-" + m.id;
          li.appendChild(el("span", "meta", m.at + " " + (m.staff || names[m.who])));
          li.appendChild(el("span", "text", m.text));
          chat.appendChild(li);
        }
        if (m.delivery) {
          var d = li.querySelector(".delivery");
          if (!d) { d = el("span", "delivery"); li.appendChild(d); }
          d.textContent = m.delivery;
        }
      });
      var status = document.getElementById("status-label");
      // the server names the status (waiting, with_staff, resolved, withdrawn, timed_out): one list, in queue.py
      if (status) { status.textContent = data.status_label || data.status; }
      var assignee = document.getElementById("assignee");
      if (assignee) { assignee.textContent = data.assignee || "无"; }
    });
  }
  // a canned reply fills the reply box (here, not inline: the console's CSP allows no inline script)
  var canned = document.getElementById("canned");
  if (canned) {
    canned.addEventListener("change", function () {
      if (canned.value) { document.getElementById("reply-text").value = canned.value; }
    });
  }
})();
