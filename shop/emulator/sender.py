"""Deliver notifications in the background, retrying the way Midtrans does.

Midtrans's policy by the answer's status code: 2xx stops; 500 gets one retry; 503 four;
400 and 404 two; 301/302/303 none (redirects are unsupported); 307/308 are followed with the
same POST up to five times; anything else -- other codes, timeouts, refused connections --
five. Midtrans waits 2, 10, 30, 90 and 210 minutes between tries; the emulator waits
MIDTRANS_EMULATOR_RETRY_DELAYS seconds instead. Each notification's retries run on their
own, so a failing pending notification does not hold back the settlement after it.
"""
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests

log = logging.getLogger(__name__)

RETRIES_BY_ANSWER = {500: 1, 503: 4, 400: 2, 404: 2, 301: 0, 302: 0, 303: 0}
MAX_RETRIES = 5
MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 15
HEADERS = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "Veritrans"}

OnAttempt = Callable[[dict, str, int, str], None]


def retries_for(answer: int | None) -> int:
    """How many times Midtrans tries again after this answer (None: no answer at all)."""
    if answer is not None and 200 <= answer < 300:
        return 0
    return RETRIES_BY_ANSWER.get(answer, MAX_RETRIES)


def post_notification(url: str, body: dict) -> tuple[int | None, str]:
    """POST `body` once, following 307/308 like Midtrans; return (status code or None, summary)."""
    payload = json.dumps(body)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = requests.post(url, data=payload, headers=HEADERS, timeout=TIMEOUT_SECONDS,
                                     allow_redirects=False)
        except requests.RequestException as exc:
            return None, type(exc).__name__
        location = response.headers.get("Location")
        if response.status_code not in (307, 308) or not location:
            return response.status_code, str(response.status_code)
        url = urljoin(url, location)
    return None, "too many redirects"


@dataclass
class Delivery:
    """One notification to one URL, with its retries."""

    url: str
    body: dict
    delays: tuple
    on_attempt: OnAttempt
    stop: threading.Event
    answers: list = field(default_factory=list)
    first_attempt_done: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            self._attempt_until_done()
        finally:
            self.first_attempt_done.set()
            self.finished.set()

    def _attempt_until_done(self) -> None:
        attempt = 1
        while True:
            code, summary = post_notification(self.url, self.body)
            self.answers.append(code)
            retries_left = retries_for(code) - (attempt - 1)
            log.info("emulator notification order_id=%s status=%s url=%s attempt=%d answer=%s retries_left=%d",
                     self.body.get("order_id"), self.body.get("transaction_status"), self.url, attempt,
                     summary, retries_left)
            self.on_attempt(self.body, self.url, attempt, summary)
            self.first_attempt_done.set()
            if retries_left <= 0 or self.stop.wait(self.delays[min(attempt - 1, len(self.delays) - 1)]):
                return
            attempt += 1


@dataclass
class Dispatch:
    """Every delivery started for one sequence of notifications; `wait` blocks until all ended."""

    deliveries: list = field(default_factory=list)
    started_all: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Give up every retry still waiting (an attempt under way still finishes)."""
        self.stop.set()

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.started_all.wait(timeout):
            return False
        return all(d.finished.wait(max(0.0, deadline - time.monotonic())) for d in self.deliveries)


def send_in_background(bodies: list[dict], urls: list[str], delays: tuple,
                       on_send: Callable[[dict], None], on_attempt: OnAttempt) -> Dispatch:
    """Send `bodies` in order to every URL; `on_send(body)` runs just before each one goes out."""
    dispatch = Dispatch()

    def run_sequence() -> None:
        try:
            for body in bodies:
                on_send(body)
                started = [_start(Delivery(url, body, delays, on_attempt, dispatch.stop), dispatch) for url in urls]
                # The next notification leaves only after this one's first try, like Midtrans's order.
                for delivery in started:
                    delivery.first_attempt_done.wait()
        finally:
            dispatch.started_all.set()

    threading.Thread(target=run_sequence, name="emulator-notify", daemon=True).start()
    return dispatch


def _start(delivery: Delivery, dispatch: Dispatch) -> Delivery:
    dispatch.deliveries.append(delivery)
    threading.Thread(target=delivery.run, name="emulator-delivery", daemon=True).start()
    return delivery
