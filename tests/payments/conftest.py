"""Fixtures for the payments tests."""
import pytest

from shop.extensions import db
from tests.factories import OrderFactory, PaymentFactory, ProductFactory
from tests.midtrans_fake import FakeServer


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
    monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", fake.url)
    monkeypatch.setitem(app.config, "MIDTRANS_SNAP_BASE_URL", fake.url + "/snap/v1")
    return fake


@pytest.fixture
def product():
    return ProductFactory(price=75000, stock=3)


@pytest.fixture
def payment(product):
    """A fresh payment attempt of 150.000 for two units of `product` (stock already reserved)."""
    order = OrderFactory(total=150000, lines=[], user__password_hash="not-used-here")
    order.lines.append(_line(product, 2))
    payment = PaymentFactory(order=order, gross_amount=150000)
    # Committed (to the test's savepoint), as the shop's state before any request is.
    db.session.commit()
    return payment


def _line(product, quantity):
    from shop.orders.models import OrderLine

    return OrderLine(product=product, sku=product.sku, name=product.name, unit_price=product.price,
                     quantity=quantity)


@pytest.fixture
def process(app):
    """Run the notification task now, retries included, as a worker would (eagerly)."""
    task = app.extensions["celery"].tasks["payments.process_notification"]

    def run(notification_id: int):
        result = task.apply(args=[notification_id])
        db.session.expire_all()
        return result.result

    return run


@pytest.fixture
def verify_status(app, midtrans, monkeypatch):
    """MIDTRANS_VERIFY_STATUS on, answered by the fake Midtrans (`midtrans.statuses`)."""
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", True)
    return midtrans
