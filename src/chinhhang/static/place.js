/* The verdict page's "share my location" button (templates/scans/place_widget.html).
   Runs only when the shopper presses it; the position is rounded to 0.01 degree (about 1 km)
   here, before it leaves the phone, and again by the server. No other request is made. */
(function () {
  "use strict";
  var box = document.getElementById("place");
  if (!box || !window.isSecureContext || !("geolocation" in navigator) || !window.fetch) {
    return; // the province form still works
  }
  var button = box.querySelector(".place-share");
  var status = box.querySelector(".place-status");
  if (!button || !status) {
    return;
  }
  button.hidden = false;

  function say(what) {
    status.textContent = box.getAttribute("data-" + what) || "";
  }

  function rounded(value) {
    return Math.round(value * 100) / 100;
  }

  function send(position) {
    var body = {
      t: box.getAttribute("data-token"),
      lat: rounded(position.coords.latitude),
      lon: rounded(position.coords.longitude)
    };
    fetch("/place", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      say("saved");
    }).catch(function () {
      button.disabled = false;
      say("failed");
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("asking");
    navigator.geolocation.getCurrentPosition(send, function () {
      button.disabled = false;
      say("denied");
    }, { enableHighAccuracy: false, timeout: 20000, maximumAge: 600000 });
  });
})();
