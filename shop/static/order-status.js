// Keeps an order page's status current: Server-Sent Events when the shop offers them, and a poll
// of our own database every few seconds as the fallback; both stop once the status is final.
// While the order waits, a new payment status (a method chosen after the page was drawn) reloads
// the page for its payment instructions. "Refresh Data" re-reads our database (never Midtrans).
// Without JavaScript the page still works: the button is a plain link and a <noscript> meta
// refresh reloads the page while it is open.
(function () {
  "use strict";
  var panel = document.querySelector("[data-order-status]");
  if (!panel) {
    return;
  }
  var finals = panel.dataset.finalStatuses.split(" ");
  var badge = panel.querySelector("[data-role=status-badge]");
  var pollMs = Number(panel.dataset.pollSeconds) * 1000;
  var timer = null;
  var source = null;
  var FIRST_LOOK_MS = 2000;

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
    panel.dataset.updates = "stopped";
  }

  function show(status) {
    if (status !== panel.dataset.status) {
      panel.dataset.status = status;
      badge.textContent = status;
      badge.className = "badge badge-" + status;
      panel.querySelector("[data-when-changed]").hidden = false;
    }
    if (isFinal(status)) {
      document.querySelectorAll("[data-while-open]").forEach(function (el) { el.hidden = true; });
      stop();
    }
  }

  function readStatus() {
    return fetch(panel.dataset.statusUrl, {
      headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (body) {
      if (body && body.status && !isFinal(body.status) &&
          (body.payment_status || "") !== panel.dataset.paymentStatus) {
        // The order still waits, but its payment moved (a method was chosen): the page shows what
        // to pay with (VA number, store code) only once reloaded. The page cache was cleared.
        stop();
        window.location.reload();
        return;
      }
      if (body && body.status) {
        show(body.status);
      }
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function listen() {
    if (!panel.dataset.eventsUrl || !window.EventSource) {
      return;
    }
    source = new EventSource(panel.dataset.eventsUrl);
    source.addEventListener("status", function (event) {
      show(JSON.parse(event.data).status);
    });
  }

  panel.querySelector("[data-refresh]").addEventListener("click", function (event) {
    event.preventDefault();
    readStatus();
  });

  if (!isFinal(panel.dataset.status)) {
    panel.dataset.updates = "running";
    timer = setInterval(readStatus, pollMs);
    listen();
    if (panel.dataset.paymentStatus === "CREATED") {
      // Drawn before a method was chosen, typically just back from Snap with Midtrans's pending
      // notification on its way: look again in a moment for the payment instructions.
      setTimeout(readStatus, FIRST_LOOK_MS);
    }
  }
}());
