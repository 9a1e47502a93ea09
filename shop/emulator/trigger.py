"""The notifications `flask midtrans trigger` sends for one of the shop's payments.

They come from the same builder as the emulator's payment page. When the emulator is on,
its record is updated too, so a shop that confirms a notification with GET status hears
the same story from the emulator.
"""
import uuid

from shop import jakarta
from shop.emulator import notifications as shapes
from shop.emulator.store import EmulatorStore
from shop.payments.models import Payment

BANK_METHODS = {"bca": "bca_va", "bni": "bni_va", "bri": "bri_va"}
ALIASES = {"bank_transfer": "bca_va", "cstore": "indomaret", "mandiri_bill": "echannel", "card": "credit_card"}
METHOD_CHOICES = sorted(set(shapes.METHODS) | set(ALIASES))


def parse_statuses(text: str) -> list[str]:
    """"pending,settlement" -> ["pending", "settlement"], refusing unknown names."""
    statuses = [part.strip().lower() for part in text.split(",")]
    unknown = [s for s in statuses if s not in shapes.STATUSES]
    if unknown:
        raise shapes.UnsupportedNotification(
            f"unknown status {', '.join(map(repr, unknown))}; choose from {', '.join(shapes.STATUSES)}")
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
    return [shapes.build_notification(txn, status, server_key) for status in statuses]


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
