"""Giving an order's money back: the rules per method, and the refund stored before Midtrans is called.

A refund through Midtrans is two steps with a commit between them (shop.payments.money_workflow):
`open_refund` locks the order, checks the amount against what may still be refunded (the ledger,
counting the refunds this shop asked for that no notification reports yet) and stores the refund
with its `refund_key`; then Midtrans is called with that key, as often as it takes; `finish_refund`
records its answer. Two refunds of one order wait for each other on the order's lock, and the
second sees the first: together they never exceed the balance. Virtual accounts, Mandiri bill and
convenience-store payments cannot be refunded through Midtrans: the merchant transfers the money
and records it (shop.payments.manual_refunds). Everything here flushes; the caller commits.
"""
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from shop import jakarta
from shop.extensions import db
from shop.formatting import rupiah
from shop.models import utcnow
from shop.orders import lifecycle
from shop.orders.models import Order
from shop.payments import gateway, ledger, states
from shop.payments.models import Payment, PaymentAction, PaymentActionKind as Kind, PaymentActionState as State
from shop.vocabulary import method_name

log = logging.getLogger(__name__)

# payment_type -> days after payment within which Midtrans refunds it (None: no window documented).
API_REFUND_DAYS = {"credit_card": None, "gopay": 45, "shopeepay": 365, "dana": 45, "ovo": 7,
                   "qris": 7,  # off-us, or not known which; on-us: QRIS_ON_US_REFUND_DAYS
                   "kredivo": 14, "akulaku": None}
QRIS_ON_US_REFUND_DAYS = 45  # paid from the acquirer's own app (GoPay's QRIS from GoPay)
WHOLE_AMOUNT_ONLY = {"shopeepay", "ovo"}
MANUAL_METHODS = {"bank_transfer", "echannel", "cstore"}
DEFAULT_REASON = "Pengembalian dana oleh toko"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")


class ActionRefused(Exception):
    """The admin's request cannot be carried out; the message (Indonesian) says why. Nothing changed."""


@dataclass(frozen=True)
class RefundRequest:
    order_id: int
    amount: int | None  # None: everything that may still be refunded
    reason: str
    actor: str  # the admin's e-mail
    refund_key: str | None = None  # from the confirmation form: a double submit reuses it
    return_stock: bool = False


def new_refund_key(order_id: int) -> str:
    return f"TK{order_id}-rf-{uuid.uuid4().hex[:20]}"


def lock_order(order_id: int) -> Order:
    """The order, locked (payments take the same lock first: no deadlock)."""
    order = lifecycle.locked_order(order_id)
    if order is None:
        raise ActionRefused(f"Pesanan #{order_id} tidak ada.")
    return order


def balance(order: Order) -> int:
    """What may still be refunded, counting refunds asked for that no notification reports yet."""
    return ledger.order_ledger(order.id).refundable


def refund_method(order: Order) -> tuple[Payment, str]:
    """The paid attempt and how it can be refunded: "api" (through Midtrans) or "manual" (bank transfer)."""
    payment = paid_attempt(order)
    method = payment.payment_type or ""
    if method in MANUAL_METHODS:
        return payment, "manual"
    if method in API_REFUND_DAYS:
        return payment, "api"
    raise ActionRefused(f"Metode pembayaran {method or '(tidak diketahui)'} tidak dapat dikembalikan dari toko; "
                        "gunakan dashboard Midtrans.")


def paid_attempt(order: Order) -> Payment:
    """The order's latest paid attempt; refused (offering cancel) when nothing was settled."""
    paid = [p for p in order.payments if p.status in states.PAID]
    if not paid:
        if any(p.status.is_open for p in order.payments):
            raise ActionRefused("Pembayaran belum lunas (belum settlement), jadi belum ada yang bisa dikembalikan. "
                                "Gunakan Batalkan pembayaran untuk menghentikannya.")
        raise ActionRefused("Pesanan ini tidak pernah dibayar; tidak ada yang bisa dikembalikan.")
    payment = max(paid, key=lambda p: p.attempt)
    if payment.transaction_status == "capture":
        raise ActionRefused("Pembayaran kartu ini belum settlement: Midtrans belum bisa mengembalikannya. "
                            "Gunakan Batalkan pembayaran (cancel) sebagai gantinya.")
    return payment


def check_amount(payment: Payment, amount: int, available: int) -> None:
    if amount < 1:
        raise ActionRefused("Jumlah pengembalian harus lebih dari Rp 0.")
    if amount > available:
        raise ActionRefused(f"Jumlah {rupiah(amount)} melebihi sisa yang bisa dikembalikan ({rupiah(available)}).")
    if payment.payment_type in WHOLE_AMOUNT_ONLY and amount != payment.gross_amount:
        raise ActionRefused(f"{method_name(payment.payment_type)} hanya bisa dikembalikan seluruhnya "
                            f"({rupiah(payment.gross_amount)}), tidak sebagian.")


def within_balance(order: Order, payment: Payment, requested: int | None) -> int:
    """The amount to refund (`requested`, or all that may still be), checked against the balance."""
    available = balance(order)
    amount = available if requested is None else requested
    check_amount(payment, amount, available)
    return amount


def refund_days(payment: Payment) -> int | None:
    """Days after payment within which Midtrans refunds this payment (None: no window documented)."""
    if payment.payment_type == "qris" and payment.transaction_type == "on-us":
        return QRIS_ON_US_REFUND_DAYS
    return API_REFUND_DAYS.get(payment.payment_type)


def check_window(payment: Payment) -> None:
    days = refund_days(payment)
    paid_at = payment.settlement_time or payment.transaction_time
    if days is None or paid_at is None or utcnow() - paid_at <= timedelta(days=days):
        return
    raise ActionRefused(f"Batas waktu refund {method_name(payment.payment_type)} ({days} hari sejak "
                        f"{jakarta.for_people(paid_at)}) sudah lewat; kembalikan dana di luar Midtrans.")


