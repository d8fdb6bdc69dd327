// Small helpers for the console; pages work without them.
(function () {
  "use strict";
  // Forms with data-confirm ask before submitting (e.g. rejecting a binding).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // For later sections' fetch() calls to /console/api: the session's CSRF token, sent as X-CSRF-Token.
  window.linliConsole = {
    csrfToken: function () {
      var meta = document.querySelector('meta[name="csrf-token"]');
      return meta ? meta.getAttribute("content") : "";
    },
    postJSON: function (url, body) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrfToken() },
        body: JSON.stringify(body || {})
      });
    }
  };
})();
