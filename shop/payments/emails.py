"""The shopper's e-mails about an order's payment, through the outbox (shop.outbox.services).

`owe_emails` adds the e-mails a change makes due in the change's own transaction; after its
commit the announcement queues them. Each is written when it is sent, from what the database says
then: a reminder to pay for an attempt that is no longer pending says nothing and is skipped.
"""
from flask import current_app
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop import vocabulary
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.outbox import services as outbox
from shop.payments import instructions
from shop.payments.models import MoneyEvent, MoneyEventKind, Payment, PaymentStatus

AWAITING = "order.awaiting_payment"  # key payment:<id>: how to pay, the amount and the deadline
PAID = "order.paid"  # key order:<id>: the receipt
FAILED = "order.payment_failed"  # key payment:<id>: failed or expired, with the way to pay again
REFUNDED = "order.refunded"  # key refund:<money event id>: one bank-confirmed refund (or manual bank refund)
ENDED = {OrderStatus.FAILED, OrderStatus.EXPIRED}  # an attempt that ended unpaid: the way to pay again


def owe_emails(order: Order, order_before: OrderStatus, payment: Payment,
               payment_before: PaymentStatus) -> tuple[int, ...]:
    """Add the e-mails this change of `payment` and its order makes due (flushes); the new rows' ids."""
    due = []
    if payment.status is PaymentStatus.PENDING and payment_before is PaymentStatus.CREATED:
        due.append((AWAITING, f"payment:{payment.id}"))
    if order.status is not order_before and order.status is OrderStatus.SUCCESS:
        due.append((PAID, f"order:{order.id}"))
    if order.status is not order_before and order.status in ENDED:
        due.append((FAILED, f"payment:{payment.id}"))
    return tuple(filter(None, (outbox.add(kind, key) for kind, key in due)))


def owe_refund_emails(order_id: int) -> tuple[int, ...]:
    """Owe the shopper one e-mail per bank-confirmed refund of the order (flushes); the new rows' ids."""
    refunds = db.session.scalars(select(MoneyEvent.id).where(
        MoneyEvent.order_id == order_id, MoneyEvent.kind == MoneyEventKind.REFUNDED)).all()
    return tuple(filter(None, (outbox.add(REFUNDED, f"refund:{i}") for i in refunds)))


@outbox.renders(AWAITING)
def awaiting_payment(key: str) -> Message | None:
    """How to pay an attempt that waits for the shopper's money, or None once it no longer does."""
    payment = _payment(key)
    order = payment.order
    if order.latest_payment is not payment or (how := instructions.payment_instructions(order)) is None:
        return None
    return _message(f"Menunggu pembayaran pesanan #{order.id}", "order_awaiting", order,
                    how=how, payment=payment)


@outbox.renders(PAID)
def paid(key: str) -> Message | None:
    """The receipt of a paid order: its lines, the amount, the method and when it was paid."""
    order = _order(int(key.removeprefix("order:")))
    if order.paid_at is None:
        return None
    return _message(f"Pembayaran pesanan #{order.id} sudah diterima", "payment_success", order,
                    method=_paid_method(order))


@outbox.renders(FAILED)
def payment_failed(key: str) -> Message | None:
    """A failed or expired attempt with the way to pay again, or None once the shopper cannot or need not."""
    payment = _payment(key)
    order = payment.order
    if order.latest_payment is not payment or not instructions.can_pay_again(order):
        return None
    why = vocabulary.order_status_label(order.status if order.status in ENDED else OrderStatus.FAILED).lower()
    return _message(f"Pembayaran pesanan #{order.id} {why}", "payment_failed", order, payment=payment, why=why)


@outbox.renders(REFUNDED)
def refunded(key: str) -> Message:
    """What went back to the shopper, how and why."""
    refund = db.session.get(MoneyEvent, int(key.removeprefix("refund:")))
    order = _order(refund.order_id)
    return _message(f"Dana pesanan #{order.id} sudah dikembalikan", "refund_confirmed", order, refund=refund)


def _paid_method(order: Order) -> str | None:
    unpaid = (*instructions.FAILED_ATTEMPT, *instructions.AWAITING_SHOPPER, PaymentStatus.CANCELLED)
    payment = next((p for p in reversed(order.payments) if p.status not in unpaid), order.latest_payment)
    return instructions.payment_method(payment) if payment else None


def _payment(key: str) -> Payment:
    payment = db.session.get(Payment, int(key.removeprefix("payment:")))
    _order(payment.order_id)
    return payment


def _order(order_id: int) -> Order:
    return db.session.get(Order, order_id, options=[joinedload(Order.user), selectinload(Order.lines),
                                                    selectinload(Order.payments)])


def _message(subject: str, template: str, order: Order, **context) -> Message:
    context = dict(order=order, order_url=f"{current_app.config['BASE_URL']}/orders/{order.id}", **context)
    return Message(subject=subject, recipients=[order.user.email],
                   body=outbox.render_template(f"emails/{template}.txt", **context),
                   html=outbox.render_template(f"emails/{template}.html", **context))
