"""An order's life (shop.orders.lifecycle): its status from all its attempts, stock back once, paid."""
import pytest
from sqlalchemy import select

from shop.accounts.models import InboxMessage
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders import lifecycle
from shop.orders.models import OrderStatus as S
from shop.payments.models import PaymentStatus as P
from shop.payments.states import ORDER_MEANING, order_status_for
from tests.factories import OrderFactory, PaymentFactory


@pytest.mark.parametrize("attempts, expected", [
    ([(1, S.FAILED), (2, S.PENDING)], S.PENDING),
    ([(1, S.PENDING), (2, S.SUCCESS), (3, S.REVIEW)], S.SUCCESS),
    ([(1, S.REFUNDED), (2, S.PARTIALLY_REFUNDED)], S.PARTIALLY_REFUNDED),
    ([(1, S.CHARGEBACK), (2, S.REFUNDED)], S.CHARGEBACK),
    ([(1, S.REVIEW), (2, S.PENDING)], S.REVIEW),
    ([(2, S.FAILED), (1, S.EXPIRED)], S.FAILED),  # the latest attempt's failure, whatever the order given
    ([(1, S.FAILED), (3, S.CANCELLED), (2, S.EXPIRED)], S.CANCELLED),
])
def test_the_order_follows_what_its_attempts_mean(attempts, expected):
    assert lifecycle.status_from_attempts(S.PENDING, attempts) is expected


def test_every_payment_status_means_something_for_its_order():
    assert set(ORDER_MEANING) == set(P)


def _order_with(*statuses):
    order = OrderFactory()
    for attempt, status in enumerate(statuses, start=1):
        PaymentFactory(order=order, attempt=attempt, status=status)
    return order


@pytest.mark.parametrize("statuses,expected", [
    ((P.CREATED,), S.PENDING),
    ((P.PENDING,), S.PENDING),
    ((P.EXPIRED, P.PENDING), S.PENDING),  # a failed attempt does not fail the order
    ((P.PENDING, P.DENIED), S.PENDING),
    ((P.EXPIRED, P.SUCCESS), S.SUCCESS),
    ((P.SUCCESS, P.EXPIRED), S.SUCCESS),
    ((P.CHALLENGE,), S.REVIEW),
    ((P.DENIED,), S.FAILED),
    ((P.FAILED,), S.FAILED),
    ((P.DENIED, P.EXPIRED), S.EXPIRED),  # the latest attempt's failure
    ((P.EXPIRED, P.CANCELLED), S.CANCELLED),
    ((P.REFUNDED,), S.REFUNDED),
    ((P.PARTIALLY_REFUNDED,), S.PARTIALLY_REFUNDED),
    ((P.PARTIALLY_CHARGEBACK,), S.CHARGEBACK),
    ((P.CHARGEBACK, P.EXPIRED), S.CHARGEBACK),
])
def test_order_status_follows_all_attempts(statuses, expected):
    assert order_status_for(_order_with(*statuses)) is expected


def test_order_without_attempts_keeps_its_status():
    order = OrderFactory(status=S.CANCELLED)
    assert order_status_for(order) is S.CANCELLED


def _order_with_stock(stock_released=False):
    order = OrderFactory(stock_released=stock_released)
    return order, {line.product_id: line.product.stock for line in order.lines}


def _stock(product_ids):
    return dict(db.session.execute(select(Product.id, Product.stock).where(Product.id.in_(product_ids))).all())


def test_stock_goes_back_once():
    order, before = _order_with_stock()
    quantities = {line.product_id: line.quantity for line in order.lines}
    assert lifecycle.release_stock(order) is True
    assert lifecycle.release_stock(order) is False
    assert quantities and _stock(before) == {pid: before[pid] + quantities[pid] for pid in before}


@pytest.mark.parametrize("new", [S.FAILED, S.EXPIRED, S.CANCELLED])
def test_a_failed_order_gives_its_stock_back(new):
    order, _ = _order_with_stock()
    assert lifecycle.move_order(order, new, paid_at=None) is None
    assert order.status is new and order.stock_released


def test_a_paid_order_gets_its_paid_time_and_the_shoppers_message():
    order, _ = _order_with_stock()
    message = lifecycle.move_order(order, S.SUCCESS, paid_at=None)
    db.session.flush()
    assert order.paid_at is not None and not order.needs_review
    assert db.session.get(InboxMessage, message.id).order_id == order.id


def test_an_order_paid_after_its_stock_went_back_is_flagged():
    order, _ = _order_with_stock(stock_released=True)
    lifecycle.move_order(order, S.SUCCESS, paid_at=None)
    assert order.needs_review


def test_an_order_staying_where_it_is_changes_nothing():
    order, _ = _order_with_stock()
    assert lifecycle.move_order(order, S.PENDING, paid_at=None) is None
    assert not order.stock_released


def test_only_a_pending_order_expires_for_want_of_a_payment():
    order = OrderFactory(status=S.SUCCESS)
    with pytest.raises(lifecycle.OrderTransitionError):
        lifecycle.expire_without_payment(order)
    assert order.status is S.SUCCESS and not order.stock_released
