"""One builder for every Midtrans body the emulator and `flask midtrans trigger` send.

The shapes follow the real samples in tests/fixtures/midtrans/: status_code per status,
the extra fields per payment method, `fraud_status` present or absent as in the samples,
`gross_amount` as "10000.00" and times in Jakarta time (WIB, UTC+7, no daylight saving).
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from shop import jakarta
from shop.payments.gateway import compute_signature

MERCHANT_ID = "G000000000"
NOTIFICATION_MESSAGE = "midtrans payment notification"

# status -> (transaction_status, status_code). "challenge" is a card capture held by fraud detection.
STATUSES = {
    "pending": ("pending", "201"),
    "capture": ("capture", "200"),
    "challenge": ("capture", "201"),
    "settlement": ("settlement", "200"),
    "deny": ("deny", "202"),
    "expire": ("expire", "202"),
    "cancel": ("cancel", "202"),
}
CARD_ONLY = {"capture", "challenge"}


class UnsupportedNotification(ValueError):
    """The method and status given do not make a notification Midtrans would send."""


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    payment_type: str


METHODS = {m.key: m for m in (
    Method("credit_card", "Kartu kredit/debit", "credit_card"),
    Method("bca_va", "BCA Virtual Account", "bank_transfer"),
    Method("bni_va", "BNI Virtual Account", "bank_transfer"),
    Method("bri_va", "BRI Virtual Account", "bank_transfer"),
    Method("permata_va", "Permata Virtual Account", "bank_transfer"),
    Method("echannel", "Mandiri Bill Payment", "echannel"),
    Method("gopay", "GoPay", "gopay"),
    Method("qris", "QRIS", "qris"),
    Method("indomaret", "Indomaret", "cstore"),
    Method("alfamart", "Alfamart", "cstore"),
)}

# What a shopper can choose on the payment page, and the notifications each one sends.
OUTCOMES = {
    "pay": "Bayar sekarang",
    "pending": "Biarkan menunggu, bayar nanti",
    "deny": "Tolak",
    "expire": "Biarkan kedaluwarsa",
    "challenge": "Kartu ditahan pemeriksaan fraud (challenge)",
}


@dataclass(frozen=True)
class Transaction:
    order_id: str
    transaction_id: str
    gross_amount: int
    method: str
    transaction_time: str



def rupiah(amount: int) -> str:
    return f"{amount}.00"


def outcome_statuses(method: str, outcome: str) -> list[str]:
    """The statuses, in order, that the shopper's choice on the payment page sends."""
    card = method == "credit_card"
    sequences = {
        "pay": ["capture", "settlement"] if card else ["pending", "settlement"],
        "pending": ["pending"],
        "deny": ["deny"] if card else ["pending", "deny"],
        "expire": ["pending", "expire"],
        "challenge": ["challenge"],
    }
    if outcome not in sequences or method not in METHODS:
        raise UnsupportedNotification(f"metode {method!r} atau hasil {outcome!r} tidak dikenal")
    if outcome == "challenge" and not card:
        raise UnsupportedNotification("hanya pembayaran kartu yang bisa ditahan pemeriksaan fraud")
    return sequences[outcome]


def settle_statuses(method: str) -> list[str]:
    """What "pay later" sends for a transaction left pending."""
    return ["capture", "settlement"] if method == "credit_card" else ["settlement"]


