"""SQLite (the embedded default) has no row locks and ignores FOR UPDATE: the order locks (checkout's
and refunds' `locked_order`, the notification task's `lock_payment`) take the database's write lock
there, so an order's writers take turns as they do on PostgreSQL."""
import sqlite3

import pytest
from flask_migrate import upgrade

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import db
from shop.orders.lifecycle import locked_order
from shop.payments.applying import lock_payment
from tests.factories import OrderFactory, PaymentFactory


@pytest.mark.parametrize("lock", ["locked_order", "lock_payment"])
def test_another_writer_waits_until_the_order_lock_is_given_up(tmp_path, lock):
    path = tmp_path / "shop.db"
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    with shop.app_context():
        upgrade()
        payment = PaymentFactory(order=OrderFactory(total=150000), gross_amount=150000)
        db.session.commit()
        order = payment.order
        other = sqlite3.connect(path, timeout=0.2)  # another thread's connection, as under `bin/dev`
        try:
            held = locked_order(order.id) if lock == "locked_order" else lock_payment(payment.id, None)[0]
            assert held.total == 150000  # held until this transaction ends
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("UPDATE orders SET total = 1 WHERE id = ?", (order.id,))
            other.rollback()
            db.session.commit()
            other.execute("UPDATE orders SET total = 1 WHERE id = ?", (order.id,))
            other.commit()
        finally:
            other.close()
            db.session.remove()
