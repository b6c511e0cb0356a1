// The dashboard's alert panel, kept current without a reload (issue 6: alerts live on the
// owner's dashboard). Polls the server-rendered panel and swaps it in when it changed; a new
// alert is announced to screen readers through the panel's aria-live region.
(function () {
  "use strict";
  var panel = document.getElementById("live-alerts");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-src");
  var every = parseInt(panel.getAttribute("data-every") || "5", 10) * 1000;
  var shown = panel.innerHTML;
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html !== null && html !== shown) {
          shown = html;
          panel.innerHTML = html;
          panel.classList.add("changed");
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }
  window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
})();
