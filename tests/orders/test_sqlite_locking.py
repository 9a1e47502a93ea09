"""SQLite (the embedded default) has no row locks and ignores FOR UPDATE: `locked_order` takes the
database's write lock there, so an order's writers take turns as they do on PostgreSQL."""
import sqlite3

import pytest
from flask_migrate import upgrade

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import db
from shop.orders.lifecycle import locked_order
from tests.factories import OrderFactory


def test_another_writer_waits_until_the_order_lock_is_given_up(tmp_path):
    path = tmp_path / "shop.db"
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    with shop.app_context():
        upgrade()
        order = OrderFactory(total=150000)
        db.session.commit()
        other = sqlite3.connect(path, timeout=0.2)  # another thread's connection, as under `bin/dev`
        try:
            assert locked_order(order.id).total == 150000  # held until this transaction ends
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("UPDATE orders SET total = 1 WHERE id = ?", (order.id,))
            other.rollback()
            db.session.commit()
            other.execute("UPDATE orders SET total = 1 WHERE id = ?", (order.id,))
            other.commit()
        finally:
            other.close()
            db.session.remove()
