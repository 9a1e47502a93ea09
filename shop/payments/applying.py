"""Applying one Midtrans status to a payment and its order. Flushes; never commits.

`apply_status` locks the order and its payments, decides through the transition table in
shop.payments.states, moves the order along (shop.orders.lifecycle), and records the
notification's outcome. The notification task calls it with ids; reconciliation and operator
replays call `apply_midtrans_status` with the objects they hold. `midtrans_truth` is what to
apply for a stored notification: Midtrans's GET status, or the signed body itself. The caller
commits and then announces the returned `OrderChange` (shop.payments.announcing).
"""
import json
import logging
from datetime import datetime
from functools import cache
from operator import attrgetter

from flask import current_app
from sqlalchemy import Select, Update, bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from shop import jakarta
from shop.extensions import db
from shop.models import utcnow
from shop.orders import lifecycle
from shop.orders.models import Order
from shop.payments import emails, gateway, ledger, states
from shop.payments.announcing import OrderChange
from shop.payments.models import MoneyEventKind, Notification, NotificationOutcome, NotificationState, Payment

log = logging.getLogger(__name__)

Outcome = NotificationOutcome
# Statuses that passed the amount and ownership checks: the money they report is recorded.
COUNTED = (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE)


def apply_midtrans_status(payment: Payment, status: dict, notification: Notification, *,
                          verified: bool = True) -> OrderChange:
    """Apply one Midtrans status to `payment` and record it on `notification`, a row of its history (flushes)."""
    db.session.flush()  # the notification row must exist: its outcome is written by id
    change = apply_status(payment.id, status, notification.id, verified=verified, actor=notification.source.actor)
    db.session.expire(notification, ["outcome", "state", "processed_at", "error"])
    return change


def apply_status(payment_id: int, status: dict, notification_id: int, *, verified: bool = True,
                 actor: str = "webhook") -> OrderChange:
    """Apply one Midtrans status to a payment under row locks and record the outcome (flushes).

    `status` is a GET-status answer (`verified`) or, with MIDTRANS_VERIFY_STATUS off, the
    signed webhook body itself. The order is always the payment's, never the status's order_id.
    The money it reports moved goes to the ledger, whatever the payment's own move.
    """
    order, payment, state = lock_payment(payment_id, notification_id)
    before = order.status
    if state is NotificationState.PROCESSED:
        return OrderChange(None, order.id, order.user_id, before, before, payment.status)
    payment_before = payment.status
    outcome = _decide(payment, status, verified)
    moved = ledger.record_movements(payment, payment_before, status, actor) if outcome in COUNTED else set()
    _follow_order(order, payment)
    if verified:
        payment.last_checked_at = utcnow()
    email_ids = emails.owe_emails(order, before, payment, payment_before)  # flushes the changes first
    if MoneyEventKind.REFUNDED in moved:
        email_ids += emails.owe_refund_emails(order.id)
    _finish(notification_id, outcome)
    return OrderChange(outcome, order.id, order.user_id, before, order.status, payment.status,
                       email_ids, money_moved=bool(moved))


def lock_payment(payment_id: int, notification_id: int | None) -> tuple[Order, Payment, NotificationState | None]:
    """Lock the order row, then all its payment rows (always in that order: no deadlocks).

    Also reads the state of the notification `notification_id` (None: no notification, no state).

    Two statements, because the second must start after the order lock is held: then it sees
    every payment attempt (pay-again inserts one under that lock) and the notification's state
    as the last holder of the lock left them. Whoever processes a notification holds its
    order's lock, so that state says whether another worker has processed it meanwhile.
    """
    lifecycle.write_lock_on_sqlite()
    order = db.session.execute(_order_lock(), {"payment_id": payment_id}).scalar_one()
    rows = db.session.execute(_payments_lock(), {"order_id": order.id, "notification_id": notification_id}).all()
    payments = [payment for payment, _ in rows]
    set_committed_value(order, "payments", sorted(payments, key=attrgetter("attempt")))
    return order, next(p for p in payments if p.id == payment_id), rows[0][1]


# The statements of the hot path are built once and bound per call: building a statement (and
# its cache key) took more of SQLAlchemy's CPU than running it.

@cache
def _order_lock() -> Select:
    """The order of the payment `payment_id`, locked."""
    order_id = select(Payment.order_id).where(Payment.id == bindparam("payment_id")).scalar_subquery()
    return select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)


