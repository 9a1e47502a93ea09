"""A pending payment per method, as Midtrans's pending notification leaves it (view and browser tests)."""
from datetime import timedelta

from shop.models import utcnow
from shop.payments.models import PaymentStatus
from tests.factories import PaymentFactory


def _va(bank: str, number: str) -> dict:
    return {"payment_type": "bank_transfer", "va_numbers": [{"bank": bank, "va_number": number}]}


PENDING = {
    "bca": _va("bca", "123456789012345"),
    "bni": _va("bni", "9881234567890123"),
    "bri": _va("bri", "123450012345678901"),
    "permata": _va("permata", "8778001234567890"),
    "cimb": _va("cimb", "5919001234567890"),
    "mandiri_bill": {"payment_type": "echannel", "bill_key": "990011223344", "biller_code": "70012"},
    "indomaret": {"payment_type": "cstore", "store": "indomaret", "payment_code": "123456789012345678"},
    "alfamart": {"payment_type": "cstore", "store": "alfamart", "payment_code": "ALF01234567890123"},
    "gopay": {"payment_type": "gopay", "transaction_id": "8a2c3b1e-0000-4000-8000-00000000a001"},
    "qris": {"payment_type": "qris", "transaction_id": "8a2c3b1e-0000-4000-8000-00000000a002"},
    "card": {"payment_type": "credit_card"},
}
# The number each method's panel shows, as the shopper copies it (digits only, no spaces).
NUMBERS = {key: (fields.get("va_numbers") or [{}])[0].get("va_number") or fields.get("bill_key")
           or fields.get("payment_code") for key, fields in PENDING.items()}


def pending_payment(method: str, **extra):
    """A payment waiting for the shopper's money through `method` (a key of PENDING), due in 23 hours."""
    fields = dict(PENDING[method], status=PaymentStatus.PENDING, transaction_status="pending",
                  expires_at=utcnow() + timedelta(hours=23))
    return PaymentFactory(**dict(fields, **extra))
