"""An order's money: every movement recorded once as a MoneyEvent, and the amounts derived from them.

`record_movements` runs inside `applying.apply_status`, under the order's lock, for every Midtrans
status that passed the amount and ownership checks, whatever the transition's outcome: a second
partial refund leaves the payment PARTIALLY_REFUNDED (a duplicate status) but is new money. Each
movement has a key, unique per order, so a duplicated, replayed or out-of-order notification records
nothing twice.

A refund has two notifications: the first lists it in `refunds[]` without `bank_confirmed_at`
(REFUND_REQUESTED), the second with it (REFUNDED). Either may come first. A refund notification
without `refunds[]` (older shape) says the transaction is refunded: its `refund_key` and the part of
the cumulative `refund_amount` not yet recorded are taken as one confirmed refund.
"""
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite

from shop import jakarta
from shop.extensions import db
from shop.models import utcnow
from shop.payments import states
from shop.payments.models import (MoneyEvent, MoneyEventKind as K, Payment, PaymentAction, PaymentActionKind,
                                  PaymentActionState, PaymentStatus)

REFUND_STATUSES = {"refund", "partial_refund"}
CHARGEBACK_STATUSES = {"chargeback", "partial_chargeback"}


@dataclass(frozen=True)
class Ledger:
    """What an order was paid, what went back, what is on its way back, and what may still be refunded."""

    paid: int
    refunded: int
    refund_pending: int

    @property
    def refundable(self) -> int:
        return max(0, self.paid - self.refunded - self.refund_pending)

    def as_dict(self) -> dict:
        return {"paid_amount": self.paid, "refunded_amount": self.refunded,
                "refund_pending_amount": self.refund_pending, "refundable_amount": self.refundable}


def ledger_of(events: list[MoneyEvent], actions: list[PaymentAction] = ()) -> Ledger:
    """Derive the amounts from an order's movements, and the refunds the shop asked for (`actions`)
    that no movement reports yet: those are pending too, so they are never refunded twice."""
    total = {kind: sum(e.amount for e in events if e.kind is kind) for kind in K}
    confirmed = {e.key for e in events if e.kind is K.REFUNDED}
    pending = sum(e.amount for e in events if e.kind is K.REFUND_REQUESTED and e.key not in confirmed)
    return Ledger(paid=total[K.PAID] - total[K.REVERSED], refunded=total[K.REFUNDED] + total[K.CHARGEBACK],
                  refund_pending=pending + unreported_refunds(events, actions))


def unreported_refunds(events: list[MoneyEvent], actions: list[PaymentAction]) -> int:
    """What the shop asked Midtrans to refund (or may have: its answer is unknown) that no movement reports yet."""
    reported = {e.refund_key for e in events if e.refund_key}
    return sum(a.amount or 0 for a in actions if a.kind is PaymentActionKind.REFUND
               and a.state is not PaymentActionState.FAILED and a.refund_key not in reported)


def order_ledger(order_id: int) -> Ledger:
    return ledger_of(money_events(order_id), payment_actions(order_id))


def payment_actions(order_id: int) -> list[PaymentAction]:
    """What admins did to the order's payments, oldest first."""
    return list(db.session.scalars(select(PaymentAction).where(PaymentAction.order_id == order_id)
                                   .order_by(PaymentAction.id)))


def money_events(order_id: int) -> list[MoneyEvent]:
    """The order's movements, oldest first."""
    return list(db.session.scalars(select(MoneyEvent).where(MoneyEvent.order_id == order_id)
                                   .order_by(MoneyEvent.happened_at, MoneyEvent.id)))


def record_movements(payment: Payment, before: PaymentStatus, status: dict, actor: str) -> set[K]:
    """Record the money this status says moved for `payment`; the kinds of what was new (empty: nothing).

    Each movement is inserted unless its key is recorded already (ON CONFLICT DO NOTHING), so
    nothing is counted twice whatever path the payment took to get here.
    """
    movements = _paid_or_reversed(payment, before, status)
    if _says_money_went_back(status):
        movements += _money_back(payment, status)
    return {movement["kind"] for movement in movements if _record_once(payment, actor, movement)}


def record_refund(payment: Payment, actor: str, entry: dict) -> bool:
    """Record one refund from an entry shaped like Midtrans's `refunds[]` (a refund answer, or the
    merchant's own bank transfer); True when it was new. Its key is the one notifications use."""
    movement = _money_back_event(entry, chargeback=False)
    return movement is not None and _record_once(payment, actor, movement)


