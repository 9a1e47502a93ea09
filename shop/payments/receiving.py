"""The webhook's half of a notification's life: parse, verify, store and commit, then queue.

`record_notification` refuses what is not a signed Midtrans body for a known payment
(`NotificationError`, with the HTTP answer it deserves), and otherwise stores the raw body with
its payment in one self-committing statement, shared by the notifications that arrive together
(shop.payments.intake), then queues its processing (shop.payments.queueing).
"""
import json
import logging
from dataclasses import dataclass

from flask import current_app

from shop.models import utcnow
from shop.payments import gateway
from shop.payments.intake import intake_for

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
    transaction_status: str | None = None


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
    return StoredNotification(notification_id, row["transaction_status"])


def summary_columns(fields: dict) -> dict:
    """The notification's searchable columns, clipped to fit; the raw body keeps everything."""
    def clip(name: str, length: int) -> str | None:
        value = fields.get(name)
        return None if value is None else str(value)[:length]

    return {"midtrans_order_id": clip("order_id", 50), "transaction_id": clip("transaction_id", 64),
            "transaction_status": clip("transaction_status", 30), "fraud_status": clip("fraud_status", 20),
            "status_code": clip("status_code", 5), "gross_amount": clip("gross_amount", 30)}