@cache
def _payments_lock() -> Select:
    """The payments of the order `order_id`, locked in id order, each with notification_id's state."""
    state = select(Notification.state).where(Notification.id == bindparam("notification_id")).scalar_subquery()
    return (select(Payment, state).where(Payment.order_id == bindparam("order_id")).order_by(Payment.id)
            .with_for_update(of=Payment).execution_options(populate_existing=True))


@cache
def _transaction_holder() -> Select:
    """Another payment that holds the transaction `transaction_id`."""
    return (select(Payment.id).where(Payment.transaction_id == bindparam("transaction_id"),
                                     Payment.id != bindparam("payment_id")).limit(1))


@cache
def _outcome_update() -> Update:
    """Record the outcome of the notification `notification_id`."""
    table = Notification.__table__
    return update(table).where(table.c.id == bindparam("notification_id")).values(
        outcome=bindparam("new_outcome", type_=table.c.outcome.type), state=NotificationState.PROCESSED,
        processed_at=bindparam("now", type_=table.c.processed_at.type), error=None)


def _decide(payment: Payment, status: dict, verified: bool) -> NotificationOutcome:
    refusal = _refusal(payment, status, verified)
    if refusal is not None:
        return refusal
    try:
        event = states.PaymentEvent(states.status_for(status.get("transaction_status"), status.get("fraud_status")),
                                    states.method_of({**_stored_method(payment), **status}))
    except states.UnknownMidtransStatus as exc:
        log.warning("payment=%s %s; left for reconciliation", payment.midtrans_order_id, exc)
        return Outcome.UNKNOWN_STATUS
    expected = states.SIGNED_STATUS_CODE.get(event.status)
    if not verified and expected and status.get("status_code") != expected:
        return _flag(payment, "%s signed with status_code %r; Midtrans signs it with %r"
                     % (event.status.value, status.get("status_code"), expected))
    return _move(payment, event, status)


def _refusal(payment: Payment, status: dict, verified: bool) -> NotificationOutcome | None:
    """Amount and ownership checks that come before any move."""
    if not _amount_matches(payment, status):
        payment.amount_mismatch = True
        payment.order.needs_review = True
        log.warning("payment=%s AMOUNT MISMATCH expected=%s got=%r; flagged for an admin",
                    payment.midtrans_order_id, payment.gross_amount, status.get("gross_amount"))
        return Outcome.AMOUNT_MISMATCH
    if verified and not _belongs_to(payment, status):
        return _flag(payment, "the status answer is for another order (%r)" % status.get("order_id"))
    if _transaction_taken(payment, status.get("transaction_id")):
        return _flag(payment, "transaction %r already belongs to another payment" % status.get("transaction_id"))
    return None


def _amount_matches(payment: Payment, status: dict) -> bool:
    """The amount asked, or (Automatic Fee Imposition) more, with the amount asked as the original."""
    amount = states.parse_rupiah(status.get("gross_amount"))
    if amount == payment.gross_amount:
        return True
    original = _dig(status, "metadata", "extra_info", "gross_amount_info", "original_amount")
    return (amount is not None and amount > payment.gross_amount and isinstance(original, (str, int))
            and states.parse_rupiah(str(original)) == payment.gross_amount)


