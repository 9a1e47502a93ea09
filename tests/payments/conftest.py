"""Fixtures for the payments tests."""
import pytest
import redis
from aiosmtpd.controller import Controller

from tests.payments.helpers import committed_payment, run_now
from tests.payments.processes import REDIS_URL, Inbox, free_port


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


@pytest.fixture
def smtp():
    """A local SMTP server on a free port: (its Inbox, its port)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def broker():
    """TEST_REDIS_URL's database, empty before and after: no messages from an earlier run."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()
