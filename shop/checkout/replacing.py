"""Before a new payment attempt: stop the order's attempt still open at Midtrans.

A shopper must never hold two live VA numbers or payment codes for one order, so the open
attempt (PENDING with a method chosen, or CREATED: a Snap page, or a Snap create whose answer
was lost) is expired at Midtrans first. Nothing is changed here locally: Midtrans's expire notification moves the old attempt
through the transition table like any other. Midtrans's answers:
- 407 (success): expired; its notification follows.
- 404: a Snap token whose shopper never chose a method -- nothing to expire.
- 412: Midtrans may not change it: either it already ended or never got a method (fine), or
  it was paid meanwhile (no new attempt). GET status tells which.
With no method chosen, the attempt's Snap page would still take one (and a payment) later, so it
is closed (Snap's session cancel). When a method was chosen on it meanwhile ("Transaction is in
progress"), no new attempt is opened: the shopper tries again once that transaction exists.
Any other error is raised as it came (MidtransError) and no new attempt may be opened.
"""
import logging

from shop.checkout.services import CheckoutError
from shop.orders.models import Order
from shop.payments import gateway
from shop.payments.models import Payment, PaymentStatus
from shop.payments.states import FAILED, UnknownMidtransStatus, status_for

log = logging.getLogger(__name__)

CANNOT_CHANGE = 412
MESSAGE_PAID = ("Pembayaran sebelumnya untuk pesanan ini sudah diterima atau sedang dikonfirmasi, "
                "jadi tidak perlu dibayar lagi. Status pesanan akan terupdate otomatis.")


MESSAGE_IN_PROGRESS = ("Metode pembayaran baru saja dipilih di halaman pembayaran sebelumnya. Tunggu sebentar, "
                       "lalu coba lagi; status pesanan akan terupdate otomatis.")


class PreviousAttemptPaid(CheckoutError):
    """The open attempt was paid (or is being paid) meanwhile: no new attempt."""


class PreviousAttemptStarting(CheckoutError):
    """A method was chosen on the open attempt's Snap page while we closed it: no new attempt yet."""


def open_attempt(order: Order) -> Payment | None:
    """The order's latest attempt if the shopper may still pay it at Midtrans, else None."""
    latest = order.latest_payment
    if latest is None or latest.status not in (PaymentStatus.CREATED, PaymentStatus.PENDING):
        return None
    return latest


def stop_open_attempt(order: Order) -> int | None:
    """Expire the order's open attempt at Midtrans; the attempt number it stopped, or None if none was open.

    Raises PreviousAttemptPaid, or the MidtransError that kept it from being expired.
    """
    payment = open_attempt(order)
    if payment is None:
        return None
    ref = payment.transaction_id or payment.midtrans_order_id
    try:
        gateway.expire(ref)
        log.info("order=%s attempt %s expired at midtrans before a new one", order.id, payment.midtrans_order_id)
    except gateway.MidtransNotFound:
        _close_page(order, payment)
    except gateway.MidtransRejected as error:
        if error.code != CANNOT_CHANGE:
            raise
        if not _check_ended(order, ref):
            _close_page(order, payment)
    return payment.attempt


def _close_page(order: Order, payment: Payment) -> None:
    """No transaction at Midtrans: nobody chose a method on the attempt's Snap page, which would
    still take one. Close it (with no token known, a Snap create whose answer was lost, there is none)."""
    if payment.snap_token is None:
        log.info("order=%s attempt %s unknown at midtrans, no Snap page of ours: nothing to stop", order.id,
                 payment.midtrans_order_id)
        return
    try:
        closed = gateway.close_snap_page(payment.snap_token, payment.midtrans_order_id)
    except gateway.SnapPageInUse as error:
        log.info("order=%s attempt %s: a method was chosen on its Snap page meanwhile; no new attempt yet",
                 order.id, payment.midtrans_order_id)
        raise PreviousAttemptStarting(MESSAGE_IN_PROGRESS) from error
    log.info("order=%s attempt %s had no method chosen; its Snap page %s", order.id, payment.midtrans_order_id,
             "is closed" if closed else "had expired already")


def _check_ended(order: Order, ref: str) -> bool:
    """After a 412: go on only if Midtrans says the attempt already failed or expired (True), or knows
    no transaction for it (False: a Snap page whose shopper chose no method)."""
    try:
        body = gateway.get_status(ref)
    except gateway.MidtransNotFound:
        log.info("order=%s attempt %s: no transaction at midtrans, nothing to expire", order.id, ref)
        return False
    try:
        status = status_for(body.get("transaction_status"), body.get("fraud_status"))
    except UnknownMidtransStatus:
        status = None
    if status not in FAILED:
        log.warning("order=%s attempt %s is %s at midtrans: no new attempt", order.id, ref,
                    body.get("transaction_status"))
        raise PreviousAttemptPaid(MESSAGE_PAID)
    log.info("order=%s attempt %s already %s at midtrans", order.id, ref, status.value)
    return True
