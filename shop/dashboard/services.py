"""The dashboard's reading of orders: search and totals over every order, one order's attempts and notifications."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, String, case, cast, func, or_, select
from sqlalchemy.orm import selectinload

from shop import jakarta
from shop.accounts.models import User
from shop.extensions import db
from shop.numbers import ascii_digits
from shop.orders.models import Order, OrderStatus
from shop.orders.services import order_stamp
from shop.payments.models import Notification, Payment


def order_detail_stamp(order: Order) -> str:
    """Changes when the order, one of its attempts or their notifications change."""
    row = db.session.execute(
        select(func.max(Payment.updated_at), func.count(Notification.id),
               func.count(Notification.processed_at), func.max(Notification.id))
        .select_from(Payment).outerjoin(Notification, Notification.payment_id == Payment.id)
        .where(Payment.order_id == order.id)).one()
    return order_stamp(order) + "|" + "|".join(str(value) for value in row)


def attempt_of(order: Order, payment_id: int) -> Payment:
    """One payment attempt of `order`, or 404."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.order_id != order.id:
        abort(404)
    return payment


def notification_of(order: Order, notification_id: int) -> Notification:
    """One stored notification for an attempt of `order`, or 404."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.payment.order_id != order.id:
        abort(404)
    return notification


def notification_history(order: Order) -> list:
    """Every notification received for any attempt of `order`, oldest first."""
    notes = [n for payment in order.payments for n in payment.notifications]
    return sorted(notes, key=lambda n: (n.received_at, n.id))


def needs_attention(order: Order) -> bool:
    """Held for review (card challenge) or paid a different amount than asked."""
    return (order.needs_review or order.status == OrderStatus.REVIEW
            or any(p.amount_mismatch for p in order.payments))


DASHBOARD_PER_PAGE = 20
LONGEST_ORDER_ID = 9  # digits; a longer number cannot be one of our ids (and would overflow INTEGER)


@dataclass
class OrderFilter:
    """The dashboard's filters; all empty means every order."""

    status: OrderStatus | None = None
    date_from: date | None = None  # inclusive, a day in Jakarta time
    date_to: date | None = None  # inclusive
    search: str = ""  # part of an order id ("#12": that order), a Midtrans order id, a buyer's name or e-mail
    attention_only: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.status or self.date_from or self.date_to or self.search or self.attention_only)


def search_orders(filters: OrderFilter, page: int) -> Pagination:
    """One page of the orders matching `filters`, newest first."""
    return db.paginate(listed_orders(filters), page=page, per_page=DASHBOARD_PER_PAGE, error_out=False)


def listed_orders(filters: OrderFilter) -> Select:
    """The orders matching `filters` with their buyer and attempts, newest first."""
    return (_filtered(filters)
            .options(selectinload(Order.user), selectinload(Order.payments))
            .order_by(Order.created_at.desc(), Order.id.desc()))


def order_totals(filters: OrderFilter) -> dict[str, int]:
    """How many orders match, what they are worth, and how much of that was paid."""
    paid = case((Order.status == OrderStatus.SUCCESS, Order.total), else_=0)
    count, value, paid_value = db.session.execute(_filtered(filters).with_only_columns(
        func.count(Order.id), func.coalesce(func.sum(Order.total), 0),
        func.coalesce(func.sum(paid), 0))).one()
    return {"count": count, "value": int(value), "paid": int(paid_value)}


def count_needing_attention() -> int:
    """Orders held for review or with an amount mismatch, over the whole shop."""
    return db.session.scalar(select(func.count(Order.id)).where(_attention()))


def _filtered(filters: OrderFilter) -> Select:
    query = select(Order)
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.date_from:
        query = query.where(Order.created_at >= jakarta.start_of_day(filters.date_from))
    if filters.date_to:
        query = query.where(Order.created_at < jakarta.start_of_day(filters.date_to + timedelta(days=1)))
    if filters.search:
        query = query.where(_matches(filters.search))
    if filters.attention_only:
        query = query.where(_attention())
    return query


def _matches(search: str):
    """Any part of the order id, of an attempt's Midtrans order id, of the buyer's name or e-mail,
    in any case; "#12" is order 12 alone."""
    term = search.strip()
    if term.startswith("#") and ascii_digits(term[1:]) and len(term) <= LONGEST_ORDER_ID + 1:
        return Order.id == int(term[1:])
    term = term.lstrip("#")
    attempts = select(Payment.order_id).where(_contains(Payment.midtrans_order_id, term))
    buyers = select(User.id).where(or_(_contains(User.name, term), _contains(User.email, term)))
    return or_(_contains(cast(Order.id, String), term), Order.id.in_(attempts), Order.user_id.in_(buyers))


def _contains(column, term: str):
    return func.lower(column).contains(term.lower(), autoescape=True)


def _attention():
    mismatched = select(Payment.order_id).where(Payment.amount_mismatch.is_(True))
    return or_(Order.needs_review.is_(True), Order.status == OrderStatus.REVIEW,
               Order.id.in_(mismatched))
