"""An admin stops or decides an open attempt: cancel, expire, and approve or deny a card held for review.

Like a refund, each is stored with its admin before Midtrans is called and finished with the
answer (shop.payments.money_workflow commits between the steps). Midtrans then sends the
notification of the new status, which is applied like any other through the transition table:
nothing here moves a payment itself. Everything here flushes; the caller commits.
"""
import logging

from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order
from shop.payments import gateway
from shop.payments.models import Payment, PaymentAction, PaymentActionKind as Kind, PaymentActionState as State
from shop.payments.models import PaymentStatus as P
from shop.payments.refunding import ActionRefused, lock_order, refusal_message

log = logging.getLogger(__name__)

# What each action asks of Midtrans, and the attempts it is for (Midtrans's own rules).
CALLS = {Kind.CANCEL: gateway.cancel, Kind.EXPIRE: gateway.expire, Kind.APPROVE: gateway.approve,
         Kind.DENY: gateway.deny}
ALLOWED = {Kind.CANCEL: {P.PENDING, P.AUTHORIZED, P.CHALLENGE}, Kind.EXPIRE: {P.PENDING},
           Kind.APPROVE: {P.CHALLENGE}, Kind.DENY: {P.CHALLENGE}}
NAMES = {Kind.CANCEL: "dibatalkan", Kind.EXPIRE: "dibuat kedaluwarsa", Kind.APPROVE: "disetujui",
         Kind.DENY: "ditolak"}


def target_attempt(order: Order, kind: Kind) -> Payment | None:
    """The attempt `kind` applies to now (the latest one it is allowed for), or None."""
    for payment in sorted(order.payments, key=lambda p: p.attempt, reverse=True):
        if payment.status in ALLOWED[kind] or (kind is Kind.CANCEL and _card_not_settled(payment)):
            return payment
    return None


def _card_not_settled(payment: Payment) -> bool:
    """A card capture before settlement is voided by cancel, not refunded."""
    return payment.status is P.SUCCESS and payment.transaction_status == "capture"


def allowed_actions(order: Order) -> list[Kind]:
    """The actions the dashboard offers for `order` now."""
    return [kind for kind in CALLS if target_attempt(order, kind) is not None]


def open_action(order_id: int, kind: Kind, actor: str) -> PaymentAction:
    """Check `kind` is allowed for the order's attempts and store it with its admin, under the order's lock."""
    order = lock_order(order_id)
    payment = target_attempt(order, kind)
    if payment is None:
        raise ActionRefused(_refusal(kind))
    action = PaymentAction(order_id=order.id, payment=payment, kind=kind, actor=actor)
    order.updated_at = utcnow()
    db.session.add(action)
    db.session.flush()
    log.info("order=%s %s of %s by %s stored", order.id, kind.value, payment.midtrans_order_id, actor)
    return action


def _refusal(kind: Kind) -> str:
    return {Kind.CANCEL: "Tidak ada pembayaran yang bisa dibatalkan: hanya yang masih menunggu, ditahan "
                         "untuk ditinjau, atau kartu yang belum settlement. Untuk yang sudah lunas, gunakan refund.",
            Kind.EXPIRE: "Tidak ada pembayaran yang masih menunggu (pending) untuk dibuat kedaluwarsa.",
            Kind.APPROVE: "Tidak ada pembayaran kartu yang ditahan untuk ditinjau (challenge).",
            Kind.DENY: "Tidak ada pembayaran kartu yang ditahan untuk ditinjau (challenge)."}[kind]


def call_midtrans(action: PaymentAction) -> tuple[dict | None, gateway.MidtransError | None]:
    """Ask Midtrans for the action; its answer or its error (never raised)."""
    payment = action.payment
    try:
        return CALLS[action.kind](payment.transaction_id or payment.midtrans_order_id), None
    except gateway.MidtransError as error:
        return None, error


def finish_action(action_id: int, error: gateway.MidtransError | None) -> PaymentAction:
    """Record Midtrans's answer: done (its notification follows), or failed with why (flushes)."""
    action = db.session.get(PaymentAction, action_id)
    order = lock_order(action.order_id)
    db.session.refresh(action)
    if error is None:
        action.state = State.DONE
    elif isinstance(error, gateway.MidtransUnavailable):
        action.state, action.error = State.FAILED, f"Midtrans tidak bisa dihubungi ({error}); coba lagi nanti."
    else:
        action.state, action.error = State.FAILED, refusal_message(error)
    action.finished_at = order.updated_at = utcnow()
    return action
