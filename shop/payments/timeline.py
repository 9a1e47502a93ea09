"""An order's timeline: who did what, oldest first, read from what the shop already records.

The order and its attempts (the shopper), every notification and status check with what the shop
made of it (webhook, reconciler, system), and every movement of money (shop.payments.ledger).
Descriptions are Indonesian; `kind` and `actor` stay codes for the JSON of `flask shop show-order`,
and pages show `actor_label`.
"""
from dataclasses import dataclass
from datetime import datetime

from shop.formatting import rupiah
from shop.orders.models import Order
from shop.payments.models import (MoneyEvent, MoneyEventKind as K, Notification, NotificationSource as Source,
                                  PaymentAction, PaymentActionKind as A, PaymentActionState)

OUTCOMES = {"APPLIED": "diterapkan", "DUPLICATE": "duplikat, tidak mengubah apa pun",
            "STALE": "lebih lama dari yang sudah ada, diabaikan", "AMOUNT_MISMATCH": "jumlah tidak cocok, ditandai",
            "UNKNOWN_STATUS": "status tidak dikenal", "REJECTED": "ditolak, ditandai untuk admin"}
SOURCES = {Source.WEBHOOK: "Notifikasi Midtrans", Source.RECONCILE: "Cek status Midtrans",
           Source.REPLAY: "Notifikasi diputar ulang"}
ACTOR_LABELS = {"shopper": "pembeli", "webhook": "notifikasi Midtrans", "reconciler": "rekonsiliasi",
                "system": "sistem", "cli": "admin (baris perintah)"}
MONEY = {K.PAID: "Pembayaran diterima", K.REVERSED: "Pembayaran dibatalkan Midtrans (reversal/void)",
         K.REFUND_REQUESTED: "Pengembalian dana diajukan", K.REFUNDED: "Pengembalian dana dikonfirmasi bank",
         K.CHARGEBACK: "Dana ditarik kembali oleh penerbit kartu (chargeback)"}


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    actor: str
    description: str
    amount: int | None = None
    recorded: datetime | None = None  # when the shop wrote it down, if not `at`

    def sort_key(self) -> tuple:
        """By time to the second, Midtrans's precision; within a second, in the order the shop recorded
        them, so a payment dated by Midtrans never comes before the notification that told of it."""
        return self.at.replace(microsecond=0), self.recorded or self.at

    @property
    def actor_label(self) -> str:
        """The actor as the pages say it (an admin's e-mail stays as it is)."""
        return ACTOR_LABELS.get(self.actor, self.actor)

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "kind": self.kind, "actor": self.actor, "amount": self.amount,
                "description": self.description}


ACTIONS = {A.REFUND: "Refund {amount} diminta ke Midtrans", A.MANUAL_REFUND: "Pengembalian dana {amount} "
           "lewat transfer bank dicatat (ref {ref}, {day})", A.CANCEL: "Pembatalan {payment} diminta ke Midtrans",
           A.EXPIRE: "Kedaluwarsa {payment} diminta ke Midtrans", A.APPROVE: "Pembayaran {payment} disetujui "
           "(fraud review)", A.DENY: "Pembayaran {payment} ditolak (fraud review)"}
ACTION_STATES = {PaymentActionState.PENDING: "menunggu jawaban Midtrans", PaymentActionState.DONE: "diterima",
                 PaymentActionState.FAILED: "gagal"}


def order_timeline(order: Order, events: list[MoneyEvent], actions: list[PaymentAction] = ()) -> list[Entry]:
    """Everything that happened to `order`, oldest first; `events` are its movements (ledger.money_events),
    `actions` what admins did (ledger.payment_actions)."""
    entries = [Entry(order.created_at, "order_placed", "shopper", f"Pesanan dibuat, total {rupiah(order.total)}")]
    for payment in order.payments:
        entries.append(Entry(payment.created_at, "attempt_opened", "shopper",
                             f"Percobaan pembayaran ke-{payment.attempt} dibuka ({payment.midtrans_order_id})"))
        entries.extend(_notification(note) for note in payment.notifications)
    entries.extend(_money(event) for event in events)
    entries.extend(_action(action) for action in actions)
    return sorted(entries, key=Entry.sort_key)


def _notification(note: Notification) -> Entry:
    status = note.transaction_status or "-"
    result = OUTCOMES.get(note.outcome.value, note.outcome.value) if note.outcome else "belum diproses"
    return Entry(note.received_at, "notification", note.source.actor, f"{SOURCES[note.source]}: {status}, {result}")


def _money(event: MoneyEvent) -> Entry:
    description = MONEY[event.kind]
    if event.fee:
        description += f" (termasuk biaya Midtrans {rupiah(event.fee)} yang dibayar pembeli)"
    if event.reason:
        description += f": {event.reason}"
    return Entry(event.happened_at, event.kind.value.lower(), event.actor, description, event.amount,
                 recorded=event.recorded_at)


def _action(action: PaymentAction) -> Entry:
    day = f"{action.transferred_on:%d-%m-%Y}" if action.transferred_on else "-"
    text = ACTIONS[action.kind].format(amount=rupiah(action.amount), ref=action.transfer_reference, day=day,
                                       payment=action.payment.midtrans_order_id)
    if action.kind is not A.MANUAL_REFUND:
        text += f" ({ACTION_STATES[action.state]}{': ' + action.error if action.error else ''})"
    if action.reason:
        text += f": {action.reason}"
    if action.return_stock:
        text += "; stok dikembalikan" if action.state is PaymentActionState.DONE else "; stok akan dikembalikan"
    return Entry(action.created_at, action.kind.value.lower(), action.actor, text)
