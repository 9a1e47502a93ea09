"""The Midtrans fake of the test suite (tests/midtrans_fake.py) on loopback, with a fixed delay on
every status call; the fake itself counts the calls in flight at once (for reconciliation's bound)."""
import logging
import time

from tests.midtrans_fake import FakeServer


class SlowFake(FakeServer):
    def __init__(self, status_delay: float = 0.0):
        super().__init__()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per call would drown the report
        self.status_delay = status_delay
        answer = self.fake.default
        self.fake.default = lambda method, path, body: self._late(answer, method, path, body)

    def _late(self, answer, method: str, path: str, body: str):
        if path.endswith("/status") and self.status_delay:
            time.sleep(self.status_delay)
        return answer(method, path, body)

    @property
    def most_in_flight(self) -> int:
        return self.fake.most_in_flight

    def status_calls(self) -> int:
        return len(self.fake.calls("GET", "/v2/"))

    def reset(self) -> None:
        with self.fake.lock:
            self.fake.requests.clear()
            self.fake.most_in_flight = 0
