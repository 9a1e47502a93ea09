"""What a shopper needs to pay an order's latest attempt, and whether they may start another."""
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort
from sqlalchemy import select

from shop import vocabulary
from shop.accounts.models import User
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments import gateway, howto
from shop.payments.models import Payment, PaymentStatus

# Order states from which a failed or expired attempt may be followed by a new one.
PAYABLE_AGAIN = (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.EXPIRED)
FAILED_ATTEMPT = (PaymentStatus.DENIED, PaymentStatus.FAILED, PaymentStatus.EXPIRED)
# Attempts the shopper can still act on (a challenged or authorised card waits for us, not them).
AWAITING_SHOPPER = (PaymentStatus.CREATED, PaymentStatus.PENDING)

# The channel of the step-by-step guide (shop/payments/howto.py) for a method without a bank or store.
CHANNELS = {"echannel": "mandiri_bill", "gopay": "gopay", "qris": "qris", "credit_card": "card"}
QR_METHODS = ("gopay", "qris")


@dataclass(frozen=True)
class PayCode:
    """One number the shopper types or shows: its label and its digits, as Midtrans gave them."""

    label: str
    value: str


@dataclass
class PaymentInstructions:
    """What the shopper needs to pay one attempt, as the order page shows it."""

    method: str
    amount: int
    payment_type: str | None = None
    codes: list[PayCode] = field(default_factory=list)
    channel: str | None = None  # whose step-by-step guide applies (bca, mandiri_bill, indomaret, qris, ...)
    guide: list = field(default_factory=list)
    qr_url: str | None = None
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
    """Whether the shopper may start a new attempt: the last one failed or expired, or still waits for them
    (checkout then expires it at Midtrans first, so only one can be paid)."""
    latest = order.latest_payment
    return (order.status in PAYABLE_AGAIN and latest is not None
            and (latest.status in FAILED_ATTEMPT or replaces_open_attempt(order)))


def replaces_open_attempt(order: Order) -> bool:
    """A new attempt would replace one the shopper can still pay (the page says the old number stops)."""
    latest = order.latest_payment
    return order.status is OrderStatus.PENDING and latest is not None and latest.status in AWAITING_SHOPPER


def payment_method(payment: Payment) -> str:
    """The method in the shop's words: 'Transfer Virtual Account BNI', 'Bayar di gerai Alfamart'."""
    return vocabulary.method_name(payment.payment_type, _bank_or_store(payment))


def _bank_or_store(payment: Payment) -> str | None:
    banks = [v.get("bank") for v in payment.va_numbers or [] if v.get("bank")]
    if payment.payment_type == "bank_transfer" and banks:
        return banks[0]
    return payment.store if payment.payment_type == "cstore" else None


def pay_codes(payment: Payment) -> list[PayCode]:
    """The numbers to pay with: VA numbers, Mandiri's biller code and bill key, a store's code."""
    codes = [PayCode(f"Nomor Virtual Account {vocabulary.bank_name(va.get('bank'))}", str(va["va_number"]))
             for va in payment.va_numbers or [] if va.get("va_number")]
    if payment.bill_key:
        codes += [PayCode("Kode perusahaan (biller code)", payment.biller_code or ""),
                  PayCode("Kode bayar (bill key)", payment.bill_key)]
    if payment.payment_code:
        codes.append(PayCode(f"Kode pembayaran {vocabulary.bank_name(payment.store)}", payment.payment_code))
    return codes


def channel_of(payment: Payment) -> str | None:
    bank_or_store = _bank_or_store(payment)
    return (bank_or_store or "").lower() or CHANNELS.get(payment.payment_type or "")


def qr_url(payment: Payment) -> str | None:
    if payment.payment_type not in QR_METHODS or not payment.transaction_id:
        return None
    return gateway.qr_code_url(payment.payment_type, payment.transaction_id)


def payment_instructions(order: Order) -> PaymentInstructions | None:
    """What to pay for the latest attempt, or None once the order no longer waits for money."""
    payment = order.latest_payment
    if payment is None or order.status.is_final or payment.status not in AWAITING_SHOPPER:
        return None
    expired = payment.expires_at is not None and payment.expires_at <= utcnow()
    chosen = payment.payment_type is not None
    return PaymentInstructions(
        method=payment_method(payment), amount=payment.gross_amount, payment_type=payment.payment_type,
        codes=pay_codes(payment), channel=channel_of(payment), guide=howto.guide_for(channel_of(payment)),
        qr_url=qr_url(payment), continue_url=None if expired or chosen else payment.redirect_url,
        expires_at=payment.expires_at, expired=expired)


def fingerprint(order: Order) -> str:
    """Changes whenever the status area would: the order's status, its latest attempt and that attempt's status."""
    payment = order.latest_payment
    if payment is None:
        return order.status.value
    return f"{order.status.value}.{payment.attempt}.{payment.status.value}"


def status_area(order: Order) -> dict:
    """Everything the order page's status area shows, drawn first with the page and then on each change."""
    payment = order.latest_payment
    return {"order": order, "payment": payment, "instructions": payment_instructions(order),
            "can_pay_again": can_pay_again(order),
            "replaces_open_attempt": replaces_open_attempt(order), "fingerprint": fingerprint(order),
            "method": payment_method(payment) if payment else None}
