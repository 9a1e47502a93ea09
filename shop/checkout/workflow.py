"""The checkout boundary shared by the web page and `flask shop place-order`: it commits.

Two steps, one commit each: (1) reserve stock and record the order, commit -- no product row
stays locked while Midtrans is called; (2) open the Snap transaction and record the payment,
commit. If step 2 fails, one compensating transaction puts the stock back and removes the
order and its lines, so nothing half-created is left behind. "Pay again" (`pay_again`) follows
the same two steps for an order whose attempts all failed: its stock is held again, then a new
attempt is opened; if that fails, the stock goes back. For an order whose latest attempt is
still open at Midtrans (a VA number, a payment code, a Snap page), that attempt is expired at
Midtrans before anything else (shop.checkout.replacing); if Midtrans cannot be reached, or the
attempt was paid meanwhile, no new attempt is opened. A new attempt is announced after its
commit like any change to the order (cached pages cleared, open pages told).
"""
import logging
from collections.abc import Callable

from sqlalchemy import select

from shop.accounts.models import User
from shop.checkout import replacing, services
from shop.checkout.services import CheckoutError, Shipping
from shop.extensions import db
from shop.orders.lifecycle import locked_order, release_stock
from shop.orders.models import Order
from shop.payments.announcing import OrderChange, announce_order_change
from shop.payments.gateway import MidtransAuthError, MidtransError, MidtransRejected, MidtransUnavailable
from shop.payments.models import Payment

log = logging.getLogger(__name__)

MESSAGE_UNAVAILABLE = ("Layanan pembayaran Midtrans sedang tidak dapat dihubungi. "
                       "Silakan coba lagi beberapa saat lagi.")
MESSAGE_AUTH = "Pembayaran sedang tidak tersedia. Silakan coba lagi nanti."
MESSAGE_NOT_STOPPED = ("Pembayaran sebelumnya belum bisa dihentikan karena Midtrans sedang tidak dapat "
                       "dihubungi, jadi belum ada pembayaran baru yang dibuat. Nomor pembayaran lama masih "
                       "berlaku. Silakan coba lagi beberapa saat lagi.")
MESSAGE_NO_PAGE = ("Pembayaran Anda sedang diproses Midtrans, tetapi halaman pembayarannya belum kami terima. "
                   "Status akan terupdate otomatis; untuk membayar sekarang, tekan \"Ganti metode pembayaran\".")
MESSAGE_REJECTED = ("Pembayaran tidak dapat dibuat. Silakan coba lagi; "
                    "jika masih gagal, hubungi kami.")


class PaymentNotStarted(CheckoutError):
    """Midtrans did not open a payment; `category` is the gateway's error category."""

    def __init__(self, message: str, category: str):
        super().__init__(message)
        self.category = category


def checkout_and_pay(user: User, items: dict[int, int], shipping: Shipping) -> Payment:
    """Place an order and open its first Snap payment; raises CheckoutError, leaving nothing behind."""
    order = _committed(lambda: services.place_order(user, items, shipping))
    return _open_attempt(order.id, undo=_abandon)


def pay_again(order: Order) -> Payment:
    """Open a new Snap attempt for `order`; on failure its stock goes back (if nothing else holds it).

    An attempt still open at Midtrans is expired there first, so the shopper never has two live
    numbers; if that cannot be done, no new attempt is opened (raises PaymentNotStarted). When
    another request for the order (a double click) opened a new attempt while this one ran, this
    one returns that attempt instead of an error: both clicks lead to the same payment page.
    """
    before = order.status
    seen = max((payment.attempt for payment in order.payments), default=0)
    try:
        replaced = _stop_open_attempt(order)
        _committed(lambda: services.reopen_order(order.id, replaced))
        payment = _open_attempt(order.id, undo=_close_again)
    except (services.OrderNotPayable, services.AttemptOpenedMeanwhile):
        newer = _opened_since(order.id, seen)
        if newer is None:
            raise
        log.info("order=%s attempt %s was opened by another request meanwhile; this one leads to it too",
                 order.id, newer.attempt)
        return newer
    announce_order_change(OrderChange.new_attempt(payment, before))
    log.info("order=%s new payment attempt %s", payment.order_id, payment.midtrans_order_id)
    return payment


def _opened_since(order_id: int, seen: int) -> Payment | None:
    """The order's newest attempt, when it is open and newer than attempt `seen`."""
    newest = db.session.scalar(select(Payment).where(Payment.order_id == order_id, Payment.attempt > seen)
                               .order_by(Payment.attempt.desc()).limit(1))
    return newest if newest is not None and newest.status.is_open else None


def _stop_open_attempt(order: Order) -> int | None:
    try:
        return replacing.stop_open_attempt(order)
    except MidtransError as error:
        payment_failure_message(error, order.id)  # logged as loudly as a failed Snap call
        raise PaymentNotStarted(MESSAGE_NOT_STOPPED, error.category) from error


def _committed(step: Callable[[], Order]) -> Order:
    """Step 1: run `step` and commit it, or roll back and re-raise its CheckoutError."""
    try:
        order = step()
    except CheckoutError:
        db.session.rollback()
        raise
    db.session.commit()
    return order


def _open_attempt(order_id: int, undo: Callable[[int], None]) -> Payment:
    """Step 2: open the Snap attempt and commit; if anything fails, `undo` step 1."""
    try:
        payment = services.start_payment_attempt(db.session.get(Order, order_id))
        db.session.commit()
    except Exception as error:
        undo(order_id)
        if isinstance(error, MidtransError):
            raise PaymentNotStarted(payment_failure_message(error, order_id), error.category) from error
        raise
    return payment


def _close_again(order_id: int) -> None:
    """Undo `reopen_order` after the new attempt could not be opened."""
    db.session.rollback()
    order = locked_order(order_id)
    if not any(payment.status.is_open for payment in order.payments):
        release_stock(order)
    db.session.commit()


def _abandon(order_id: int) -> None:
    db.session.rollback()
    services.abandon_order(order_id)
    db.session.commit()


def payment_failure_message(error: MidtransError, order_id: int) -> str:
    """Log a failed Snap call as loudly as it deserves; return what the shopper is told."""
    if isinstance(error, MidtransAuthError):
        log.critical("midtrans refused our server key (order=%s): check MIDTRANS_SERVER_KEY and "
                     "MIDTRANS_IS_PRODUCTION; no shopper can pay until this is fixed. midtrans said: %s",
                     order_id, error.messages)
        return MESSAGE_AUTH
    if isinstance(error, MidtransUnavailable):
        log.error("midtrans unavailable for order=%s: %s %s", order_id, error, error.messages)
        return MESSAGE_UNAVAILABLE
    if isinstance(error, MidtransRejected):
        log.error("midtrans rejected the payment of order=%s (HTTP %s): %s", order_id, error.http_status,
                  error.messages)
    else:
        log.error("midtrans error for order=%s category=%s: %s %s", order_id, error.category, error,
                  error.messages)
    return MESSAGE_REJECTED
