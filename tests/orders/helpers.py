"""Helpers shared by the order page, dashboard and browser tests."""
import pytest
from sqlalchemy import inspect
from flask import current_app, g

from shop.accounts.models import User
from shop.caching import clear_order_pages
from shop.extensions import db, login_manager
from shop.orders.models import Order, OrderStatus
from shop.payments.models import PaymentStatus
from shop.signals import order_status_changed


def load_user(user_id: str) -> User | None:
    """Stand-in for the accounts feature's user_loader, same "id:session_version" format."""
    user_pk, _, version = user_id.partition(":")
    user = db.session.get(User, int(user_pk)) if user_pk.isdigit() else None
    return user if user is not None and str(user.session_version) == version else None


def ensure_user_loader() -> None:
    """Until the login feature is merged, give Flask-Login a loader (the real one wins once it exists)."""
    if login_manager._user_callback is None:
        login_manager.user_loader(load_user)


@pytest.fixture(autouse=True)
def user_loader():
    ensure_user_loader()


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
