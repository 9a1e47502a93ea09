"""Reconciliation: asking Midtrans what became of payments, and applying its answer.

The beat job claims the open payments due a GET status (`start_reconcile_run`) and expires
orders whose checkout never opened a payment; each claimed payment is then re-checked
(`recheck_payment`), as the dashboard and `flask midtrans reconcile` do for one payment. An
operator can also replay a stored notification (`replay_notification`). Everything here runs in
the caller's transaction and flushes; the task, view or CLI commits, then announces.

Two runs never overlap (shop.payments.run_lock), and the rows one claims are skipped by a
concurrent claim (`FOR UPDATE SKIP LOCKED`). On SQLite (the embedded single-process shop) the
claim's timestamps alone keep a payment from being asked twice in a row.
"""
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, or_, select, update

from shop.extensions import db
from shop.models import utcnow
from shop.orders import lifecycle
from shop.orders.models import Order, OrderStatus
from shop.payments import gateway, states
from shop.payments.announcing import OrderChange
from shop.payments.applying import apply_midtrans_status, lock_payment, midtrans_truth
from shop.payments.models import Notification, NotificationSource, Payment, PaymentStatus
from shop.payments.receiving import summary_columns
from shop.payments.run_lock import take_run_lock

log = logging.getLogger(__name__)


@dataclass
class ReconcileRun:
    """The payments a run claimed for a GET status, and the orphaned orders it expired."""

    payment_ids: list[int] = field(default_factory=list)
    orphans: list[OrderChange] = field(default_factory=list)


def start_reconcile_run(limit: int) -> ReconcileRun | None:
    """Claim up to `limit` stale payments and expire orphaned orders; None if a run is going on."""
    if not take_run_lock("reconcile"):
        log.info("reconcile run skipped: another run holds the lock")
        return None
    run = ReconcileRun(payment_ids=claim_stale_payments(limit))
    for order_id in orphaned_order_ids(limit):
        change = expire_orphaned_order(order_id)
        if change is not None:
            run.orphans.append(change)
    return run


def claim_stale_payments(limit: int) -> list[int]:
    """The open payments due a GET status, least recently asked first, marked as asked now."""
    config, now = current_app.config, utcnow()
    old_enough = now - timedelta(minutes=config["RECONCILE_MIN_AGE_MINUTES"])
    asked_recently = now - timedelta(minutes=config["RECONCILE_RECHECK_MINUTES"])
    ids = db.session.scalars(
        select(Payment.id)
        .where(Payment.status.in_(states.OPEN),
               or_(Payment.created_at <= old_enough, Payment.expires_at <= now),
               or_(Payment.last_checked_at.is_(None), Payment.last_checked_at <= asked_recently))
        .order_by(func.coalesce(Payment.last_checked_at, Payment.created_at), Payment.id)
        .limit(limit).with_for_update(skip_locked=True)).all()
    if ids:
        # Marked now, so the next run asks others first even before these tasks ran.
        db.session.execute(update(Payment).where(Payment.id.in_(ids))
                           .values(last_checked_at=now, updated_at=Payment.updated_at)
                           .execution_options(synchronize_session=False))
    return list(ids)


def orphaned_order_ids(limit: int, order_id: int | None = None) -> list[int]:
    """PENDING orders older than ORPHAN_ORDER_MINUTES that never got a payment attempt."""
    cutoff = utcnow() - timedelta(minutes=current_app.config["ORPHAN_ORDER_MINUTES"])
    query = (select(Order.id)
             .where(Order.status == OrderStatus.PENDING, Order.created_at <= cutoff,
                    ~exists().where(Payment.order_id == Order.id))
             .order_by(Order.id).limit(limit))
    if order_id is not None:
        query = query.where(Order.id == order_id)
    return list(db.session.scalars(query))


class PaymentNotFound(LookupError):
    """No payment has this id."""


class NotificationNotFound(LookupError):
    """No stored notification has this id."""


NOT_FOUND = "NOT_FOUND"  # Midtrans knows no transaction (yet): nothing applied


@dataclass(frozen=True)
class PaymentCheck:
    """What a GET status or a replay did to one payment, for the caller to print or show."""

    payment_id: int
    midtrans_order_id: str
    before: PaymentStatus
    result: str  # a NotificationOutcome value, or NOT_FOUND
    change: OrderChange | None
    notification_id: int | None  # the history row it was recorded as

    @property
    def after(self) -> PaymentStatus:
        return self.change.payment_status if self.change else self.before

    def describe(self) -> str:
        line = f"payment {self.payment_id} {self.midtrans_order_id}: {self.before.value} -> {self.after.value}"
        if self.change is not None and self.change.order_changed:
            line += f", order {self.change.order_id} {self.change.before.value} -> {self.change.after.value}"
        return f"{line} [{self.result}]"