def _dig(value, *keys):
    """value[k1][k2]..., or None where a level is missing or not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _belongs_to(payment: Payment, status: dict) -> bool:
    # DANA / BI-SNAP quirk: GET status may put the transaction id where the order id belongs.
    return status.get("order_id") in (payment.midtrans_order_id, status.get("transaction_id"))


def _transaction_taken(payment: Payment, transaction_id) -> bool:
    if not transaction_id or transaction_id == payment.transaction_id:
        return False  # recorded on this payment only after this same check passed
    holder = db.session.scalar(_transaction_holder(), {"transaction_id": str(transaction_id), "payment_id": payment.id})
    return holder is not None


def _flag(payment: Payment, reason: str) -> NotificationOutcome:
    payment.order.needs_review = True
    log.warning("payment=%s REJECTED: %s; flagged for an admin", payment.midtrans_order_id, reason)
    return Outcome.REJECTED


def _move(payment: Payment, event: states.PaymentEvent, status: dict) -> NotificationOutcome:
    transaction_id = status.get("transaction_id")
    # Another transaction of the same Snap order that wins becomes the payment's own, even when its
    # status is the one we had (a second pending: a new VA number), so the first one's late failure
    # is then judged as another transaction's.
    switched = bool(payment.transaction_id and transaction_id and transaction_id != payment.transaction_id)
    try:
        if switched:
            newer = _is_newer(status.get("transaction_time"), payment.transaction_time)
            new = states.next_status_across_transactions(payment.status, event, newer)
        else:
            new = states.next_status(payment.status, event)
    except states.StaleTransition as exc:
        log.info("payment=%s stale: %s", payment.midtrans_order_id, exc)
        if event.status in states.PAID and payment.status in states.FAILED:
            # Midtrans reports money for an attempt we hold as failed: never silently dropped.
            payment.order.needs_review = True
            log.warning("payment=%s MONEY AFTER FAILURE: %s reported while %s; flagged for an admin",
                        payment.midtrans_order_id, event.status.value, payment.status.value)
        return Outcome.STALE
    except states.IllegalTransition as exc:
        return _flag(payment, str(exc))
    changed = new != payment.status or switched
    record_details(payment, status, overwrite=changed)
    payment.status = new
    return Outcome.APPLIED if changed else Outcome.DUPLICATE


def _is_newer(transaction_time, known: datetime | None) -> bool:
    when = jakarta.from_midtrans(transaction_time)
    return when is not None and (known is None or when > known)


def _stored_method(payment: Payment) -> dict:
    return {"payment_type": payment.payment_type, "store": payment.store, "va_numbers": payment.va_numbers}


def record_details(payment: Payment, status: dict, overwrite: bool) -> None:
    """Copy what Midtrans said onto the payment; a duplicate only fills in what was missing."""
    details = {
        "transaction_id": status.get("transaction_id"),
        "transaction_status": (status.get("transaction_status") or "").lower() or None,
        "fraud_status": (status.get("fraud_status") or "").lower() or None,
        "payment_type": status.get("payment_type"), "va_numbers": _va_numbers(status),
        "bill_key": status.get("bill_key"), "biller_code": status.get("biller_code"),
        "payment_code": status.get("payment_code"), "store": status.get("store"),
        "transaction_type": _transaction_type(status),
        "transaction_time": jakarta.from_midtrans(status.get("transaction_time")),
        "settlement_time": jakarta.from_midtrans(status.get("settlement_time")),
    }
    for name, value in details.items():
        if value is not None and (overwrite or getattr(payment, name) is None):
            setattr(payment, name, value)
    refund = states.parse_rupiah(status.get("refund_amount"))
    if refund is not None and refund > (payment.refund_amount or 0):
        payment.refund_amount = refund


def _transaction_type(status: dict) -> str | None:
    said = str(status.get("transaction_type") or "").lower()
    return said if said in ("on-us", "off-us") else None


def _va_numbers(status: dict) -> list | None:
    if status.get("permata_va_number"):
        return [{"bank": "permata", "va_number": str(status["permata_va_number"])}]
    numbers = status.get("va_numbers")
    return numbers if isinstance(numbers, list) and numbers else None


def _follow_order(order: Order, payment: Payment) -> None:
    """Move the order to what its payments now say (a paid order gets the shopper's inbox message)."""
    paid_at = payment.settlement_time or payment.transaction_time
    lifecycle.move_order(order, states.order_status_for(order), paid_at)


def _finish(notification_id: int, outcome: NotificationOutcome) -> None:
    # `attempts` counts starts: the task counts its own, reconcile and replay rows are made with 1.
    db.session.execute(_outcome_update(), {"notification_id": notification_id, "new_outcome": outcome, "now": utcnow()})


def midtrans_truth(notification) -> tuple[dict, bool]:
    """The status to apply for a stored notification (a row or an Attempt): GET status, or its signed body.

    True with a GET-status answer; with MIDTRANS_VERIFY_STATUS off, the body and False.
    """
    body = json.loads(notification.body)
    if not current_app.config["MIDTRANS_VERIFY_STATUS"]:
        return body, False
    # By transaction id: BI-SNAP and DANA transactions can only be looked up that way.
    return gateway.get_status(body.get("transaction_id") or notification.midtrans_order_id), True