def build_notification(txn: Transaction, status: str, server_key: str, at: datetime | None = None) -> dict:
    """The signed notification body Midtrans would send for `txn` reaching `status`."""
    if status not in STATUSES:
        raise UnsupportedNotification(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    if status in CARD_ONLY and txn.method != "credit_card":
        raise UnsupportedNotification(f"{status!r} happens only to card payments, not {txn.method}")
    transaction_status, status_code = STATUSES[status]
    now = jakarta.to_midtrans(at)
    body = {
        "transaction_time": txn.transaction_time,
        "transaction_status": transaction_status,
        "transaction_id": txn.transaction_id,
        "status_message": NOTIFICATION_MESSAGE,
        "status_code": status_code,
        "payment_type": METHODS[txn.method].payment_type,
        "order_id": txn.order_id,
        "merchant_id": MERCHANT_ID,
        "gross_amount": rupiah(txn.gross_amount),
        "currency": "IDR",
    }
    if transaction_status == "settlement":
        body["settlement_time"] = now
    fraud = fraud_status(txn.method, status)
    if fraud:
        body["fraud_status"] = fraud
    body.update(METHOD_FIELDS[txn.method](txn, status, now))
    body["signature_key"] = compute_signature(txn.order_id, status_code, body["gross_amount"], server_key)
    return body


def fraud_status(method: str, status: str) -> str | None:
    """Cards always carry one; Indomaret never; the other samples show `accept` on settlement only."""
    if method == "credit_card":
        return "challenge" if status == "challenge" else "accept"
    if method == "indomaret" or status != "settlement":
        return None
    return "accept"


def status_response(notification: dict) -> dict:
    """GET /v2/<id>/status: the last notification, as Midtrans answers it."""
    return dict(notification, status_message="Success, transaction is found")


def cancel_response(notification: dict) -> dict:
    """POST /v2/<id>/cancel succeeded (the cancel notification itself says 202)."""
    return _api_response(notification, "200", "Success, transaction is canceled")


def expire_response(notification: dict) -> dict:
    """POST /v2/<id>/expire succeeded; Midtrans answers body status_code 407."""
    return _api_response(notification, "407", "Success, transaction has expired")


def _api_response(notification: dict, status_code: str, message: str) -> dict:
    body = {k: v for k, v in notification.items() if k != "signature_key"}
    return dict(body, status_code=status_code, status_message=message)


# --- fields per payment method ------------------------------------------------------------

def _digits(txn: Transaction, count: int, salt: str = "") -> str:
    """A stable, realistic-looking reference number derived from the transaction id."""
    seed = int(hashlib.sha256((salt + txn.transaction_id).encode()).hexdigest(), 16)
    return str(seed)[:count].rjust(count, "0")


def _card_fields(txn: Transaction, status: str, now: str) -> dict:
    fields = {"masked_card": "48111111-1114", "card_type": "credit", "bank": "bni", "eci": "05",
              "on_us": False}
    if status in ("pending", "expire"):  # 3-D Secure never finished: nothing was authorised
        return fields
    approved = status != "deny"
    return dict(fields, approval_code=_digits(txn, 6, "approval"),
                channel_response_code="00" if approved else "05",
                channel_response_message="Approved" if approved else "Do not honor")


def _va_fields(bank: str, length: int):
    def fields(txn: Transaction, status: str, now: str) -> dict:
        paid = [{"paid_at": now, "amount": rupiah(txn.gross_amount)}]
        # Midtrans fills payment_amounts only for BNI, and only once the money arrived.
        amounts = paid if bank == "bni" and status == "settlement" else []
        return {"va_numbers": [{"va_number": _digits(txn, length, bank), "bank": bank}],
                "payment_amounts": amounts}
    return fields


def _permata_fields(txn: Transaction, status: str, now: str) -> dict:
    return {"permata_va_number": _digits(txn, 16, "permata")}


def _mandiri_bill_fields(txn: Transaction, status: str, now: str) -> dict:
    return {"biller_code": "70012", "bill_key": _digits(txn, 12, "mandiri")}


def _qris_fields(txn: Transaction, status: str, now: str) -> dict:
    return {"transaction_type": "on-us", "issuer": "gopay", "acquirer": "gopay"}


def _store_fields(store: str):
    def fields(txn: Transaction, status: str, now: str) -> dict:
        found = {"store": store, "payment_code": _digits(txn, 18, store)}
        if store == "indomaret" and status == "settlement":
            found["approval_code"] = _digits(txn, 12, "indomaret-approval")
        return found
    return fields


METHOD_FIELDS = {
    "credit_card": _card_fields,
    "bca_va": _va_fields("bca", 15),
    "bni_va": _va_fields("bni", 16),
    "bri_va": _va_fields("bri", 18),
    "permata_va": _permata_fields,
    "echannel": _mandiri_bill_fields,
    "gopay": lambda txn, status, now: {},
    "qris": _qris_fields,
    "indomaret": _store_fields("indomaret"),
    "alfamart": _store_fields("alfamart"),
}
