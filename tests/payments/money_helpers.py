"""Orders paid (or waiting) in a given way, known to the fake Midtrans, for the refund and review tests."""
from datetime import timedelta

from shop.extensions import db
from shop.models import utcnow
from shop.payments import money_workflow
from shop.payments.models import PaymentStatus as P
from shop.payments.refunding import RefundRequest
from tests.factories import OrderFactory, PaymentFactory
from tests.payments.helpers import committed_payment
from tests.payments.test_ledger import AMOUNT, apply, status

ADMIN = "admin@contoh.id"


def paid(midtrans, payment_type="gopay", days_ago=0, **fields):
    """A payment of AMOUNT settled `days_ago` (recorded in the ledger), whose GET status the fake answers."""
    payment = committed_payment()  # AMOUNT for two units of a product with 3 left
    payment.payment_type = payment_type
    for name, value in fields.items():
        setattr(payment, name, value)
    when = utcnow() - timedelta(days=days_ago)
    body = status(payment, "settlement", payment_type=payment_type)
    apply(payment, body)
    payment.settlement_time = payment.transaction_time = when
    midtrans.answers_status(body)
    db.session.commit()
    return payment


def waiting(midtrans, payment_type="bank_transfer", transaction_status="pending", fraud=None):
    """A payment of AMOUNT Midtrans holds as `transaction_status` (pending, or a card capture held by review)."""
    payment = PaymentFactory(order=OrderFactory(total=AMOUNT), payment_type=payment_type)
    db.session.flush()
    body = status(payment, transaction_status, payment_type=payment_type, status_code="201", fraud_status=fraud)
    body.pop("settlement_time")
    if fraud is None:
        body.pop("fraud_status")
    apply(payment, body)
    midtrans.answers_status(body)
    db.session.commit()
    assert payment.status in (P.PENDING, P.CHALLENGE)
    return payment


def refund_of(payment, amount=None, **changes):
    request = RefundRequest(payment.order_id, amount, changes.pop("reason", "barang rusak"), ADMIN, **changes)
    return money_workflow.refund(request)


def refund_path(payment) -> str:
    return f"/v2/{payment.transaction_id}/refund"
