"""Committed rows for the page-by-page checks: a shopper with an order in every state and method, an admin.

Names, ids and numbers are as long as the real ones (Midtrans order ids with their suffix, 18-digit
store codes, a notification error message), so a page that fits here fits in the shop.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderStatus
from shop.payments.models import (MoneyEvent, MoneyEventKind, Notification, NotificationOutcome,
                                  NotificationSource, NotificationState, PaymentStatus)
from tests.factories import OrderFactory, PaymentFactory, ProductFactory, UserFactory

LATER = timedelta(hours=23)

# name -> what the latest attempt of that order holds: (order status, payment status, payment fields)
PENDING_PAYMENTS = {
    "bca": dict(payment_type="bank_transfer", va_numbers=[{"bank": "bca", "va_number": "123450001234567"}]),
    "bni": dict(payment_type="bank_transfer", va_numbers=[{"bank": "bni", "va_number": "9881234500012345"}]),
    "bri": dict(payment_type="bank_transfer", va_numbers=[{"bank": "bri", "va_number": "123450001234567890"}]),
    "permata": dict(payment_type="bank_transfer", va_numbers=[{"bank": "permata", "va_number": "8778001234567890"}]),
    "mandiri": dict(payment_type="echannel", biller_code="70012", bill_key="123456789012"),
    "indomaret": dict(payment_type="cstore", store="indomaret", payment_code="123456789012345678"),
    "alfamart": dict(payment_type="cstore", store="alfamart", payment_code="876543210987654321"),
    "gopay": dict(payment_type="gopay"),
    "qris": dict(payment_type="qris"),
}


@dataclass
class Site:
    shopper: object = None
    admin: object = None
    sku: str = ""
    orders: dict = field(default_factory=dict)  # name -> order id


def build_site() -> Site:
    """Commit the rows every page of the shop needs to show something real."""
    site = Site(shopper=UserFactory(name="Siti Nurhaliza Kusumawardhani"), admin=UserFactory(is_admin=True))
    product = ProductFactory(name="Kopi Arabika Gayo Wine Process 250 gram", price=1_250_000, stock=40)
    site.sku = product.sku
    for name, fields in PENDING_PAYMENTS.items():
        site.orders[name] = _order(site.shopper, OrderStatus.PENDING, PaymentStatus.PENDING, **fields).id
    site.orders["unchosen"] = _order(site.shopper, OrderStatus.PENDING, PaymentStatus.CREATED).id
    site.orders["review"] = _order(site.shopper, OrderStatus.REVIEW, PaymentStatus.CHALLENGE,
                                   payment_type="credit_card", fraud_status="challenge").id
    site.orders["failed"] = _order(site.shopper, OrderStatus.FAILED, PaymentStatus.DENIED,
                                   payment_type="credit_card").id
    paid = _order(site.shopper, OrderStatus.SUCCESS, PaymentStatus.SUCCESS, **PENDING_PAYMENTS["bca"])
    _notifications(paid.payments[-1])
    _money(paid.payments[-1], site.admin.email)
    site.orders["paid"] = paid.id
    db.session.commit()
    _load(site)
    return site


def _order(user, status, payment_status, **payment_fields):
    order = OrderFactory(user=user, status=status, total=2_500_000, shipping_name=user.name,
                         shipping_address="Jl. Jenderal Sudirman Kav. 52-53, Senayan, Kebayoran Baru, Jakarta Selatan")
    db.session.flush()
    PaymentFactory(order=order, status=payment_status, midtrans_order_id=f"TK-{order.id}-1-9f3a61c2",
                   transaction_id="b7f2c1de-5a4b-4c3d-9e8f-0a1b2c3d4e5f", expires_at=utcnow() + LATER,
                   transaction_status="pending" if payment_status is PaymentStatus.PENDING else None,
                   **payment_fields)
    db.session.flush()
    return order


def _notifications(payment) -> None:
    """What a busy order's history looks like: pending, settlement, a duplicate and a failure."""
    rows = [("pending", "201", NotificationOutcome.APPLIED, NotificationState.PROCESSED, None),
            ("settlement", "200", NotificationOutcome.APPLIED, NotificationState.PROCESSED, None),
            ("settlement", "200", NotificationOutcome.DUPLICATE, NotificationState.PROCESSED, None),
            ("settlement", "200", None, NotificationState.FAILED,
             "OperationalError: could not connect to server: Connection refused (after 5 attempts)")]
    for status, code, outcome, state, error in rows:
        db.session.add(Notification(
            payment=payment, source=NotificationSource.WEBHOOK, midtrans_order_id=payment.midtrans_order_id,
            transaction_id=payment.transaction_id, transaction_status=status, status_code=code,
            gross_amount=f"{payment.gross_amount}.00", body="{}", state=state, outcome=outcome,
            attempts=5 if error else 1, error=error))
    db.session.flush()


def _money(payment, admin_email: str) -> None:
    """Paid, then part of it sent back by bank transfer: the detail page shows its ledger, timeline and the
    manual refund form for what is left."""
    db.session.add_all([
        MoneyEvent(order_id=payment.order_id, payment_id=payment.id, kind=MoneyEventKind.PAID,
                   key=f"payment-{payment.id}", amount=payment.gross_amount, fee=0, actor="webhook",
                   happened_at=utcnow() - timedelta(hours=2)),
        MoneyEvent(order_id=payment.order_id, payment_id=payment.id, kind=MoneyEventKind.REFUNDED,
                   key="manual-BCA-20261203-000123", amount=500_000, fee=0, actor=admin_email,
                   reason="Satu barang rusak dalam pengiriman (transfer BCA-20261203-000123)",
                   happened_at=utcnow() - timedelta(hours=1))])
    db.session.flush()


def _load(site: Site) -> None:
    """Read what the tests use later, then end the transaction (the server writes meanwhile)."""
    site.shopper.email, site.admin.email
    db.session.close()