def _record_once(payment: Payment, actor: str, movement: dict) -> bool:
    values = {"order_id": payment.order_id, "payment_id": payment.id, "actor": actor, "recorded_at": utcnow(),
              **movement}
    inserted = db.session.execute(_insert_unless_recorded(db.session.get_bind().dialect.name), values)
    return inserted.first() is not None  # the new row's id; nothing when the key was recorded already


@cache
def _insert_unless_recorded(dialect: str) -> Insert:
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = MoneyEvent.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["order_id", "kind", "key"]).returning(table.c.id)


def _paid_or_reversed(payment: Payment, before: PaymentStatus, status: dict) -> list[dict]:
    # Midtrans's own paths enter a paid state once per payment; the key keeps it once on any other path.
    paid_now, paid_before = payment.status in states.PAID, before in states.PAID
    if paid_now == paid_before:
        return []
    if paid_now:
        when = payment.settlement_time or payment.transaction_time or utcnow()
        return [_event(K.PAID, f"payment-{payment.id}", payment.gross_amount, when, fee=_fee(payment, status))]
    return [_event(K.REVERSED, f"payment-{payment.id}", payment.gross_amount, utcnow(),
                   reason=status.get("status_message"))]


def _says_money_went_back(status: dict) -> bool:
    return (status.get("transaction_status") or "").lower() in REFUND_STATUSES | CHARGEBACK_STATUSES


def _money_back(payment: Payment, status: dict) -> list[dict]:
    chargeback = status["transaction_status"].lower() in CHARGEBACK_STATUSES
    entries = status.get("refunds")
    if not isinstance(entries, list) or not entries:
        entries = [_entry_without_list(payment, status)]
    events = (_money_back_event(entry, chargeback) for entry in entries if isinstance(entry, dict))
    return [event for event in events if event is not None]


def _entry_without_list(payment: Payment, status: dict) -> dict:
    """The one confirmed refund an older body without `refunds[]` stands for: what its cumulative
    `refund_amount` adds to what this payment's recorded refunds and chargebacks already hold."""
    cumulative = states.parse_rupiah(status.get("refund_amount")) or 0
    known = db.session.scalar(select(func.coalesce(func.sum(MoneyEvent.amount), 0)).where(
        MoneyEvent.order_id == payment.order_id,  # the indexed column; the payment narrows it
        MoneyEvent.payment_id == payment.id, MoneyEvent.kind.in_((K.REFUNDED, K.CHARGEBACK))))
    key = status.get("refund_key") or f"{payment.midtrans_order_id}-refund-{cumulative}"
    confirmed_at = status.get("settlement_time") or status.get("transaction_time") or jakarta.to_midtrans()
    return {"refund_key": key, "refund_amount": str(cumulative - known), "bank_confirmed_at": confirmed_at}


def _money_back_event(entry: dict, chargeback: bool) -> dict | None:
    amount = states.parse_rupiah(str(entry.get("refund_amount", "")))
    key = str(entry.get("refund_chargeback_id") or entry.get("refund_key") or "")[:120]
    if not amount or not key:
        return None
    confirmed_at = entry.get("bank_confirmed_at")
    if chargeback:
        kind = K.CHARGEBACK
    else:
        kind = K.REFUNDED if confirmed_at is not None else K.REFUND_REQUESTED
    when = jakarta.from_midtrans(confirmed_at) or jakarta.from_midtrans(entry.get("created_at")) or utcnow()
    reason, refund_key = entry.get("reason"), entry.get("refund_key")
    return _event(kind, key, amount, when, reason=str(reason)[:300] if reason else None,
                  refund_key=str(refund_key)[:120] if refund_key else None)


def _fee(payment: Payment, status: dict) -> int:
    """Midtrans's fee, when the shopper paid it on top (Automatic Fee Imposition)."""
    charged = states.parse_rupiah(status.get("gross_amount"))
    return charged - payment.gross_amount if charged and charged > payment.gross_amount else 0


def _event(kind: K, key: str, amount: int, when, fee: int = 0, reason: str | None = None,
           refund_key: str | None = None) -> dict:
    return {"kind": kind, "key": key, "amount": amount, "fee": fee, "reason": reason, "happened_at": when,
            "refund_key": refund_key}
