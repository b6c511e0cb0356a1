/* Chính Hãng: the staff scanner's list (/portal/scan). The textarea is the list, one code per
   line, and it is what the form submits: the page works the same with a handheld scanner
   typing into it, or with no JavaScript at all. This script adds the camera, the tone, the
   duplicate check and the count. */
(function () {
  "use strict";
  var form = document.querySelector("[data-scan-form]");
  var box = document.querySelector("[data-camera]");
  if (!form || !box || !window.ChinhHangCamera) { return; }
  var camera = window.ChinhHangCamera;
  var area = form.querySelector("textarea[name=codes]");
  var count = form.querySelector("[data-scan-count]");
  var clear = form.querySelector("[data-scan-clear]");
  var video = box.querySelector("[data-camera-video]");
  var startButton = box.querySelector("[data-camera-start]");
  var stopButton = box.querySelector("[data-camera-stop]");
  var status = box.querySelector("[data-camera-status]");
  var running = null;
  var lastForeign = "";

  function lines() {
    return area.value.split(/\r?\n/).map(function (l) { return l.trim(); })
      .filter(function (l) { return l; });
  }

  function codesOnList() {
    var seen = {};
    lines().forEach(function (line) { seen[camera.stampCode(line) || line] = true; });
    return seen;
  }

  function refresh() {
    var n = lines().length;
    count.textContent = String(n);
    clear.hidden = n === 0;
  }

  function say(key, extra) {
    status.textContent = box.getAttribute("data-text-" + key) + (extra ? ": " + extra : "");
  }

  function shortCode(code) { return code.slice(0, 4) + "…" + code.slice(-4); }

  function onText(text) {
    var code = camera.stampCode(text);
    if (!code) {
      if (text !== lastForeign) { lastForeign = text; say("foreign"); camera.signal(false); }
      return;
    }
    if (codesOnList()[code]) {
      // The same stamp stays in view for many frames: only a new read of it is a duplicate.
      if (area.getAttribute("data-last") !== code) {
        area.setAttribute("data-last", code);
        say("duplicate", shortCode(code));
        camera.signal(false);
      }
      return;
    }
    area.value = lines().concat([code]).join("\n") + "\n";
    area.setAttribute("data-last", code);
    say("added", shortCode(code));
    camera.signal(true);
    refresh();
  }

  function onProblem(reason) {
    say(reason);
    startButton.hidden = false;
    stopButton.hidden = true;
  }

  startButton.addEventListener("click", function () {
    startButton.hidden = true;
    stopButton.hidden = false;
    camera.signal(true);  // the tone needs a tap first on phones; this is that tap
    say("loading");
    camera.start(video, onText, onProblem).then(function (control) {
      running = control;
      if (!stopButton.hidden) { say("started"); }
    });
  });
  stopButton.addEventListener("click", function () {
    if (running) { running.stop(); running = null; }
    stopButton.hidden = true;
    startButton.hidden = false;
    say("stopped");
  });
  clear.addEventListener("click", function () {
    area.value = "";
    area.removeAttribute("data-last");
    refresh();
    area.focus();
  });
  area.addEventListener("input", refresh);
  box.hidden = false;
  refresh();
})();
