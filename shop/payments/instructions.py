"""What a shopper needs to pay an order's latest attempt, and whether they may start another."""
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort
from sqlalchemy import select

from shop.accounts.models import User
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments.models import Payment, PaymentStatus

# Order states from which a failed or expired attempt may be followed by a new one.
PAYABLE_AGAIN = (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.EXPIRED)
FAILED_ATTEMPT = (PaymentStatus.DENIED, PaymentStatus.FAILED, PaymentStatus.EXPIRED)
# Attempts the shopper can still act on (a challenged or authorised card waits for us, not them).
AWAITING_SHOPPER = (PaymentStatus.CREATED, PaymentStatus.PENDING)

PAYMENT_METHODS = {
    "bank_transfer": "Transfer Virtual Account",
    "echannel": "Mandiri Bill Payment",
    "cstore": "Bayar di gerai",
    "credit_card": "Kartu kredit/debit",
    "gopay": "GoPay",
    "qris": "QRIS",
    "shopeepay": "ShopeePay",
    "akulaku": "Akulaku",
    "kredivo": "Kredivo",
}


@dataclass
class PaymentInstructions:
    """What the shopper needs to pay one attempt, as the order page shows it."""

    method: str
    amount: int
    va_numbers: list[dict] = field(default_factory=list)
    bill_key: str | None = None
    biller_code: str | None = None
    payment_code: str | None = None
    store: str | None = None
    continue_url: str | None = None
    expires_at: datetime | None = None
    expired: bool = False


def get_order_by_midtrans_id(user: User, midtrans_order_id: str) -> Order:
    """Load the order of one of `user`'s payment attempts by its Midtrans order id, or 404."""
    order = db.session.scalar(
        select(Order).join(Payment, Payment.order_id == Order.id)
        .where(Payment.midtrans_order_id == midtrans_order_id, Order.user_id == user.id))
    if order is None:
        abort(404)
    return order


def can_pay_again(order: Order) -> bool:
    """Whether the shopper may start a new attempt: the last one failed or expired."""
    latest = order.latest_payment
    return (order.status in PAYABLE_AGAIN and latest is not None
            and latest.status in FAILED_ATTEMPT)


def payment_method(payment: Payment) -> str:
    name = PAYMENT_METHODS.get(payment.payment_type or "", payment.payment_type or "Belum dipilih")
    banks = [v.get("bank", "").upper() for v in payment.va_numbers or [] if v.get("bank")]
    if payment.payment_type == "bank_transfer" and banks:
        return f"{name} {', '.join(banks)}"
    if payment.store:
        return f"{name} {payment.store.capitalize()}"
    return name


def payment_instructions(order: Order) -> PaymentInstructions | None:
    """What to pay for the latest attempt, or None once the order no longer waits for money."""
    payment = order.latest_payment
    if payment is None or order.status.is_final or payment.status not in AWAITING_SHOPPER:
        return None
    expired = payment.expires_at is not None and payment.expires_at <= utcnow()
    return PaymentInstructions(
        method=payment_method(payment), amount=payment.gross_amount,
        va_numbers=list(payment.va_numbers or []), bill_key=payment.bill_key,
        biller_code=payment.biller_code, payment_code=payment.payment_code, store=payment.store,
        continue_url=None if expired else payment.redirect_url,
        expires_at=payment.expires_at, expired=expired)
