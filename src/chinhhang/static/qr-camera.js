/* Chính Hãng: reads QR codes from the phone's camera, for the staff scanner (/portal/scan) and
   the shopper's /scan page.

   Decoding uses the browser's own BarcodeDetector where it reads QR codes (Chrome on Android),
   and otherwise zxing-wasm, which `make` copies from the npm registry into /static/vendor/zxing
   (about 1 MB): it is fetched only when the camera starts, so the page itself stays light, and
   from this server only, never a CDN.

   ChinhHangCamera.start(video, onText, onProblem) -> Promise<{stop()}>
     onText(text)       each QR text read (the same code is reported again while in view:
                        `freshness` tells a new read from a repeat)
     onProblem(reason)  "insecure" | "denied" | "nodecoder"
   ChinhHangCamera.stampCode(text, base) -> the code of a stamp printed for `base`, or null
*/
(function () {
  "use strict";
  var VENDOR = "/static/vendor/zxing/";
  var INTERVAL_MS = 150;
  var MAX_SIDE = 960;
  var zxingDecoder = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  function zxing() {
    if (!zxingDecoder) {
      zxingDecoder = loadScript(VENDOR + "zxing-reader.js").then(function () {
        var lib = window.ZXingWASM;
        return lib.prepareZXingModule({
          overrides: { locateFile: function (path) { return VENDOR + path; } },
          fireImmediately: true
        }).then(function () {
          // Labels print QR Model 2 only: "QRCode" would also try Micro QR, which a blurred
          // label's finder pattern can fake as a short number (tests/functional/test_print_round_trip.py).
          var options = { formats: ["QRCodeModel2"], tryHarder: true, maxNumberOfSymbols: 4 };
          return function (image) {
            return lib.readBarcodes(image, options).then(function (found) {
              return found.filter(function (r) { return r.isValid; })
                .map(function (r) { return r.text; });
            });
          };
        });
      });
      zxingDecoder.catch(function () { zxingDecoder = null; });
    }
    return zxingDecoder;
  }

  function nativeDecoder() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { return null; }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function (image) {
        return detector.detect(image).then(function (found) {
          return found.map(function (b) { return b.rawValue; });
        });
      };
    }).catch(function () { return null; });
  }

  function decoder() {
    return nativeDecoder().then(function (native) { return native || zxing(); });
  }

  function start(video, onText, onProblem) {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      onProblem("insecure");
      return Promise.resolve({ stop: function () {} });
    }
    var stopped = false;
    var stream = null;
    var timer = null;
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });

    function stop() {
      stopped = true;
      if (timer) { clearTimeout(timer); }
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      video.srcObject = null;
      window.removeEventListener("pagehide", stop);
    }
    // Leaving the page (or going into the back-forward cache) turns the camera off.
    window.addEventListener("pagehide", stop);

    function frame(decode) {
      if (stopped) { return; }
      var busy = Promise.resolve();
      if (video.readyState >= 2 && video.videoWidth) {
        var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        busy = decode(image).then(function (texts) {
          texts.forEach(function (text) { if (!stopped) { onText(text); } });
        }).catch(function () {});
      }
      busy.then(function () { timer = setTimeout(function () { frame(decode); }, INTERVAL_MS); });
    }

    // The decoder loads while the person answers the camera prompt, and a missing decoder is
    // said before the camera is opened for nothing.
    var constraints = { audio: false, video: { facingMode: { ideal: "environment" } } };
    return decoder().then(function (decode) {
      if (stopped) { return { stop: stop }; }
      return navigator.mediaDevices.getUserMedia(constraints).then(function (media) {
        stream = media;
        if (stopped) { stop(); return { stop: stop }; }
        video.srcObject = media;
        return video.play().catch(function () {}).then(function () {
          frame(decode);
          return { stop: stop };
        });
      }, function () {
        stop();
        onProblem("denied");
        return { stop: stop };
      });
    }, function () {
      stop();
      onProblem("nodecoder");
      return { stop: stop };
    });
  }

  // A short tone and a buzz: the person looks at the stamps, not at the screen.
  var audio = null;
  function signal(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = ok ? 1320 : 330;
      gain.gain.value = 0.08;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + (ok ? 0.08 : 0.2));
    } catch (e) { /* no sound: the vibration and the list still say it */ }
    if (navigator.vibrate) { navigator.vibrate(ok ? 60 : [40, 60, 40]); }
  }

  // The code a stamp's QR carries: its printed address is BASE/V/CODE (any case), on this
  // server's own address only; a bare code is accepted too. The server checks the code again;
  // this only picks it out.
  function stampCode(text, base) {
    text = text.trim();
    var candidate = text;
    if (text.indexOf("/") >= 0) {
      var url, home;
      try { url = new URL(text); home = new URL(base); } catch (e) { return null; }
      var route = home.pathname.replace(/\/+$/, "") + "/v/";
      var path = url.pathname;
      if (url.origin !== home.origin || path.toLowerCase().indexOf(route.toLowerCase()) !== 0) {
        return null;
      }
      candidate = path.slice(route.length).replace(/\/+$/, "");
    }
    candidate = candidate.replace(/[-\s]/g, "").toUpperCase();
    return /^[0-9A-Z]{24}$/.test(candidate) ? candidate : null;
  }

  // Whether a read is news: once when a code comes into view, not for every frame it stays
  // there (two labels in view would otherwise beep without end).
  function freshness(quietMs) {
    var seen = {};
    return function (key) {
      var now = Date.now();
      var fresh = !seen[key] || now - seen[key] > quietMs;
      seen[key] = now;
      return fresh;
    };
  }

  window.ChinhHangCamera = {
    start: start, signal: signal, stampCode: stampCode, freshness: freshness
  };
})();
