"""Storing Midtrans notifications and applying Midtrans statuses.

Flushes and never commits, but for `record_notification`, whose one statement commits itself.

`record_notification` is the webhook's half (parse, verify, store and commit). `apply_midtrans_status`
applies one status -- a webhook body or a GET-status answer -- under row locks, through the
transition table in shop.payments.states; the task, the reconciliation job and operator replays
all call it. `announce_order_change` does the side effects, after the caller's commit. `recheck_payment`
(GET status), `replay_notification` and `expire_orphaned_order` are reconciliation's operations,
shared by its tasks, `flask midtrans reconcile|replay` and the dashboard.
"""
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import bindparam, select, text, update

from shop.accounts.models import InboxMessage
from shop.caching import clear_order_pages
from shop.catalog.models import Product
from shop import extensions
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments import gateway, states
from shop.payments.emails import send_payment_success_email
from shop.payments.models import (Notification, NotificationOutcome, NotificationSource,
                                  NotificationState, Payment, PaymentStatus)
from shop.signals import order_status_changed

log = logging.getLogger(__name__)

TEST_ORDER_PREFIX = "payment_notif_test_"  # Midtrans dashboard's "send test notification"
REQUIRED_FIELDS = ("order_id", "status_code", "gross_amount", "signature_key")
JAKARTA = timezone(timedelta(hours=7))
RELEASING = (OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED)
Outcome = NotificationOutcome


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


@dataclass(frozen=True)
class OrderChange:
    """What applying one status did, for the side effects after the commit."""

    outcome: NotificationOutcome | None  # None: the notification had been processed already
    order_id: int
    user_id: int
    before: OrderStatus
    after: OrderStatus
    payment_status: PaymentStatus | None  # None: an order that never had a payment

    @property
    def order_changed(self) -> bool:
        return self.before != self.after

    @property
    def pages_changed(self) -> bool:
        return self.order_changed or self.outcome is Outcome.APPLIED


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


def record_notification(body: bytes) -> StoredNotification:
    """Verify one webhook body and store it raw with the payment it is for, committed."""
    fields = parse_notification(body)
    valid = gateway.signature_is_valid(fields)
    if fields["order_id"].startswith(TEST_ORDER_PREFIX):
        raise DashboardTestNotification(fields["order_id"], valid)
    if not valid:
        raise BadSignature("signature_key does not match")
    with extensions.autocommit_connection() as connection:
        notification_id = connection.execute(STORE_FOR_PAYMENT, {
            "body": body.decode("utf-8"), "received_at": utcnow(), "order_id": fields["order_id"],
            **summary_columns(fields)}).scalar()
    if notification_id is None:
        raise UnknownPayment("no payment has this order_id")
    return StoredNotification(notification_id)


def _store_for_payment():
    """INSERT ... SELECT: find the payment and store the notification in one statement.

    This is the webhook's hot path (Midtrans waits for it): one statement, built once, run on an
    autocommit connection, so finding, storing and committing take a single round trip and no
    ORM work. No row is inserted when no payment matches.
    """
    table = Notification.__table__
    summary = ["midtrans_order_id", "transaction_id", "transaction_status", "fraud_status", "status_code",
               "gross_amount"]
    bound = ["body", "received_at", *summary]
    constants = {"source": f"'{NotificationSource.WEBHOOK.name}'", "state": f"'{NotificationState.RECEIVED.name}'",
                 "attempts": "0"}
    columns = ["payment_id", *constants, *bound]
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"SELECT payments.id, {', '.join([*constants.values(), *(':' + name for name in bound)])} "
           f"FROM payments WHERE payments.midtrans_order_id = :order_id RETURNING id")
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in bound))


STORE_FOR_PAYMENT = _store_for_payment()


def summary_columns(fields: dict) -> dict:
    """The notification's searchable columns, clipped to fit; the raw body keeps everything."""
    def clip(name: str, length: int) -> str | None:
        value = fields.get(name)
        return None if value is None else str(value)[:length]

    return {"midtrans_order_id": clip("order_id", 50), "transaction_id": clip("transaction_id", 64),
            "transaction_status": clip("transaction_status", 30), "fraud_status": clip("fraud_status", 20),
            "status_code": clip("status_code", 5), "gross_amount": clip("gross_amount", 30)}


# --- applying a status ------------------------------------------------------------------

def apply_midtrans_status(payment: Payment, status: dict, notification: Notification, *,
                          verified: bool = True) -> OrderChange:
    """Apply one Midtrans status to `payment` under row locks and record the outcome (flushes).

    `status` is a GET-status answer (`verified`) or, with MIDTRANS_VERIFY_STATUS off, the
    signed webhook body itself. The order is always the payment's, never the status's order_id.
    """
    order, payment = lock_payment(payment)
    db.session.refresh(notification, with_for_update=True)
    before = order.status
    if notification.state is NotificationState.PROCESSED:
        return OrderChange(None, order.id, order.user_id, before, before, payment.status)
    outcome = _decide(payment, status, verified)
    _follow_order(order, payment)
    _finish(notification, outcome)
    if verified:
        payment.last_checked_at = utcnow()
    return OrderChange(outcome, order.id, order.user_id, before, order.status, payment.status)


