"""Helpers shared by the order page, dashboard and browser tests."""
from sqlalchemy import inspect
from flask import current_app, g

from shop.accounts.models import User
from shop.caching import clear_order_pages
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import PaymentStatus
from shop.signals import order_status_changed


def log_in(client, user: User) -> None:
    """Log `user` in the way Flask-Login remembers it, without the login form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    # The test's app context is reused by its requests, and Flask-Login keeps the user it loaded
    # in `g`: forget it, or the next request still sees the previous user.
    g.pop("_login_user", None)


def record_status_change(order: Order, status: OrderStatus,
                         payment_status: PaymentStatus | None = None) -> None:
    """Do what the notification task does once it applied a notification: commit, clear, signal."""
    order = db.session.get(Order, inspect(order).identity[0])  # a stream may have closed the session
    order.status = status
    if payment_status is not None:
        order.latest_payment.status = payment_status
    db.session.commit()
    clear_order_pages(order.id, order.user_id)
    order_status_changed.send(current_app._get_current_object(), order_id=order.id,
                              user_id=order.user_id, status=status)
