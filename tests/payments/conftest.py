"""Fixtures for the payments tests."""
import pytest

from shop.extensions import db
from tests.factories import OrderFactory, PaymentFactory, ProductFactory


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
    """Run the notification task's body in this test's session, as a worker would."""
    task = app.extensions["celery"].tasks["payments.process_notification"]

    def run(notification_id: int):
        result = task.run(notification_id)
        db.session.expire_all()
        return result

    return run


@pytest.fixture
def verify_status(app, midtrans, monkeypatch):
    """MIDTRANS_VERIFY_STATUS on, answered by the fake Midtrans (`midtrans.statuses`)."""
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", True)
    return midtrans
