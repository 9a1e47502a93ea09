"""The only module that talks HTTP to Midtrans or checks Midtrans signatures.

midtransclient has no timeout and no retry (a stalled server would hang the caller for
ever), so every call goes through `_call`: a requests session with connect/read timeouts,
bounded retries with exponential backoff and jitter on timeouts, connection errors,
HTTP 5xx and 429 -- never on another 4xx -- and errors sorted into the categories below.
"""
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import midtransclient
import requests
from flask import current_app
from midtransclient.error_midtrans import JSONDecodeError, MidtransAPIError

from shop.payments import signatures

log = logging.getLogger(__name__)

NOTIFICATION_PATH = "/api/midtrans/notification"
SIGNED_FIELDS, compute_signature = signatures.SIGNED_FIELDS, signatures.compute_signature
sign, signature_is_valid = signatures.sign, signatures.signature_is_valid


class MidtransError(Exception):
    """Base of every error from talking to Midtrans."""

    category = "error"

    def __init__(self, message: str, messages: list[str] | None = None, http_status: int | None = None,
                 code: int | None = None):
        super().__init__(message)
        self.messages = messages or []
        self.http_status = http_status
        self.code = code  # Midtrans's own status code (the body's when the HTTP status was 200)


class MidtransUnavailable(MidtransError):
    """Midtrans did not answer in time, or answered 5xx / 429, after every retry."""

    category = "unavailable"


class MidtransRejected(MidtransError):
    """Midtrans refused the request (4xx); `messages` holds its own explanation."""

    category = "rejected"


class MidtransAuthError(MidtransRejected):
    """Midtrans refused our server key (401): wrong key or wrong environment."""

    category = "auth"


class MidtransNotFound(MidtransError):
    """Midtrans knows no such transaction (for Snap: the shopper has not picked a method yet)."""

    category = "not_found"


@dataclass(frozen=True)
class SnapTransaction:
    token: str
    redirect_url: str


