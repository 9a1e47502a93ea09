"""The merchant's own messages: each paid order (alone or in a digest every MERCHANT_DIGEST_MINUTES)
and the day's summary after DAILY_SUMMARY_HOUR (Jakarta time). A paid order is remembered in
`merchant_messages` when its e-mail is owed, so it is announced once, whichever run or process
gets to it; the e-mails go through the outbox (shop.operations.mailing), keyed by the order, the
digest's moment or the day, and are written when they are sent. Flushes; the task commits and
queues them (shop.operations.tasks).
"""
import logging
from datetime import date, datetime, timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.orm import selectinload

from shop import jakarta
from shop.extensions import db
from shop.formatting import rupiah
from shop.operations.mailing import DAILY_SUMMARY, PAID_DIGEST, PAID_ORDER, merchant_address, owe, to_merchant
from shop.operations.models import MerchantMessage
from shop.orders.models import Order
from shop.outbox import services as outbox
from shop.payments.models import MoneyEvent, MoneyEventKind, Notification, NotificationState

log = logging.getLogger(__name__)

TOLD_PAID = "paid_order"  # merchant_messages.kind of an announced order (key: its id)
LOOK_BACK = timedelta(days=1)  # paid orders older than this are never announced (e.g. when first turned on)


def unannounced_paid_orders(now: datetime) -> list[Order]:
    """Orders paid in the last day that the merchant has not been told about, oldest first."""
    told = exists().where(MerchantMessage.kind == TOLD_PAID, MerchantMessage.key == cast(Order.id, String))
    return list(db.session.scalars(select(Order).where(Order.paid_at >= now - LOOK_BACK, ~told)
                                   .order_by(Order.paid_at, Order.id)))


def owe_paid_order_messages(now: datetime) -> dict[str, int]:
    """Owe the merchant the newly paid orders as MERCHANT_PAID_ORDER_MODE says (flushes).

    Returns the e-mails owed: "order:<id>" or "digest" -> outbox id."""
    mode = current_app.config["MERCHANT_PAID_ORDER_MODE"]
    if mode == "off" or merchant_address() is None or (mode == "digest" and not _digest_due(now)):
        return {}
    orders = unannounced_paid_orders(now)
    if not orders:
        return {}
    for order in orders:
        db.session.add(MerchantMessage(kind=TOLD_PAID, key=str(order.id), owed_at=now))
    db.session.flush()  # a second run at the same time fails on the unique key instead of owing again
    owed = {}
    if mode == "digest":
        owe(owed, "digest", PAID_DIGEST, f"digest:{now.isoformat()}")
        return owed
    for order in orders:
        owe(owed, f"order:{order.id}", PAID_ORDER, f"order:{order.id}")
    return owed


def _digest_due(now: datetime) -> bool:
    last = db.session.scalar(select(func.max(MerchantMessage.owed_at)).where(MerchantMessage.kind == TOLD_PAID))
    return last is None or now - last >= timedelta(minutes=current_app.config["MERCHANT_DIGEST_MINUTES"])


@outbox.renders(PAID_ORDER)
def paid_order_email(key: str) -> Message | None:
    """One paid order: its amount, when it was paid, where it goes and its lines."""
    order = db.session.get(Order, int(key.removeprefix("order:")), options=[selectinload(Order.lines)])
    return to_merchant(f"Pesanan #{order.id} sudah dibayar", [_order_line(order), *_items(order)])


@outbox.renders(PAID_DIGEST)
def paid_digest_email(key: str) -> Message | None:
    """The orders announced together at the digest's moment."""
    moment = datetime.fromisoformat(key.removeprefix("digest:"))
    orders = db.session.scalars(select(Order).join(MerchantMessage, MerchantMessage.key == cast(Order.id, String))
                                .where(MerchantMessage.kind == TOLD_PAID, MerchantMessage.owed_at == moment)
                                .order_by(Order.paid_at, Order.id)).all()
    return to_merchant(f"{len(orders)} pesanan baru dibayar", [_order_line(o) for o in orders]) if orders else None


def _order_line(order: Order) -> str:
    return (f"Pesanan #{order.id}: {rupiah(order.total)}, dibayar {jakarta.for_people(order.paid_at)}, "
            f"kirim ke {order.shipping_name or '-'}.")


def _items(order: Order) -> list[str]:
    return [f"- {line.name} x {line.quantity}: {rupiah(line.subtotal)}" for line in order.lines]


def owe_daily_summary(now: datetime) -> dict[str, int]:
    """Owe yesterday's summary (Jakarta days), once, after DAILY_SUMMARY_HOUR (flushes).

    Returns the e-mail owed: the day (ISO) -> outbox id; nothing when it is owed already."""
    local = now.astimezone(jakarta.ZONE)
    day = local.date() - timedelta(days=1)
    if merchant_address() is None or local.hour < current_app.config["DAILY_SUMMARY_HOUR"]:
        return {}
    owed = {}
    owe(owed, day.isoformat(), DAILY_SUMMARY, day.isoformat())
    return owed


@outbox.renders(DAILY_SUMMARY)
def daily_summary_email(key: str) -> Message | None:
    day = date.fromisoformat(key)
    return to_merchant(f"Ringkasan {day:%d-%m-%Y}", summary_lines(day))


def summary_lines(day: date) -> list[str]:
    """Orders, money paid and refunded, and failures of one Jakarta day, in Indonesian."""
    start, end = jakarta.start_of_day(day), jakarta.start_of_day(day + timedelta(days=1))
    created = db.session.scalar(select(func.count(Order.id)).where(Order.created_at >= start, Order.created_at < end))
    paid, paid_total = db.session.execute(select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
                                          .where(Order.paid_at >= start, Order.paid_at < end)).one()
    refunds, refunded = db.session.execute(
        select(func.count(MoneyEvent.id), func.coalesce(func.sum(MoneyEvent.amount), 0))
        .where(MoneyEvent.kind == MoneyEventKind.REFUNDED, MoneyEvent.happened_at >= start,
               MoneyEvent.happened_at < end)).one()
    failed = db.session.scalar(select(func.count(Notification.id)).where(
        Notification.state == NotificationState.FAILED, Notification.received_at >= start, Notification.received_at < end))
    return [f"Pesanan dibuat: {created}.", f"Pesanan dibayar: {paid}, total {rupiah(int(paid_total))}.",
            f"Refund: {refunds}, total {rupiah(int(refunded))}.", f"Notifikasi gagal diproses: {failed}."]