def recheck_payment(payment_id: int) -> PaymentCheck:
    """Ask Midtrans's GET status about one payment and apply it like a notification (flushes)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment has the id {payment_id}")
    before = payment.status
    try:
        status = status_at_midtrans(payment)
    except gateway.MidtransNotFound:
        status = _local_expiry(payment)
        if status is None:
            payment.last_checked_at = utcnow()
            return PaymentCheck(payment.id, payment.midtrans_order_id, before, NOT_FOUND, None, None)
    lock_payment(payment.id, None)  # before the history row: see add_history
    notification = add_history(payment, status, NotificationSource.RECONCILE)
    change = apply_midtrans_status(payment, status, notification)
    return PaymentCheck(payment.id, payment.midtrans_order_id, before, _result(change), change, notification.id)


def status_at_midtrans(payment: Payment) -> dict:
    """GET status by Midtrans order id (its latest transaction), else by the known transaction id."""
    try:
        return gateway.get_status(payment.midtrans_order_id)
    except gateway.MidtransNotFound:
        if not payment.transaction_id:
            raise
        # BI-SNAP and DANA transactions can only be found by their transaction id.
        return gateway.get_status(payment.transaction_id)


def _local_expiry(payment: Payment) -> dict | None:
    """The status to record when Midtrans knows no transaction: expired once the Snap page is over.

    Before any method is chosen Midtrans answers 404; after the Snap expiry (plus a grace for
    clocks and Midtrans's indexing) no method can be chosen any more, so the attempt is over.
    A payment that already had a transaction is never expired on a 404: an admin looks.
    """
    if payment.status is not PaymentStatus.CREATED:
        if payment.status.is_open:
            log.warning("payment=%s is %s but Midtrans does not know it; left as it is",
                        payment.midtrans_order_id, payment.status.value)
        return None
    if utcnow() < snap_deadline(payment):
        log.info("payment=%s no method chosen yet (Midtrans 404); Snap still open", payment.midtrans_order_id)
        return None
    return {"order_id": payment.midtrans_order_id, "transaction_status": "expire", "status_code": "404",
            "gross_amount": f"{payment.gross_amount}.00",
            "status_message": "Midtrans does not know this order and its Snap expiry has passed: "
                              "expired by the shop's reconciliation"}


def snap_deadline(payment: Payment) -> datetime:
    """When the shop may expire a Snap attempt Midtrans never saw a method for."""
    config = current_app.config
    expires = payment.expires_at or payment.created_at + timedelta(minutes=config["PAYMENT_EXPIRY_MINUTES"])
    return expires + timedelta(minutes=config["RECONCILE_EXPIRY_GRACE_MINUTES"])


def add_history(payment: Payment, fields: dict, source: NotificationSource, body: str | None = None) -> Notification:
    """Record a status the shop fetched or replayed in the notifications' history (flushes).

    Call it holding lock_payment's locks: inserting the row key-share locks its payment, and a
    check of another payment of the same order that holds the order's lock and waits for all its
    payments would then wait for this transaction while this one waits for the order: a deadlock.
    """
    now = utcnow()
    notification = Notification(payment=payment, source=source, attempts=1, last_attempt_at=now, received_at=now,
                                body=body if body is not None else json.dumps(fields, ensure_ascii=False),
                                # The row is this payment's, whatever the body says (it may lack order_id).
                                **{**summary_columns(fields), "midtrans_order_id": payment.midtrans_order_id})
    db.session.add(notification)
    db.session.flush()
    return notification


def _result(change: OrderChange) -> str:
    return change.outcome.value if change.outcome else "ALREADY_PROCESSED"


def replay_notification(notification_id: int) -> PaymentCheck:
    """Apply a stored notification again, as the task would, recorded as a REPLAY (flushes)."""
    stored = db.session.get(Notification, notification_id)
    if stored is None:
        raise NotificationNotFound(f"no notification has the id {notification_id}")
    payment = stored.payment
    before = payment.status
    status, verified = midtrans_truth(stored)
    lock_payment(payment.id, None)  # before the history row: see add_history
    replay = add_history(payment, json.loads(stored.body), NotificationSource.REPLAY, body=stored.body)
    change = apply_midtrans_status(payment, status, replay, verified=verified)
    log.info("notification=%s replayed as notification=%s outcome=%s", stored.id, replay.id, _result(change))
    return PaymentCheck(payment.id, payment.midtrans_order_id, before, _result(change), change, replay.id)


def expire_orphaned_order(order_id: int) -> OrderChange | None:
    """Expire a PENDING order whose checkout never opened a payment; its stock goes back (flushes).

    Checkout commits the order, then the payment: a crash in between leaves such an order. Locking
    the order waits for a payment insert in flight (its foreign key takes a share lock on the order).
    """
    order = lifecycle.locked_order(order_id)
    if order is None or order.status is not OrderStatus.PENDING:
        return None
    if order.payments:
        return None
    before = order.status
    lifecycle.expire_without_payment(order)
    log.info("order=%s had no payment attempt: %s -> %s, stock released", order.id, before.value, order.status.value)
    return OrderChange(None, order.id, order.user_id, before, order.status, None)