class TimeoutSession(requests.Session):
    """A requests session that always sends a (connect, read) timeout."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


# --- API calls --------------------------------------------------------------------------

def notification_url() -> str:
    return current_app.config["BASE_URL"] + NOTIFICATION_PATH


def qr_code_url(payment_type: str, transaction_id: str) -> str:
    """The QR image Midtrans serves for a GoPay or QRIS transaction (its `generate-qr-code` action)."""
    config = current_app.config
    api_config = midtransclient.config.ApiConfig
    default = (api_config.CORE_PRODUCTION_BASE_URL if config["MIDTRANS_IS_PRODUCTION"]
               else api_config.CORE_SANDBOX_BASE_URL)
    base = config["MIDTRANS_API_BASE_URL"] or default
    return f"{base}/v2/{payment_type}/{transaction_id}/qr-code"


class SnapOrderIdTaken(MidtransRejected):
    """After a try with no clear answer, Midtrans holds this Snap order id and will not replace it: record it."""


def create_snap_transaction(payload: dict) -> SnapTransaction:
    """Create a Snap transaction (our notification URL in X-Override-Notification), never blind twice:
    a try that timed out or got a 5xx may have created it, so each retry first GETs its status. Unknown
    (no method chosen): the same order id is created again -- a new token, the lost one stops working.
    Known, or refused as taken: SnapOrderIdTaken."""
    snap = _snap_api({"X-Override-Notification": notification_url()})
    order_id, tries = payload["transaction_details"]["order_id"], []

    def create() -> dict:
        if tries and _known_at_midtrans(order_id):
            raise SnapOrderIdTaken(f"Midtrans already has {order_id}", http_status=200)
        tries.append(order_id)
        try:
            return snap.create_transaction(payload)
        except MidtransAPIError as exc:
            error = _classify_api_error(exc)
            if len(tries) > 1 and error.http_status == 400 and "order_id" in " ".join(error.messages):
                raise SnapOrderIdTaken(f"Midtrans refused {order_id} as taken", error.messages, 400, 400) from exc
            raise

    response = _call("snap.create", order_id, create)
    return SnapTransaction(token=response["token"], redirect_url=response["redirect_url"])


class SnapPageInUse(MidtransRejected):
    """The shopper has chosen a method on the Snap page: a transaction exists now; expire that instead."""


def close_snap_page(token: str, order_id: str) -> bool:
    """POST /snap/v1/transactions/{token}/cancel: close a Snap page on which no method was chosen, so
    it cannot start a payment any more. True once it is closed (by this call, or by an earlier try
    whose answer was lost: "token already canceled"); False when Midtrans does not know the token
    (it expired). Raises SnapPageInUse ("Transaction is in progress").

    Midtrans documents these answers by their bodies only (`canceled_at`, or `error_messages`), not
    their HTTP statuses, so they are told apart by the bodies, whatever the status.
    """
    snap = _snap_api({})
    api = snap.api_config
    url = f"{api.get_snap_base_url()}/transactions/{token}/cancel"
    try:
        answer = _call("snap.cancel", order_id, lambda: snap.http_client.request(
            "post", api.server_key, url, {}, api.custom_headers, api.proxies)[0])
    except (MidtransRejected, MidtransNotFound) as error:
        return _page_closed(error.messages, error)
    if "canceled_at" in answer or not answer.get("error_messages"):
        return True
    refused = [str(message) for message in answer["error_messages"]]
    return _page_closed(refused, MidtransRejected("Midtrans refused to close the Snap page", refused, 200))


def _page_closed(messages: list[str], error: MidtransError) -> bool:
    said = " ".join(messages).lower()
    if "already canceled" in said:
        return True
    if "progress" in said:
        raise SnapPageInUse("a method was chosen on the Snap page", messages, error.http_status, error.code) from error
    if isinstance(error, MidtransNotFound) or "not found" in said:
        return False
    raise error


def _known_at_midtrans(order_id: str) -> bool:
    try:
        _core_api().transactions.status(order_id)
    except Exception as exc:  # noqa: BLE001 -- sorted right below
        if isinstance(classify(exc), MidtransNotFound):
            return False  # no method chosen: creating the same order id again is safe
        raise
    return True


def get_status(transaction_or_order_id: str) -> dict:
    """GET /v2/{id}/status; raises MidtransNotFound for Midtrans's 404 (body or HTTP).

    At most MIDTRANS_STATUS_CONCURRENCY of these are in flight from one process (Midtrans rate-limits);
    a caller past the bound waits for a slot, retries included.
    """
    core = _core_api()
    with _status_slots():
        return _call("status", transaction_or_order_id, lambda: core.transactions.status(transaction_or_order_id))


_slots: dict[tuple[int, int], threading.BoundedSemaphore] = {}


def _status_slots() -> threading.BoundedSemaphore:
    # Per process (a forked one makes its own) and per bound (tests change it).
    key = (os.getpid(), current_app.config["MIDTRANS_STATUS_CONCURRENCY"])
    return _slots.get(key) or _slots.setdefault(key, threading.BoundedSemaphore(key[1]))


def cancel(transaction_or_order_id: str) -> dict:
    """POST /v2/{id}/cancel: void a pending, authorized, challenged or not yet settled card transaction."""
    return _change_status("cancel", transaction_or_order_id)


def expire(transaction_or_order_id: str) -> dict:
    """POST /v2/{id}/expire (Midtrans answers body status_code 407 on success)."""
    return _change_status("expire", transaction_or_order_id)


def approve(transaction_id: str) -> dict:
    """POST /v2/{id}/approve: accept a card payment held by fraud review (fraud_status=challenge)."""
    return _change_status("approve", transaction_id)


def deny(transaction_id: str) -> dict:
    """POST /v2/{id}/deny: refuse a card payment held by fraud review."""
    return _change_status("deny", transaction_id)


def _change_status(action: str, ident: str) -> dict:
    transactions = _core_api().transactions
    return _call(action, ident, lambda: getattr(transactions, action)(ident))


DUPLICATE_REFUND = 406


def refund(transaction_or_order_id: str, refund_key: str, amount: int, reason: str) -> dict:
    """POST /v2/{id}/refund with our stored `refund_key`, retried with the same key.

    Midtrans refunds a key once: 406 "Duplicate refund ID" for a key that only this shop makes
    means an earlier try of this same refund reached Midtrans (say, before a timeout), so it is
    answered as done, with `duplicate` set, rather than raised.
    """
    core = _core_api()
    payload = {"refund_key": refund_key, "amount": amount, "reason": reason}
    try:
        return _call("refund", transaction_or_order_id,
                     lambda: core.transactions.refund(transaction_or_order_id, payload))
    except MidtransRejected as error:
        if error.code != DUPLICATE_REFUND:
            raise
        log.info("midtrans refund ref=%s key=%s: 406, already refunded with this key", transaction_or_order_id,
                 refund_key)
        return {"status_code": str(DUPLICATE_REFUND), "refund_key": refund_key, "duplicate": True}


def _client_kwargs() -> dict:
    config = current_app.config
    return {
        "is_production": config["MIDTRANS_IS_PRODUCTION"],
        "server_key": config["MIDTRANS_SERVER_KEY"],
        "client_key": config["MIDTRANS_CLIENT_KEY"],
    }


def _core_api() -> midtransclient.CoreApi:
    core = midtransclient.CoreApi(**_client_kwargs())
    # A fresh dict: clients built without one share a single default dict.
    core.api_config.custom_headers = {}
    _point_at_configured_urls(core)
    return core


def _snap_api(headers: dict) -> midtransclient.Snap:
    snap = midtransclient.Snap(**_client_kwargs())
    snap.api_config.custom_headers = headers  # its own dict, as _core_api's
    _point_at_configured_urls(snap)
    return snap


def _point_at_configured_urls(client) -> None:
    """Use the configured base URLs (emulator, test fake) and our timeout session."""
    config = current_app.config
    api_config = client.api_config
    if config["MIDTRANS_API_BASE_URL"]:
        api_config.CORE_SANDBOX_BASE_URL = api_config.CORE_PRODUCTION_BASE_URL = config["MIDTRANS_API_BASE_URL"]
    if config["MIDTRANS_SNAP_BASE_URL"]:
        api_config.SNAP_SANDBOX_BASE_URL = api_config.SNAP_PRODUCTION_BASE_URL = config["MIDTRANS_SNAP_BASE_URL"]
    timeout = (config["MIDTRANS_CONNECT_TIMEOUT"], config["MIDTRANS_READ_TIMEOUT"])
    client.http_client.http_client = TimeoutSession(timeout)


def _call(action: str, ref: str, request: Callable[[], dict]) -> dict:
    """Run `request` with bounded retries on transient failures; sort every error."""
    config = current_app.config
    attempts = 1 + max(0, config["MIDTRANS_MAX_RETRIES"])
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            response = request()
        except Exception as exc:  # noqa: BLE001 -- sorted right below
            error = classify(exc)
            log.warning("midtrans %s ref=%s attempt=%d/%d failed category=%s in %.0fms: %s", action, ref,
                        attempt, attempts, error.category, (time.monotonic() - started) * 1000, error)
            if not isinstance(error, MidtransUnavailable) or attempt == attempts:
                raise error from exc
            _sleep_before_retry(attempt, config["MIDTRANS_BACKOFF_SECONDS"])
        else:
            log.info("midtrans %s ref=%s ok in %.0fms", action, ref, (time.monotonic() - started) * 1000)
            return response
    raise AssertionError("unreachable")


def _sleep_before_retry(attempt: int, base: float) -> None:
    # Exponential backoff with full jitter: spreads retries from many workers apart.
    time.sleep(random.uniform(0, base * 2 ** (attempt - 1)))


def classify(exc: Exception) -> MidtransError:
    """Sort an exception from midtransclient/requests into one of our categories."""
    if isinstance(exc, MidtransError):
        return exc
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return MidtransUnavailable(f"Midtrans unreachable: {type(exc).__name__}")
    if isinstance(exc, JSONDecodeError):
        return MidtransUnavailable("Midtrans answered with something that is not JSON")
    if isinstance(exc, MidtransAPIError):
        return _classify_api_error(exc)
    if isinstance(exc, requests.RequestException):
        return MidtransUnavailable(f"Midtrans request failed: {type(exc).__name__}")
    raise exc


def _classify_api_error(exc: MidtransAPIError) -> MidtransError:
    body = exc.api_response_dict if isinstance(exc.api_response_dict, dict) else {}
    http_status = exc.http_status_code or 0
    body_status = _int_or_zero(body.get("status_code"))
    messages = body.get("error_messages") or [body.get("status_message")] if body else []
    messages = [str(m) for m in messages if m]
    status = body_status if http_status < 400 else http_status
    if status == 404 or body_status == 404:
        return MidtransNotFound("Midtrans does not know this transaction", messages, http_status, 404)
    if status == 401:
        return MidtransAuthError("Midtrans refused the server key", messages, http_status, status)
    if status == 429 or status >= 500:
        return MidtransUnavailable(f"Midtrans answered {status}", messages, http_status, status)
    return MidtransRejected(f"Midtrans rejected the request ({status})", messages, http_status, status)


def _int_or_zero(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
