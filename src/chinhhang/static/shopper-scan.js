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
  var last = "";

  function say(key, extra) {
    status.textContent = box.getAttribute("data-text-" + key) + (extra ? ": " + extra : "");
  }

  function ours(text) {
    try {
      var url = new URL(text.trim());
      return url.origin === window.location.origin ? url : null;
    } catch (e) { return null; }
  }

  function onText(text) {
    if (text === last) { return; }
    last = text;
    var url = ours(text);
    var code = camera.stampCode(text);
    if (url || (code && text.indexOf("/") < 0)) {
      if (running) { running.stop(); }
      camera.signal(true);
      say("opening");
      window.location.assign(url ? url.href : "/v/" + code);
      return;
    }
    camera.signal(false);
    var foreign = null;
    try { foreign = new URL(text.trim()).host; } catch (e) { foreign = null; }
    if (foreign) { say("foreign", foreign); } else { say("text", text.slice(0, 80)); }
  }

  startButton.addEventListener("click", function () {
    startButton.hidden = true;
    say("loading");
    camera.start(video, onText, function (reason) {
      say(reason);
      startButton.hidden = false;
    }).then(function (control) {
      running = control;
      if (startButton.hidden) { say("started"); }
    });
  });
  box.hidden = false;
})();
