"""Fixtures for the payments tests."""
import pytest

from tests.payments.helpers import committed_payment, run_now


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
