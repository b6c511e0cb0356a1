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
  var base = form.getAttribute("data-base");
  var area = form.querySelector("textarea[name=codes]");
  var count = form.querySelector("[data-scan-count]");
  var clear = form.querySelector("[data-scan-clear]");
  var video = box.querySelector("[data-camera-video]");
  var startButton = box.querySelector("[data-camera-start]");
  var stopButton = box.querySelector("[data-camera-stop]");
  var status = box.querySelector("[data-camera-status]");
  var running = null;
  var wanted = false;
  // A code in view is read several times a second: only a read after a second out of view
  // is signalled again.
  var fresh = camera.freshness(1500);

  function lines() {
    return area.value.split(/\r?\n/).map(function (l) { return l.trim(); })
      .filter(function (l) { return l; });
  }

  function codesOnList() {
    var seen = {};
    lines().forEach(function (line) { seen[camera.stampCode(line, base) || line] = true; });
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
    var code = camera.stampCode(text, base);
    if (!fresh(code || text)) { return; }
    if (!code) {
      say("foreign");
      camera.signal(false);
    } else if (codesOnList()[code]) {
      say("duplicate", shortCode(code));
      camera.signal(false);
    } else {
      area.value = lines().concat([code]).join("\n") + "\n";
      say("added", shortCode(code));
      camera.signal(true);
      refresh();
    }
  }

  function stopCamera() {
    wanted = false;
    if (running) { running.stop(); running = null; }
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  function onProblem(reason) {
    stopCamera();
    say(reason);
  }

  startButton.addEventListener("click", function () {
    wanted = true;
    startButton.hidden = true;
    stopButton.hidden = false;
    camera.signal(true);  // the tone needs a tap first on phones; this is that tap
    say("loading");
    camera.start(video, onText, onProblem).then(function (control) {
      if (!wanted) { control.stop(); return; }  // stopped while the camera was starting
      running = control;
      say("started");
    });
  });
  stopButton.addEventListener("click", function () {
    stopCamera();
    say("stopped");
  });
  clear.addEventListener("click", function () {
    area.value = "";
    refresh();
    area.focus();
  });
  // A handheld scanner types whole addresses: they are sent as codes, which keeps the post
  // small and the list readable.
  form.addEventListener("submit", function () {
    area.value = lines().map(function (l) { return camera.stampCode(l, base) || l; }).join("\n");
  });
  area.addEventListener("input", refresh);
  box.hidden = false;
  refresh();
})();
