"""Storing Midtrans notifications, reconciliation's operations, and announcing changes.

Flushes and never commits, but for `record_notification`, whose statement commits itself.

`record_notification` is the webhook's half (parse, verify, store and commit). Applying a status
-- a webhook body or a GET-status answer -- is shop.payments.processing's; the task, the
reconciliation job and operator replays all go through it. `announce_order_change` does
the side effects, after the caller's commit. `recheck_payment` (GET status), `replay_notification`
and `expire_orphaned_order` are reconciliation's operations, shared by its tasks,
`flask midtrans reconcile|replay` and the dashboard.
"""
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from shop.caching import clear_order_pages
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments import gateway, states
from shop.payments.emails import queue_payment_email
from shop.payments.intake import intake_for
from shop.payments.models import Notification, NotificationSource, NotificationState, Payment, PaymentStatus
from shop.payments.processing import OrderChange, apply_midtrans_status, lock_payment, release_stock
from shop.signals import order_status_changed

log = logging.getLogger(__name__)

TEST_ORDER_PREFIX = "payment_notif_test_"  # Midtrans dashboard's "send test notification"
REQUIRED_FIELDS = ("order_id", "status_code", "gross_amount", "signature_key")


class NotificationError(Exception):
    """A webhook body we refuse; `http_status` and `code` say how to answer."""

    http_status = 400
    code = "invalid_notification"


class InvalidNotification(NotificationError):
    """Not JSON, not an object, or a required field missing."""


class BadSignature(NotificationError):
    """signature_key does not match SHA512(order_id + status_code + gross_amount + key)."""

    code = "bad_signature"


class UnknownPayment(NotificationError):
    """No payment has this Midtrans order id."""

    http_status = 404
    code = "unknown_order"


class DashboardTestNotification(Exception):
    """The dashboard's test notification: acknowledged, never stored."""

    def __init__(self, order_id: str, signature_valid: bool):
        super().__init__(order_id)
        self.order_id = order_id
        self.signature_valid = signature_valid


# --- the webhook's half --------------------------------------------------------------------

def parse_notification(body: bytes) -> dict:
    """Parse a webhook body leniently: unknown fields ignored, the signed fields required."""
    try:
        # UTF-8 only, as Midtrans sends; RecursionError: "[[[[..." nested past Python's limit.
        fields = json.loads(body.decode("utf-8"), object_pairs_hook=_object_without_duplicate_keys)
    except DuplicateKey as error:
        raise InvalidNotification(str(error)) from None
    except (ValueError, RecursionError):
        raise InvalidNotification("body is not JSON") from None
    if not isinstance(fields, dict):
        raise InvalidNotification("body is not a JSON object")
    if not _storable(fields):
        raise InvalidNotification("body holds a NUL character or an unpaired surrogate")
    missing = [name for name in REQUIRED_FIELDS if not isinstance(fields.get(name), str) or not fields[name]]
    if missing:
        raise InvalidNotification("missing or not a string: " + ", ".join(missing))
    return fields


class DuplicateKey(ValueError):
    pass


def _object_without_duplicate_keys(pairs: list) -> dict:
    # A key given twice reads differently in different parsers; Midtrans never sends one.
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise DuplicateKey("body repeats a key")
    return dict(pairs)


def _storable(fields: dict) -> bool:
    """No string in the body holds what the database refuses to store (walked without recursion)."""
    pending = [fields]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and ("\x00" in value or not _encodable(value)):
            return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class StoredNotification:
    """A notification row the webhook just stored (not loaded: the task loads it)."""

    id: int


def record_notification(body: bytes, queue: bool = False) -> StoredNotification:
    """Verify one webhook body and store it raw with the payment it is for, committed.

    With `queue`, its processing is queued after the commit (the webhook's case); a broker that
    fails then is logged and leaves the row RECEIVED, marked for the sweeper's next run. Concurrent calls in one
    process are stored together (shop.payments.intake).
    """
    fields = parse_notification(body)
    valid = gateway.signature_is_valid(fields)
    if fields["order_id"].startswith(TEST_ORDER_PREFIX):
        raise DashboardTestNotification(fields["order_id"], valid)
    if not valid:
        raise BadSignature("signature_key does not match")
    row = {"body": body.decode("utf-8"), "received_at": utcnow(), "order_id": fields["order_id"],
           **summary_columns(fields)}
    notification_id = intake_for(current_app).submit(row, queue)
    if notification_id is None:
        raise UnknownPayment("no payment has this order_id")
    return StoredNotification(notification_id)


def summary_columns(fields: dict) -> dict:
    """The notification's searchable columns, clipped to fit; the raw body keeps everything."""
    def clip(name: str, length: int) -> str | None:
        value = fields.get(name)
        return None if value is None else str(value)[:length]

    return {"midtrans_order_id": clip("order_id", 50), "transaction_id": clip("transaction_id", 64),
            "transaction_status": clip("transaction_status", 30), "fraud_status": clip("fraud_status", 20),
            "status_code": clip("status_code", 5), "gross_amount": clip("gross_amount", 30)}


# --- reconciliation: GET status, replays, orphaned orders ---------------------------------

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


def midtrans_truth(notification: Notification) -> tuple[dict, bool]:
    """The status to apply for a stored notification: GET status by transaction id, or its signed body."""
    body = json.loads(notification.body)
    if not current_app.config["MIDTRANS_VERIFY_STATUS"]:
        return body, False
    # By transaction id: BI-SNAP and DANA transactions can only be looked up that way.
    return gateway.get_status(body.get("transaction_id") or notification.midtrans_order_id), True


def expire_orphaned_order(order_id: int) -> OrderChange | None:
    """Expire a PENDING order whose checkout never opened a payment; its stock goes back (flushes).

    Checkout commits the order, then the payment: a crash in between leaves such an order. Locking
    the order waits for a payment insert in flight (its foreign key takes a share lock on the order).
    """
    order = db.session.execute(select(Order).where(Order.id == order_id).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    if order is None or order.status is not OrderStatus.PENDING:
        return None
    db.session.expire(order, ["payments"])
    if order.payments:
        return None
    before, order.status = order.status, states.order_status_without_payment(order.status)
    release_stock(order)
    log.info("order=%s had no payment attempt: %s -> %s, stock released", order.id, before.value, order.status.value)
    return OrderChange(None, order.id, order.user_id, before, order.status, None)


# --- after the commit -------------------------------------------------------------------

def announce_order_change(change: OrderChange | None) -> None:
    """After the commit: clear the order's cached pages, tell listeners, queue a payment's e-mail."""
    if change is None or not change.pages_changed:
        return
    _quietly("clear cached pages", clear_order_pages, change.order_id, change.user_id)
    if not change.order_changed:
        return
    _quietly("send order_status_changed", order_status_changed.send, current_app._get_current_object(),
             order_id=change.order_id, user_id=change.user_id, status=change.after)
    if change.after is OrderStatus.SUCCESS and change.message_id is not None:
        _quietly("queue the payment e-mail", queue_payment_email, change.message_id)


def _quietly(what: str, action, *args, **kwargs) -> None:
    # The change is committed; a failing side effect is logged, never undoes or repeats it.
    try:
        action(*args, **kwargs)
    except Exception:  # noqa: BLE001
        log.exception("could not %s after the commit", what)
