// Keeps an order page's status area current without a reload. The server draws the area
// (orders/_status_area.html); on every change the page fetches that same fragment from our
// database and swaps it in: when the stream (Server-Sent Events) says the status moved, when the
// 10-second poll sees a new fingerprint (a method chosen, a failed attempt), and on "Refresh Data".
// The poll and the stream stop at a final status. Also: the copy buttons, the countdown to the
// deadline (from the server's expiry timestamp, so a page left open overnight is still right),
// and no "Lanjutkan pembayaran" right after coming back from Midtrans with a payment made.
// Without JavaScript the page still works: numbers are plain selectable text, the button is a
// link, and a <noscript> meta refresh reloads the page while the order is open.
(function () {
  "use strict";
  var root = document.querySelector("[data-order-status]");
  if (!root) {
    return;
  }
  var finals = root.dataset.finalStatuses.split(" ");
  var pollMs = Number(root.dataset.pollSeconds) * 1000;
  var FIRST_LOOK_MS = 2000;
  var QUICK_LOOK_MS = 1000;
  var QUICK_LOOKS = 20;
  var timer = null;
  var source = null;
  var ticker = null;

  function area() {
    return root.querySelector("[data-status-area]");
  }

  function current(name) {
    return area().dataset[name] || "";
  }

  function isFinal(status) {
    return finals.indexOf(status) !== -1;
  }

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    if (source !== null) {
      source.close();
      source = null;
    }
    root.dataset.updates = "stopped";
  }

  function fetchText(url, accept) {
    return fetch(url, { headers: { Accept: accept }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; });
  }

  function swap(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("[data-status-area]");
    if (fresh) {
      area().replaceWith(fresh);
      root.dataset.redrawn = String(Number(root.dataset.redrawn || "0") + 1);
      drawn();
    }
  }

  // Fetch the area as the server draws it now; swap it in if it changed (or always, if `force`).
  function redraw(force) {
    return fetchText(root.dataset.areaUrl, "text/html").then(function (html) {
      var found = html && /data-fingerprint="([^"]*)"/.exec(html);
      if (found && (force || found[1] !== current("fingerprint"))) {
        swap(html);
      }
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function poll() {
    return fetchText(root.dataset.statusUrl, "application/json").then(function (text) {
      var body = text ? JSON.parse(text) : null;
      if (body && body.fingerprint && body.fingerprint !== current("fingerprint")) {
        return redraw(false);
      }
      return null;
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function listen() {
    if (!root.dataset.eventsUrl || !window.EventSource) {
      return;
    }
    source = new EventSource(root.dataset.eventsUrl);
    source.addEventListener("status", function (event) {
      if (JSON.parse(event.data).status !== current("status")) {
        redraw(false);
      }
    });
  }

  // --- copy buttons ---------------------------------------------------------------------------

  function selectCode(button) {
    var code = button.parentNode.querySelector("[data-code]");
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    var note = button.parentNode.querySelector("[data-copied]");
    if (note) {
      note.textContent = text;
    }
  }

  function copy(button) {
    var text = button.dataset.copy;
    selectCode(button);
    var copied = function () { say(button, "Tersalin: " + text); };
    var selectedOnly = function () {
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      say(button, done ? "Tersalin: " + text : "Nomor sudah dipilih; salin dengan menu ponsel Anda.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, selectedOnly);
    } else {
      selectedOnly();
    }
  }

  // --- countdown to the deadline ------------------------------------------------------------

  function twoDigits(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function timeLeft(ms) {
    var seconds = Math.floor(ms / 1000);
    var days = Math.floor(seconds / 86400);
    var clock = twoDigits(Math.floor(seconds % 86400 / 3600)) + ":" + twoDigits(Math.floor(seconds % 3600 / 60)) +
      ":" + twoDigits(seconds % 60);
    return "Sisa waktu " + (days > 0 ? days + " hari " : "") + clock;
  }

  function tick() {
    var deadline = root.querySelector("[data-deadline]");
    var out = root.querySelector("[data-countdown]");
    if (!deadline || !out) {
      return;
    }
    var left = Date.parse(deadline.getAttribute("datetime")) - Date.now();
    out.textContent = left > 0 ? timeLeft(left) : "Batas waktu pembayaran sudah lewat.";
    if (left <= 0 && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
      poll();
    }
  }

  function startCountdown() {
    if (ticker !== null) {
      clearInterval(ticker);
    }
    ticker = root.querySelector("[data-deadline]") ? setInterval(tick, 1000) : null;
    tick();
  }

  // --- just back from Midtrans ----------------------------------------------------------------

  // Midtrans's finish redirect appends transaction_status: the shopper has chosen a method or paid,
  // and Midtrans's notification is on its way. Until it is applied, do not offer to pay again.
  function backFromMidtrans() {
    return /[?&]transaction_status=/.test(window.location.search) && current("paymentStatus") === "CREATED";
  }

  function showConfirming(on) {
    var next = root.querySelector("[data-continue]");
    var note = root.querySelector("[data-confirming]");
    if (next && note) {
      next.hidden = on;
      note.hidden = !on;
    }
  }

  function lookQuickly(left) {
    if (left === 0 || current("paymentStatus") !== "CREATED" || root.dataset.updates === "stopped") {
      showConfirming(false);
      return;
    }
    poll().then(function () { setTimeout(function () { lookQuickly(left - 1); }, QUICK_LOOK_MS); });
  }

  // --- wiring ---------------------------------------------------------------------------------

  function drawn() {
    root.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
    startCountdown();
    if (isFinal(current("status"))) {
      stop();
    }
  }

  root.addEventListener("click", function (event) {
    var target = event.target.closest("[data-refresh], [data-copy]");
    if (target && target.hasAttribute("data-copy")) {
      copy(target);
    } else if (target) {
      event.preventDefault();
      redraw(true);
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && root.dataset.updates === "running") {
      tick();
      poll();
    }
  });

  drawn();
  if (!isFinal(current("status"))) {
    root.dataset.updates = "running";
    timer = setInterval(poll, pollMs);
    listen();
    if (backFromMidtrans()) {
      showConfirming(true);
      setTimeout(function () { lookQuickly(QUICK_LOOKS); }, QUICK_LOOK_MS);
    } else if (current("paymentStatus") === "CREATED") {
      // Drawn before a method was chosen: look again in a moment for the payment instructions.
      setTimeout(poll, FIRST_LOOK_MS);
    }
  }
}());
