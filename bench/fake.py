"""The Midtrans fake of the test suite (tests/midtrans_fake.py) on loopback, with a fixed delay on
every status call and a count of the calls in flight at once (for reconciliation's bound)."""
import logging
import threading
import time

from tests.midtrans_fake import FakeServer


class SlowFake(FakeServer):
    def __init__(self, status_delay: float = 0.0):
        super().__init__()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per call would drown the report
        self.status_delay = status_delay
        self.in_flight = self.most_in_flight = 0
        self._count_lock = threading.Lock()
        inner = self.fake.wsgi
        self.server.app = lambda environ, start_response: self._timed(inner, environ, start_response)

    def _timed(self, inner, environ, start_response):
        is_status = environ["PATH_INFO"].endswith("/status")
        with self._count_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if is_status and self.status_delay:
                time.sleep(self.status_delay)
            return inner(environ, start_response)
        finally:
            with self._count_lock:
                self.in_flight -= 1

    def status_calls(self) -> int:
        return len(self.fake.calls("GET", "/v2/"))

    def reset(self) -> None:
        with self.fake.lock:
            self.fake.requests.clear()
        self.most_in_flight = 0
