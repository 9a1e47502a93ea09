"""Migration 0009: a receipt still owed under the old columns becomes an outbox row the sweeper sends."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import db

ROWS = [  # inbox message id, order id, e-mailed
    (1, 7, False), (2, 7, False), (3, 7, True), (4, 8, True), (5, None, False)]


def test_owed_receipts_are_carried_over_once_per_order(tmp_path):
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}"))
    with shop.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO users (id, email, name, password_hash, is_admin, session_version, "
                                    "created_at) VALUES (1, 'a@contoh.id', 'A', 'x', 0, 1, '2026-12-03 00:00:00+00')"))
            for order_id in (7, 8):
                connection.execute(text(
                    "INSERT INTO orders (id, user_id, status, total, shipping_name, shipping_phone, shipping_address, "
                    "stock_released, needs_review, created_at, updated_at) VALUES (:id, 1, 'SUCCESS', 1, 'a', 'b', "
                    "'c', 0, 0, '2026-12-03 00:00:00+00', '2026-12-03 00:00:00+00')"), {"id": order_id})
            for message_id, order_id, emailed in ROWS:
                connection.execute(text(
                    "INSERT INTO inbox_messages (id, user_id, order_id, text, created_at, emailed_at) VALUES "
                    "(:id, 1, :order_id, 't', :created, :emailed)"),
                    {"id": message_id, "order_id": order_id, "created": f"2026-12-03 00:00:0{message_id}+00",
                     "emailed": "2026-12-03 00:01:00+00" if emailed else None})
        upgrade()
        with db.engine.begin() as connection:
            rows = connection.execute(text("SELECT kind, key, created_at, outcome FROM email_outbox")).all()
        assert rows == [("order.paid", "order:7", "2026-12-03 00:00:01+00", None)]
        downgrade(revision="0007")
        upgrade()
