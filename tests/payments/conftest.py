"""Fixtures for the payments tests."""
import pytest

from tests.midtrans_fake import FakeServer
from tests.payments.helpers import committed_payment, run_now


@pytest.fixture(scope="session")
def _midtrans_server():
    # One fake for the whole run: stopping a werkzeug server takes half a second each time.
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def midtrans(app, _midtrans_server, monkeypatch):
    """The fake Midtrans of tests/conftest.py, shared by the payments tests, reset per test."""
    fake = _midtrans_server
    with fake.lock:
        fake.requests.clear()
        fake.statuses.clear()
        fake.scripts.clear()
        fake.most_in_flight = 0
    monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", fake.url)
    monkeypatch.setitem(app.config, "MIDTRANS_SNAP_BASE_URL", fake.url + "/snap/v1")
    return fake


@pytest.fixture
def payment():
    """A fresh payment of 150.000 for two units of a product (stock already reserved, 3 left)."""
    return committed_payment()


@pytest.fixture
def product(payment):
    return payment.order.lines[0].product


@pytest.fixture
def process(app):
    """Run the notification task now, as a worker would; returns what the task returned."""
    run = run_now(app, "payments.process_notification")
    return lambda notification_id: run(notification_id).result


@pytest.fixture
def verify_status(app, midtrans, monkeypatch):
    """MIDTRANS_VERIFY_STATUS on, answered by the fake Midtrans (`midtrans.statuses`)."""
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", True)
    return midtrans
