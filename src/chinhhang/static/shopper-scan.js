/* Chính Hãng: the shopper's /scan page, for phones whose camera app cannot read QR codes.
   A stamp of this server opens its verdict page, exactly as the camera app would have. Any
   other QR code is shown, not followed: a look-alike site's code must not be dressed up as a
   check by this page. */
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  if (!box || !window.ChinhHangCamera) { return; }
  var camera = window.ChinhHangCamera;
  var video = box.querySelector("[data-camera-video]");
  var startButton = box.querySelector("[data-camera-start]");
  var status = box.querySelector("[data-camera-status]");
  var running = null;
  var wanted = false;
  var fresh = camera.freshness(1500);
  // What a printed code of this server opens: a stamp, a product, a GS1 Digital Link.
  var SHOPPER_PATHS = /^\/(v|p|01|product)\//i;

  function say(key, extra) {
    status.textContent = box.getAttribute("data-text-" + key) + (extra ? ": " + extra : "");
  }

  function ours(text) {
    try {
      var url = new URL(text.trim());
      var home = url.origin === window.location.origin && SHOPPER_PATHS.test(url.pathname);
      return home ? url : null;
    } catch (e) { return null; }
  }

  function onText(text) {
    if (!fresh(text)) { return; }
    var url = ours(text);
    var code = camera.stampCode(text);
    if (url || (code && text.indexOf("/") < 0)) {
      wanted = false;
      if (running) { running.stop(); }
      camera.signal(true);
      say("opening");
      window.location.assign(url ? url.href : "/v/" + code);
      return;
    }
    camera.signal(false);
    var foreign = null;
    try {
      var elsewhere = new URL(text.trim());
      foreign = elsewhere.origin === window.location.origin ? null : elsewhere.host;
    } catch (e) { foreign = null; }
    if (foreign) { say("foreign", foreign); } else { say("text", text.slice(0, 80)); }
  }

  startButton.addEventListener("click", function () {
    wanted = true;
    startButton.hidden = true;
    say("loading");
    camera.start(video, onText, function (reason) {
      wanted = false;
      say(reason);
      startButton.hidden = false;
    }).then(function (control) {
      if (!wanted) { control.stop(); return; }
      running = control;
      say("started");
    });
  });
  box.hidden = false;
})();
