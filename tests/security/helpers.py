"""What the security tests share: the state a refused request must leave alone, and how it must answer."""
from sqlalchemy import func, select

from shop.accounts.models import InboxMessage
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.models import Notification, Payment


def stored_notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def shop_state() -> tuple:
    """Everything a notification could change: stored rows, statuses, stock, inbox messages."""
    db.session.expire_all()
    return (
        stored_notifications(),
        tuple(db.session.execute(select(Payment.id, Payment.status, Payment.amount_mismatch).order_by(Payment.id))),
        tuple(db.session.execute(select(Order.id, Order.status, Order.needs_review, Order.paid_at).order_by(Order.id))),
        tuple(db.session.execute(select(Product.id, Product.stock).order_by(Product.id))),
        db.session.scalar(select(func.count()).select_from(InboxMessage)),
    )


def assert_refused_as_json(response) -> None:
    """A 4xx with a JSON error body: never a 5xx, never a success."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    assert response.is_json, response.headers.get("Content-Type")
    assert isinstance(response.get_json().get("error"), str)
