"""What the emulated Midtrans does: accept Snap requests, take the shopper's choice, notify."""
import io
import logging
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import segno
from flask import current_app

from shop.config import EMULATOR_PREFIX
from shop.emulator import notifications as shapes
from shop.emulator.sender import Dispatch, send_in_background
from shop.emulator.store import EmulatorStore, OrderIdTaken, Record, SnapToken
from shop.payments.gateway import NOTIFICATION_PATH

log = logging.getLogger(__name__)

ORDER_ID_PATTERN = re.compile(r"[A-Za-z0-9\-_~.]{1,50}")
MAX_NOTIFICATION_URLS = 3
CANCELLABLE = {"pending", "capture", "authorize"}
# enabled_payments names (and their aliases) -> the emulator's methods
ENABLED_NAMES = {
    "credit_card": {"credit_card"}, "bca_va": {"bca_va"}, "bni_va": {"bni_va"}, "bri_va": {"bri_va"},
    "permata_va": {"permata_va"}, "echannel": {"echannel"}, "gopay": {"gopay"},
    "other_qris": {"qris"}, "qris": {"qris"}, "indomaret": {"indomaret"}, "alfamart": {"alfamart"},
    "bank_transfer": {"bca_va", "bni_va", "bri_va", "permata_va"},
    "cstore": {"indomaret", "alfamart"}, "store": {"indomaret", "alfamart"},
}


class SnapRejected(Exception):
    """The Snap request is invalid; `messages` are Midtrans-style error_messages."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class ChoiceRejected(Exception):
    """The payment page's form asked for something impossible; nothing was changed."""


@dataclass(frozen=True)
class Settings:
    server_key: str
    store: EmulatorStore
    retry_delays: tuple
    default_notification_url: str
    public_url: str


def settings() -> Settings:
    """The emulator's settings, read from the app it is mounted on."""
    config = current_app.config
    default_url = config.get("MIDTRANS_EMULATOR_NOTIFICATION_URL") or config["BASE_URL"] + NOTIFICATION_PATH
    return Settings(config["MIDTRANS_SERVER_KEY"], EmulatorStore(config["MIDTRANS_EMULATOR_DB"]),
                    tuple(config["MIDTRANS_EMULATOR_RETRY_DELAYS"]), default_url,
                    config["BASE_URL"] + EMULATOR_PREFIX)


# --- Snap create -----------------------------------------------------------------------------

def create_snap_transaction(payload, headers) -> dict:
    """Validate a Snap request like Midtrans and hand out a token and payment page URL."""
    errors = snap_request_errors(payload)
    if errors:
        raise SnapRejected(errors)
    details = payload["transaction_details"]
    conf = settings()
    token = SnapToken(str(uuid.uuid4()), details["order_id"], details["gross_amount"],
                      notification_urls(headers, conf.default_notification_url),
                      (payload.get("callbacks") or {}).get("finish"), payload.get("enabled_payments"), True)
    try:
        conf.store.save_token(token)
    except OrderIdTaken as exc:
        raise SnapRejected([order_id_taken_message(exc.paid)]) from exc
    log.info("emulator snap token order_id=%s token=%s notify=%s", token.order_id, token.token,
             ",".join(token.notify_urls))
    return {"token": token.token, "redirect_url": f"{conf.public_url}/snap/v3/redirection/{token.token}"}


def order_id_taken_message(paid: bool) -> str:
    if paid:
        return "transaction_details.order_id has been paid and utilized, please use another order ID"
    return "transaction_details.order_id has already been taken"


def snap_request_errors(payload) -> list[str]:
    """Midtrans's validation of the parts of a Snap request the shop sends."""
    if not isinstance(payload, dict):
        return ["Request body must be a JSON object"]
    details = payload.get("transaction_details")
    if not isinstance(details, dict):
        return ["transaction_details is required"]
    errors = _order_id_errors(details.get("order_id")) + _amount_errors(details.get("gross_amount"))
    items = payload.get("item_details")
    if items is not None:
        errors += _item_errors(items, details.get("gross_amount"), bool(errors))
    return errors + _callback_errors(payload.get("callbacks"))


def _order_id_errors(order_id) -> list[str]:
    if not isinstance(order_id, str) or not order_id:
        return ["transaction_details.order_id is required"]
    if not ORDER_ID_PATTERN.fullmatch(order_id):
        return ["transaction_details.order_id must be at most 50 characters of letters, digits and - _ ~ ."]
    return []


def _amount_errors(amount) -> list[str]:
    if amount is None:
        return ["transaction_details.gross_amount is required"]
    if not _is_integer(amount):
        return ["transaction_details.gross_amount must be an integer (IDR has no decimals)"]
    if amount < 1:
        return ["transaction_details.gross_amount must be greater than or equal to 1"]
    return []


def _item_errors(items, gross_amount, already_invalid: bool) -> list[str]:
    if not isinstance(items, list):
        return ["item_details must be a list"]
    errors = [message for index, item in enumerate(items) for message in _one_item_errors(index, item)]
    if errors or already_invalid:
        return errors
    if sum(item["price"] * item["quantity"] for item in items) != gross_amount:
        return ["transaction_details.gross_amount is not equal to the sum of item_details"]
    return []