def open_refund(request: RefundRequest) -> PaymentAction:
    """Check and store a refund through Midtrans with its refund_key, under the order's lock (flushes).

    A refund_key already stored is that same refund again (a double submit, a retry): it is
    returned as it is, to be sent again with the same key while its answer is unknown.
    """
    order = lock_order(request.order_id)
    known = _known_refund(order, request.refund_key)
    if known is not None:
        return known
    payment, how = refund_method(order)
    if how == "manual":
        raise ActionRefused(f"Pembayaran {method_name(payment.payment_type)} tidak bisa dikembalikan lewat "
                            "Midtrans. Transfer dananya dari rekening toko, lalu catat sebagai pengembalian manual.")
    check_window(payment)
    amount = within_balance(order, payment, request.amount)
    return store_action(order, payment, Kind.REFUND, request, amount, refund_key=request.refund_key or
                  new_refund_key(order.id))


def _known_refund(order: Order, refund_key: str | None) -> PaymentAction | None:
    if refund_key is None:
        return None
    if not KEY_PATTERN.fullmatch(refund_key):
        raise ActionRefused("Kunci refund tidak valid.")
    action = db.session.scalar(select(PaymentAction).where(PaymentAction.refund_key == refund_key))
    if action is not None and (action.order_id != order.id or action.kind is not Kind.REFUND):
        raise ActionRefused("Kunci refund ini milik permintaan lain.")
    return action


def store_action(order: Order, payment: Payment, kind: Kind, request: RefundRequest, amount: int, **fields) -> PaymentAction:
    action = PaymentAction(order_id=order.id, payment=payment, kind=kind, actor=request.actor, amount=amount,
                           reason=(request.reason or DEFAULT_REASON)[:300], return_stock=request.return_stock,
                           **fields)
    db.session.add(action)
    order.updated_at = utcnow()  # the order's pages show the refund
    db.session.flush()
    log.info("order=%s %s %s by %s stored key=%s", order.id, kind.value, amount, request.actor, action.refund_key)
    return action


def finish_refund(action_id: int, answer: dict | None, error: gateway.MidtransError | None) -> PaymentAction:
    """Record Midtrans's answer to a refund, under the order's lock (flushes).

    Accepted: the refund is pending in the ledger until the bank confirms it (its notifications).
    Unavailable (timeouts, 5xx after every retry): still pending, to be sent again with the same key.
    Refused: failed, and nothing moved.
    """
    action = db.session.get(PaymentAction, action_id)
    order = lock_order(action.order_id)
    db.session.refresh(action)
    if action.state is not State.PENDING:
        return action
    if isinstance(error, gateway.MidtransUnavailable):
        action.error = f"Midtrans belum menjawab ({error}); kirim ulang: kuncinya sama, tidak akan dobel."
    elif error is not None:
        close_action(order, action, State.FAILED, refusal_message(error))
    else:
        close_action(order, action, State.DONE, None)
        _record_accepted(action, answer or {})
    return action


def close_action(order: Order, action: PaymentAction, state: State, error: str | None) -> None:
    action.state, action.error, action.finished_at = state, error, utcnow()
    order.updated_at = utcnow()
    if state is State.DONE and action.return_stock and lifecycle.release_stock(order):
        log.info("order=%s stock returned with %s by %s", order.id, action.kind.value, action.actor)


def _record_accepted(action: PaymentAction, answer: dict) -> None:
    """An answer naming the refund's id is a requested refund now, keyed as its notifications key it."""
    if not answer.get("refund_chargeback_id"):
        return  # a 406 for our key, or an answer without the id: its notifications record it
    ledger.record_refund(action.payment, action.actor, {
        "refund_chargeback_id": answer["refund_chargeback_id"], "refund_key": action.refund_key,
        "refund_amount": answer.get("refund_amount") or str(action.amount), "reason": action.reason,
        "created_at": jakarta.to_midtrans()})  # the answer's times are the transaction's, not the refund's


REFUSALS = {412: "Midtrans tidak mengizinkan perubahan pada transaksi ini dalam statusnya sekarang (412).",
            414: "Midtrans menolak jumlahnya, atau saldo merchant di Midtrans tidak cukup (414)."}


def refusal_message(error: gateway.MidtransError) -> str:
    known = REFUSALS.get(error.code)
    if known:
        return known
    detail = "; ".join(error.messages) or str(error)
    return f"Midtrans menolak permintaan ({error.code or error.category}): {detail}"[:500]


@dataclass(frozen=True)
class RefundOptions:
    """What the dashboard offers for giving an order's money back now."""

    how: str | None  # "api", "manual", or None when nothing can be refunded now
    refundable: int
    refusal: str | None  # why nothing is offered
    method: str
    whole_only: bool
    unanswered: list  # refunds whose answer from Midtrans is unknown: to be sent again with their key


def refund_options(order: Order) -> RefundOptions:
    """Read (no lock) what a refund of `order` would be; the refund itself checks again under the lock."""
    unanswered = [a for a in ledger.payment_actions(order.id) if a.kind is Kind.REFUND and a.state is State.PENDING]
    available = ledger.order_ledger(order.id).refundable
    try:
        payment, how = refund_method(order)
        if how == "api":
            check_window(payment)
        if available < 1:
            raise ActionRefused("Semua dana pesanan ini sudah dikembalikan atau sedang dalam proses.")
    except ActionRefused as refused:
        return RefundOptions(None, available, str(refused), "", False, unanswered)
    return RefundOptions(how, available, None, method_name(payment.payment_type),
                         payment.payment_type in WHOLE_AMOUNT_ONLY, unanswered)
