"""Money the merchant sent back by bank transfer, for payments Midtrans cannot refund.

Virtual accounts, Mandiri bill and Indomaret/Alfamart payments: the merchant transfers the money
from the shop's own account and records it here (reference, date) with the same checks as a
refund through Midtrans. It is a confirmed refund in the ledger at once, and since no
notification will follow, the attempt and the order move here through the same transition
table. Flushes; the caller commits.
"""
import logging
from dataclasses import dataclass
from datetime import date

from shop import jakarta
from shop.models import utcnow
from shop.orders import lifecycle
from shop.orders.models import Order
from shop.payments import ledger, states
from shop.payments.models import Payment, PaymentAction, PaymentActionKind as Kind, PaymentActionState as State
from shop.payments.models import PaymentStatus
from shop.payments.refunding import (ActionRefused, RefundRequest, close_action, lock_order,
                                     new_refund_key, refund_method, store_action, within_balance)
from shop.vocabulary import method_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManualRefund:
    order_id: int
    amount: int | None
    reason: str
    actor: str
    transfer_reference: str
    transferred_on: date
    return_stock: bool = False


def record_manual_refund(manual: ManualRefund) -> PaymentAction:
    """Record money the merchant sent back by bank transfer (VA, Mandiri bill, store payments) (flushes)."""
    order = lock_order(manual.order_id)
    payment, how = refund_method(order)
    if how != "manual":
        raise ActionRefused(f"Pembayaran {method_name(payment.payment_type)} dikembalikan lewat Midtrans, "
                            "bukan dicatat manual.")
    _check_transfer(manual)
    amount = within_balance(order, payment, manual.amount)
    request = RefundRequest(order.id, amount, manual.reason, manual.actor, return_stock=manual.return_stock)
    action = store_action(order, payment, Kind.MANUAL_REFUND, request, amount, refund_key=new_refund_key(order.id),
                    transfer_reference=manual.transfer_reference.strip(), transferred_on=manual.transferred_on)
    close_action(order, action, State.DONE, None)
    ledger.record_refund(payment, manual.actor, _manual_entry(action))
    _follow_manual_refund(order, payment)
    return action


def _follow_manual_refund(order: Order, payment: Payment) -> None:
    """No notification follows a bank transfer: the attempt and the order move here, by the same table."""
    whole = ledger.order_ledger(order.id)
    target = PaymentStatus.REFUNDED if whole.refunded >= whole.paid else PaymentStatus.PARTIALLY_REFUNDED
    try:
        payment.status = states.next_status(payment.status, states.PaymentEvent(target))
    except states.TransitionError as exc:
        log.warning("order=%s manual refund leaves payment %s as it is: %s", order.id, payment.id, exc)
        return
    lifecycle.move_order(order, states.order_status_for(order), None)


def _check_transfer(manual: ManualRefund) -> None:
    if not manual.transfer_reference.strip():
        raise ActionRefused("Isi nomor referensi transfer bank.")
    if manual.transferred_on > jakarta.today():
        raise ActionRefused("Tanggal transfer tidak boleh di masa depan.")


def _manual_entry(action: PaymentAction) -> dict:
    note = f"transfer bank manual, ref {action.transfer_reference}, {action.transferred_on:%d-%m-%Y}: {action.reason}"
    confirmed = jakarta.to_midtrans(utcnow())
    return {"refund_chargeback_id": f"manual-{action.id}", "refund_key": action.refund_key,
            "refund_amount": str(action.amount), "reason": note, "created_at": confirmed, "bank_confirmed_at": confirmed}