def _one_item_errors(index: int, item) -> list[str]:
    where = f"item_details[{index}]"
    if not isinstance(item, dict):
        return [f"{where} must be an object"]
    errors = []
    if not _is_integer(item.get("price")):
        errors.append(f"{where}.price must be an integer")
    if not _is_integer(item.get("quantity")) or item["quantity"] < 1:
        errors.append(f"{where}.quantity must be an integer of at least 1")
    if not isinstance(item.get("name"), str) or not item["name"]:
        errors.append(f"{where}.name is required")
    return errors


def _callback_errors(callbacks) -> list[str]:
    if callbacks is None:
        return []
    if not isinstance(callbacks, dict):
        return ["callbacks must be an object"]
    finish = callbacks.get("finish")
    if finish is not None and (not isinstance(finish, str) or len(finish) > 255):
        return ["callbacks.finish must be a URL of at most 255 characters"]
    return []


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def notification_urls(headers, default_url: str) -> list[str]:
    """X-Override-Notification replaces the default URL; X-Append-Notification adds to it."""
    override = _url_list(headers.get("X-Override-Notification"))
    if override:
        return override
    return [default_url] + _url_list(headers.get("X-Append-Notification"))


def _url_list(header: str | None) -> list[str]:
    urls = [url.strip() for url in (header or "").split(",") if url.strip()]
    return urls[:MAX_NOTIFICATION_URLS]


# --- the payment page --------------------------------------------------------------------------

def methods_for(snap: SnapToken) -> list[shapes.Method]:
    """The methods the page offers: all, or those the request's enabled_payments names."""
    if snap.enabled_payments is None:
        return list(shapes.METHODS.values())
    wanted = set().union(*(ENABLED_NAMES.get(name, set()) for name in snap.enabled_payments))
    return [method for key, method in shapes.METHODS.items() if key in wanted]


def choose(token: str, method: str, outcome: str) -> tuple[Record, list[dict], Dispatch]:
    """The shopper picked a method and an outcome: open the transaction and notify in order."""
    conf = settings()
    snap = conf.store.find_token(token)
    if snap is None or method not in {m.key for m in methods_for(snap)}:
        raise ChoiceRejected(f"metode {method!r} tidak ditawarkan untuk pembayaran ini")
    try:
        statuses = shapes.outcome_statuses(method, outcome)
    except shapes.UnsupportedNotification as exc:
        raise ChoiceRejected(str(exc)) from exc
    record = conf.store.open_transaction(token, method, str(uuid.uuid4()))
    bodies = [shapes.build_notification(record.txn, status, conf.server_key) for status in statuses]
    # Recorded before the redirect, so GET status from the finish page already knows the transaction.
    conf.store.record_status(bodies[0])
    log.info("emulator payment order_id=%s method=%s outcome=%s", record.txn.order_id, method, outcome)
    return record, bodies, notify(bodies, record.notify_urls)


def qr_png(record: Record) -> bytes:
    """The QR image of a GoPay/QRIS transaction. It holds the emulator's transactions page, so a
    phone on the LAN that scans it (MIDTRANS_EMULATOR_ALLOW_REMOTE=1) opens the page that pays it."""
    buffer = io.BytesIO()
    segno.make(f"{settings().public_url}/transactions#{record.txn.order_id}", error="m").save(
        buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def finish_redirect(record: Record, last: dict) -> str:
    """The shop's finish URL with Midtrans's query string, or the emulator's own list."""
    query = urlencode({"order_id": last["order_id"], "status_code": last["status_code"],
                       "transaction_status": last["transaction_status"]})
    url = record.finish_url or settings().public_url + "/transactions"
    return url + ("&" if "?" in url else "?") + query


def notify(bodies: list[dict], urls: list[str]) -> Dispatch:
    """Record each body as the transaction's state as it goes out, and deliver it."""
    conf = settings()
    return send_in_background(bodies, urls, conf.retry_delays, conf.store.record_status,
                              conf.store.record_delivery)


# --- Core API: cancel, expire, and "pay later" ------------------------------------------------

def cancel(ident: str) -> tuple[dict, Dispatch]:
    """POST /v2/<id>/cancel: void a pending or captured transaction, notify `cancel`."""
    return _change(ident, CANCELLABLE, "cancel", shapes.cancel_response)


def expire(ident: str) -> tuple[dict, Dispatch]:
    """POST /v2/<id>/expire: a pending transaction expires now, notify `expire`."""
    return _change(ident, {"pending"}, "expire", shapes.expire_response)


def _change(ident: str, allowed: set, status: str, respond) -> tuple[dict, Dispatch]:
    conf = settings()
    build = lambda record: shapes.build_notification(record.txn, status, conf.server_key)  # noqa: E731
    record, body = conf.store.change_status(ident, allowed, build)
    return respond(body), notify([body], record.notify_urls)


def settle(ident: str) -> Dispatch:
    """Pay a transaction left pending ("pay later"): capture+settlement for cards, else settlement."""
    conf = settings()
    record = conf.store.find_transaction(ident)
    if record is None:
        raise LookupError(ident)
    statuses = shapes.settle_statuses(record.txn.method)
    bodies = [shapes.build_notification(record.txn, status, conf.server_key) for status in statuses]
    conf.store.change_status(ident, {"pending"}, lambda _: bodies[-1])
    return notify(bodies, record.notify_urls)
