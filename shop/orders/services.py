"""Reading orders for their pages: the shopper's own, and every order for the dashboard."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.extensions import db
from shop.formatting import JAKARTA
from shop.models import utcnow
from shop.numbers import ascii_digits
from shop.orders.models import Order, OrderStatus
from shop.payments.models import Notification, Payment, PaymentStatus

ORDERS_PER_PAGE = 10
# Order states from which a failed or expired attempt may be followed by a new one.
PAYABLE_AGAIN = (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.EXPIRED)
FAILED_ATTEMPT = (PaymentStatus.DENIED, PaymentStatus.FAILED, PaymentStatus.EXPIRED)
# Attempts the shopper can still act on (a challenged or authorised card waits for us, not them).
AWAITING_SHOPPER = (PaymentStatus.CREATED, PaymentStatus.PENDING)

PAYMENT_METHODS = {
    "bank_transfer": "Transfer Virtual Account",
    "echannel": "Mandiri Bill Payment",
    "cstore": "Bayar di gerai",
    "credit_card": "Kartu kredit/debit",
    "gopay": "GoPay",
    "qris": "QRIS",
    "shopeepay": "ShopeePay",
    "akulaku": "Akulaku",
    "kredivo": "Kredivo",
}


@dataclass
class PaymentInstructions:
    """What the shopper needs to pay one attempt, as the order page shows it."""

    method: str
    amount: int
    va_numbers: list[dict] = field(default_factory=list)
    bill_key: str | None = None
    biller_code: str | None = None
    payment_code: str | None = None
    store: str | None = None
    continue_url: str | None = None
    expires_at: datetime | None = None
    expired: bool = False


def get_order_for(user: User, order_id: int) -> Order:
    """Load one of `user`'s orders, or answer 404 (also for someone else's: ids leak nothing)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id, Order.user_id == user.id))
    if order is None:
        abort(404)
    return order


def get_order_by_midtrans_id(user: User, midtrans_order_id: str) -> Order:
    """Load the order of one of `user`'s payment attempts by its Midtrans order id, or 404."""
    order = db.session.scalar(
        select(Order).join(Payment, Payment.order_id == Order.id)
        .where(Payment.midtrans_order_id == midtrans_order_id, Order.user_id == user.id))
    if order is None:
        abort(404)
    return order


def list_orders_for(user: User, page: int) -> Pagination:
    """One page of `user`'s orders, newest first."""
    query = (select(Order).where(Order.user_id == user.id)
             .options(selectinload(Order.lines))
             .order_by(Order.created_at.desc(), Order.id.desc()))
    return db.paginate(query, page=page, per_page=ORDERS_PER_PAGE, error_out=False)


def order_status(order_id: int) -> OrderStatus:
    """The order's status as stored now (never cached, never asked from Midtrans)."""
    return db.session.scalar(select(Order.status).where(Order.id == order_id))


def order_stamp(order: Order) -> str:
    """Changes whenever the order row changes: tells a cached page it is out of date."""
    return f"{order.status.value}@{order.updated_at.isoformat()}"


def orders_stamp(user: User | None = None) -> str:
    """Changes when one of the orders (of `user`, or of anyone) is added or changed."""
    query = select(func.count(Order.id), func.max(Order.updated_at))
    if user is not None:
        query = query.where(Order.user_id == user.id)
    count, latest = db.session.execute(query).one()
    return f"{count}@{latest}"


def can_pay_again(order: Order) -> bool:
    """Whether the shopper may start a new attempt: the last one failed or expired."""
    latest = order.latest_payment
    return (order.status in PAYABLE_AGAIN and latest is not None
            and latest.status in FAILED_ATTEMPT)


def payment_method(payment: Payment) -> str:
    name = PAYMENT_METHODS.get(payment.payment_type or "", payment.payment_type or "Belum dipilih")
    banks = [v.get("bank", "").upper() for v in payment.va_numbers or [] if v.get("bank")]
    if payment.payment_type == "bank_transfer" and banks:
        return f"{name} {', '.join(banks)}"
    if payment.store:
        return f"{name} {payment.store.capitalize()}"
    return name


def payment_instructions(order: Order) -> PaymentInstructions | None:
    """What to pay for the latest attempt, or None once the order no longer waits for money."""
    payment = order.latest_payment
    if payment is None or order.status.is_final or payment.status not in AWAITING_SHOPPER:
        return None
    expired = payment.expires_at is not None and payment.expires_at <= utcnow()
    return PaymentInstructions(
        method=payment_method(payment), amount=payment.gross_amount,
        va_numbers=list(payment.va_numbers or []), bill_key=payment.bill_key,
        biller_code=payment.biller_code, payment_code=payment.payment_code, store=payment.store,
        continue_url=None if expired else payment.redirect_url,
        expires_at=payment.expires_at, expired=expired)


def get_order_for_admin(order_id: int) -> Order:
    """Load any order, or answer 404 (the dashboard is for admins only)."""
    return db.get_or_404(Order, order_id)


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
    search: str = ""  # an order id, a Midtrans order id or part of an e-mail address
    attention_only: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.status or self.date_from or self.date_to or self.search or self.attention_only)


def search_orders(filters: OrderFilter, page: int) -> Pagination:
    """One page of the orders matching `filters`, newest first."""
    query = (_filtered(filters)
             .options(selectinload(Order.user), selectinload(Order.payments))
             .order_by(Order.created_at.desc(), Order.id.desc()))
    return db.paginate(query, page=page, per_page=DASHBOARD_PER_PAGE, error_out=False)


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
        query = query.where(Order.created_at >= _start_of_day(filters.date_from))
    if filters.date_to:
        query = query.where(Order.created_at < _start_of_day(filters.date_to + timedelta(days=1)))
    if filters.search:
        query = query.where(_matches(filters.search))
    if filters.attention_only:
        query = query.where(_attention())
    return query


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=JAKARTA)


def _matches(search: str):
    """A number is an order id; anything else a Midtrans order id or part of an e-mail address."""
    term = search.strip().lstrip("#")
    attempts = select(Payment.order_id).where(Payment.midtrans_order_id == term)
    if ascii_digits(term):
        return or_(Order.id == int(term), Order.id.in_(attempts)) if len(term) <= LONGEST_ORDER_ID \
            else Order.id.in_(attempts)
    emails = select(User.id).where(func.lower(User.email).contains(term.lower(), autoescape=True))
    return or_(Order.id.in_(attempts), Order.user_id.in_(emails))


def _attention():
    mismatched = select(Payment.order_id).where(Payment.amount_mismatch.is_(True))
    return or_(Order.needs_review.is_(True), Order.status == OrderStatus.REVIEW,
               Order.id.in_(mismatched))
