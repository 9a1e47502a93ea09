"""The commit boundary of an admin's money actions, shared by the dashboard and `flask midtrans ...`.

Each action is two steps with a commit each: (1) check it under the order's lock and store it (a
refund with its refund_key), commit -- so the key exists before Midtrans hears of it and no row
stays locked while Midtrans is called; then Midtrans is called; (2) record the answer, commit.
After each commit the order's cached pages are cleared. Refusals raise `ActionRefused` with an
Indonesian message and change nothing.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass

from shop.extensions import db
from shop.formatting import rupiah
from shop.orders.models import Order
from shop.payments import emails, gateway, refunding, reviewing
from shop.payments.announcing import OrderChange, announce_order_change
from shop.payments.models import PaymentAction, PaymentActionKind as Kind, PaymentActionState as State
from shop.payments.manual_refunds import ManualRefund, record_manual_refund
from shop.payments.refunding import ActionRefused, RefundRequest

log = logging.getLogger(__name__)

__all__ = ["ActionRefused", "ActionResult", "ManualRefund", "RefundRequest", "act", "manual_refund", "refund"]


@dataclass(frozen=True)
class ActionResult:
    """What became of one action, for a flash message or the CLI's JSON."""

    action_id: int
    order_id: int
    kind: Kind
    state: State
    actor: str
    amount: int | None
    refund_key: str | None
    midtrans_order_id: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.state is State.DONE

    @property
    def message(self) -> str:
        if self.state is State.FAILED:
            return self.error or "Gagal."
        if self.state is State.PENDING:
            return (f"Midtrans belum menjawab; refund {rupiah(self.amount)} tersimpan dengan kunci {self.refund_key}. "
                    "Kirim ulang untuk mencoba lagi: kuncinya sama, dananya tidak akan dikembalikan dua kali.")
        if self.kind is Kind.REFUND:
            return f"Refund {rupiah(self.amount)} diterima Midtrans; menunggu konfirmasi bank."
        if self.kind is Kind.MANUAL_REFUND:
            return f"Pengembalian dana manual {rupiah(self.amount)} sudah dicatat."
        return (f"Pembayaran {self.midtrans_order_id} {reviewing.NAMES[self.kind]} oleh Midtrans; "
                "statusnya berubah saat notifikasinya tiba.")

    def as_dict(self) -> dict:
        return {"action_id": self.action_id, "order_id": self.order_id, "action": self.kind.value.lower(),
                "state": self.state.value.lower(), "actor": self.actor, "amount": self.amount,
                "refund_key": self.refund_key, "midtrans_order_id": self.midtrans_order_id, "error": self.error,
                "message": self.message}


def refund(request: RefundRequest) -> ActionResult:
    """Refund through Midtrans: store the refund and its key, call Midtrans with it, record the answer."""
    action = _committed(request.order_id, lambda: refunding.open_refund(request))
    if action.state is State.PENDING:
        answer, error = _send_refund(action)
        action = _committed(request.order_id, lambda: refunding.finish_refund(action.id, answer, error))
    return _result(action)


def _send_refund(action: PaymentAction) -> tuple[dict | None, gateway.MidtransError | None]:
    payment = action.payment
    try:
        return gateway.refund(payment.transaction_id or payment.midtrans_order_id, action.refund_key,
                              action.amount, action.reason), None
    except gateway.MidtransError as error:
        log.warning("order=%s refund key=%s not done: %s", action.order_id, action.refund_key, error)
        return None, error


def manual_refund(manual: ManualRefund) -> ActionResult:
    """Record a refund the merchant made by bank transfer; no call to Midtrans."""
    return _result(_committed(manual.order_id, lambda: record_manual_refund(manual)))


def act(order_id: int, kind: Kind, actor: str) -> ActionResult:
    """Cancel, expire, approve or deny the order's attempt that allows it; its notification does the rest."""
    action = _committed(order_id, lambda: reviewing.open_action(order_id, kind, actor))
    _answer, error = reviewing.call_midtrans(action)
    return _result(_committed(order_id, lambda: reviewing.finish_action(action.id, error)))


def _committed(order_id: int, step: Callable[[], PaymentAction]) -> PaymentAction:
    """Run `step` and commit, then clear the order's pages; roll back on any error and re-raise it."""
    order = db.session.get(Order, order_id)
    before = order.status if order is not None else None
    try:
        action = step()
        # A bank transfer is confirmed when recorded (no notification follows): the shopper is told now.
        email_ids = emails.owe_refund_emails(order_id) if action.kind is Kind.MANUAL_REFUND else ()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    order = db.session.get(Order, order_id)
    announce_order_change(OrderChange(None, order.id, order.user_id, before, order.status,
                                      action.payment.status, email_ids, money_moved=True))
    return action


def _result(action: PaymentAction) -> ActionResult:
    return ActionResult(action.id, action.order_id, action.kind, action.state, action.actor, action.amount,
                        action.refund_key, action.payment.midtrans_order_id, action.error)
