// The dashboard's alert panel, kept current without a reload (issue 6: alerts live on the
// owner's dashboard). Polls the server-rendered panel and swaps it in when it changed; a new
// alert is announced to screen readers through the panel's aria-live region.
(function () {
  "use strict";
  var panel = document.getElementById("live-alerts");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-src");
  var every = parseInt(panel.getAttribute("data-every") || "5", 10) * 1000;
  var shown = panel.innerHTML.trim();
  var timer = null;
  function refresh() {
    if (document.hidden) { return; }
    // redirect "error": a session that ended answers with the login page's redirect, which
    // must not be drawn inside the panel; polling stops until the page is reloaded.
    fetch(url, { credentials: "same-origin", redirect: "error", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (answer.status === 401 || answer.status === 403) { window.clearInterval(timer); }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        html = html.trim();
        if (html !== shown) {  // only a real change is announced to screen readers
          shown = html;
          panel.innerHTML = html;
          panel.classList.add("changed");
        }
      })
      .catch(function () { /* offline, or logged out: try again next time */ });
  }
  timer = window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
})();
