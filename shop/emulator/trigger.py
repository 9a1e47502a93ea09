"""The notifications `flask midtrans trigger` sends for one of the shop's payments.

They come from the same builder as the emulator's payment page. When the emulator is on,
its record is updated too, so a shop that confirms a notification with GET status hears
the same story from the emulator.
"""
import uuid

from shop import jakarta
from shop.emulator import notifications as shapes
from shop.emulator import refunds
from shop.emulator.store import EmulatorStore
from shop.payments.models import Payment

BANK_METHODS = {"bca": "bca_va", "bni": "bni_va", "bri": "bri_va"}
ALIASES = {"bank_transfer": "bca_va", "cstore": "indomaret", "mandiri_bill": "echannel", "card": "credit_card"}
METHOD_CHOICES = sorted(set(shapes.METHODS) | set(ALIASES))


# Money going back, as a refund made in Midtrans's dashboard would send it: the whole amount or half.
MONEY_BACK = ("refund", "partial_refund", "chargeback", "partial_chargeback")


def parse_statuses(text: str) -> list[str]:
    """"pending,settlement" -> ["pending", "settlement"], refusing unknown names."""
    statuses = [part.strip().lower() for part in text.split(",")]
    known = (*shapes.STATUSES, *MONEY_BACK)
    unknown = [s for s in statuses if s not in known]
    if unknown:
        raise shapes.UnsupportedNotification(
            f"unknown status {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
    return statuses


def method_of(payment: Payment) -> str | None:
    """The emulator method matching what Midtrans last told the shop about `payment`."""
    if payment.payment_type == "bank_transfer":
        bank = (payment.va_numbers or [{}])[0].get("bank")
        return BANK_METHODS.get(bank, "permata_va" if not payment.va_numbers else None)
    if payment.payment_type == "cstore":
        return payment.store if payment.store in shapes.METHODS else "indomaret"
    return payment.payment_type if payment.payment_type in shapes.METHODS else None


def build_bodies(payment: Payment, statuses: list[str], method: str | None, server_key: str,
                 store: EmulatorStore | None, notify_url: str) -> list[dict]:
    """Signed bodies for `payment` reaching each status in turn."""
    method = ALIASES.get(method, method)
    txn = _transaction(payment, method, store, notify_url)
    bodies = []
    for status in statuses:
        if status in MONEY_BACK:
            bodies.extend(_money_back(txn, status, server_key))
        else:
            bodies.append(shapes.build_notification(txn, status, server_key))
    return bodies


def _money_back(txn: shapes.Transaction, status: str, server_key: str) -> list[dict]:
    """A refund's two notifications (requested, then bank-confirmed), or a chargeback's one."""
    amount = txn.gross_amount if status in ("refund", "chargeback") else max(1, txn.gross_amount // 2)
    key, now, chargeback = f"trigger-{uuid.uuid4().hex[:12]}", jakarta.to_midtrans(), "chargeback" in status
    entry = refunds.refund_entry(uuid.uuid4().int % 10**9, amount, key, "dari flask midtrans trigger", now, None)
    confirmed = [refunds.refund_body(txn, [{**entry, "bank_confirmed_at": now}], server_key, None, chargeback)]
    return confirmed if chargeback else [refunds.refund_body(txn, [entry], server_key, None)] + confirmed


def _transaction(payment: Payment, method: str | None, store: EmulatorStore | None,
                 notify_url: str) -> shapes.Transaction:
    record = store.find_transaction(payment.midtrans_order_id) if store else None
    if record is not None:
        if method and method != record.txn.method:
            raise shapes.UnsupportedNotification(
                f"the emulator has {payment.midtrans_order_id} paid by {record.txn.method}; "
                f"leave out --payment-type or give {record.txn.method}")
        return record.txn
    txn = shapes.Transaction(payment.midtrans_order_id, payment.transaction_id or str(uuid.uuid4()),
                             payment.gross_amount, method or method_of(payment) or "bca_va",
                             jakarta.to_midtrans())
    if store is not None:
        store.ensure_transaction(txn, [notify_url])
    return txn