def lock_payment(payment: Payment) -> tuple[Order, Payment]:
    """Lock the order row, then all its payment rows (always in that order: no deadlocks)."""
    fresh = {"populate_existing": True}
    order = db.session.execute(select(Order).where(Order.id == payment.order_id)
                               .with_for_update().execution_options(**fresh)).scalar_one()
    db.session.execute(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
                       .with_for_update().execution_options(**fresh)).scalars().all()
    db.session.expire(order, ["payments"])
    return order, db.session.get(Payment, payment.id)


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
    amount = states.parse_rupiah(status.get("gross_amount"))
    if amount is None or amount != payment.gross_amount:
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


def _belongs_to(payment: Payment, status: dict) -> bool:
    # DANA / BI-SNAP quirk: GET status may put the transaction id where the order id belongs.
    return status.get("order_id") in (payment.midtrans_order_id, status.get("transaction_id"))


def _transaction_taken(payment: Payment, transaction_id) -> bool:
    if not transaction_id:
        return False
    return db.session.scalar(select(Payment.id).where(Payment.transaction_id == str(transaction_id),
                                                      Payment.id != payment.id).limit(1)) is not None


def _flag(payment: Payment, reason: str) -> NotificationOutcome:
    payment.order.needs_review = True
    log.warning("payment=%s REJECTED: %s; flagged for an admin", payment.midtrans_order_id, reason)
    return Outcome.REJECTED


def _move(payment: Payment, event: states.PaymentEvent, status: dict) -> NotificationOutcome:
    transaction_id = status.get("transaction_id")
    try:
        if payment.transaction_id and transaction_id and transaction_id != payment.transaction_id:
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
    changed = new != payment.status
    record_details(payment, status, overwrite=changed)
    payment.status = new
    return Outcome.APPLIED if changed else Outcome.DUPLICATE


def _is_newer(transaction_time, known: datetime | None) -> bool:
    when = jakarta_time(transaction_time)
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
        "transaction_time": jakarta_time(status.get("transaction_time")),
        "settlement_time": jakarta_time(status.get("settlement_time")),
    }
    for name, value in details.items():
        if value is not None and (overwrite or getattr(payment, name) is None):
            setattr(payment, name, value)
    refund = states.parse_rupiah(status.get("refund_amount"))
    if refund is not None and refund > (payment.refund_amount or 0):
        payment.refund_amount = refund


def _va_numbers(status: dict) -> list | None:
    if status.get("permata_va_number"):
        return [{"bank": "permata", "va_number": str(status["permata_va_number"])}]
    numbers = status.get("va_numbers")
    return numbers if isinstance(numbers, list) and numbers else None


def jakarta_time(value) -> datetime | None:
    """Midtrans's "YYYY-MM-DD HH:MM:SS" in Jakarta time (UTC+7) as an aware UTC timestamp."""
    if not isinstance(value, str):
        return None
    try:
        local = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        log.warning("unreadable Midtrans time %r", value[:40])
        return None
    return local.replace(tzinfo=JAKARTA).astimezone(timezone.utc)


def _follow_order(order: Order, payment: Payment) -> None:
    """Move the order to what its payments now say, with what comes with that move."""
    new = states.order_status_for(order)
    if new == order.status:
        return
    log.info("order=%s %s -> %s (payment=%s)", order.id, order.status.value, new.value, payment.midtrans_order_id)
    order.status = new
    if new in RELEASING:
        release_stock(order)
    if new is OrderStatus.REVIEW:
        order.needs_review = True
    if new is OrderStatus.SUCCESS:
        _mark_paid(order, payment)


def release_stock(order: Order) -> bool:
    """Put the order's reserved stock back on the shelf, once ever (call under the order lock)."""
    if order.stock_released:
        return False
    for line in order.lines:
        db.session.execute(update(Product).where(Product.id == line.product_id)
                           .values(stock=Product.stock + line.quantity))
    order.stock_released = True
    return True


def _mark_paid(order: Order, payment: Payment) -> None:
    if order.paid_at is None:
        order.paid_at = payment.settlement_time or payment.transaction_time or utcnow()
    if order.stock_released:
        # Paid after its stock went back (e.g. expired, then a late VA payment): may be oversold.
        order.needs_review = True
        log.warning("order=%s paid after its stock was released; flagged for an admin", order.id)
    db.session.add(InboxMessage(user_id=order.user_id, order_id=order.id,
                                text=f"Pembayaran pesanan #{order.id} sudah kami terima. Terima kasih!"))


def _finish(notification: Notification, outcome: NotificationOutcome) -> None:
    # `attempts` counts starts: the task counts its own, reconcile and replay rows are made with 1.
    notification.outcome = outcome
    notification.state = NotificationState.PROCESSED
    notification.processed_at = utcnow()
    notification.error = None


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
    lock_payment(payment)  # before the history row: see add_history
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
    lock_payment(payment)  # before the history row: see add_history
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
    """After the commit: clear the order's cached pages, e-mail a payment, tell listeners."""
    if change is None or not change.pages_changed:
        return
    _quietly("clear cached pages", clear_order_pages, change.order_id, change.user_id)
    if not change.order_changed:
        return
    if change.after is OrderStatus.SUCCESS:
        _quietly("send the payment e-mail", send_payment_success_email, change.order_id)
    _quietly("send order_status_changed", order_status_changed.send, current_app._get_current_object(),
             order_id=change.order_id, user_id=change.user_id, status=change.after)


def _quietly(what: str, action, *args, **kwargs) -> None:
    # The change is committed; a failing side effect is logged, never undoes or repeats it.
    try:
        action(*args, **kwargs)
    except Exception:  # noqa: BLE001
        log.exception("could not %s after the commit", what)
