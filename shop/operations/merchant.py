"""The merchant's own messages: each paid order (alone or in a digest every MERCHANT_DIGEST_MINUTES)
and the day's summary after DAILY_SUMMARY_HOUR (Jakarta time). Each is recorded in
`merchant_messages` before it is sent, so it goes out once, whichever run or process gets to it.
Flushes and sends; the task commits (shop.operations.tasks).
"""
import logging
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.orm import selectinload

from shop import jakarta
from shop.extensions import db
from shop.formatting import rupiah
from shop.operations.mailing import merchant_address, send_to_merchant
from shop.operations.models import MerchantMessage
from shop.orders.models import Order
from shop.payments.models import MoneyEvent, MoneyEventKind, Notification, NotificationState

log = logging.getLogger(__name__)

PAID_ORDER = "paid_order"
DAILY_SUMMARY = "daily_summary"
LOOK_BACK = timedelta(days=1)  # paid orders older than this are never announced (e.g. when first turned on)


def unannounced_paid_orders(now: datetime) -> list[Order]:
    """Orders paid in the last day that the merchant has not been told about, oldest first."""
    told = exists().where(MerchantMessage.kind == PAID_ORDER, MerchantMessage.key == cast(Order.id, String))
    return list(db.session.scalars(select(Order).options(selectinload(Order.lines))
                                   .where(Order.paid_at >= now - LOOK_BACK, ~told).order_by(Order.paid_at, Order.id)))


def send_paid_order_messages(now: datetime) -> int:
    """Tell the merchant about newly paid orders as MERCHANT_PAID_ORDER_MODE says; returns the e-mails sent."""
    mode = current_app.config["MERCHANT_PAID_ORDER_MODE"]
    if mode == "off" or merchant_address() is None or (mode == "digest" and not _digest_due(now)):
        return 0
    orders = unannounced_paid_orders(now)
    if not orders:
        return 0
    for order in orders:
        db.session.add(MerchantMessage(kind=PAID_ORDER, key=str(order.id), sent_at=now))
    db.session.flush()  # a second run at the same time fails on the unique key instead of sending again
    if mode == "digest":
        send_to_merchant(f"{len(orders)} pesanan baru dibayar", [_order_line(o) for o in orders], "merchant_paid")
        return 1
    for order in orders:
        send_to_merchant(f"Pesanan #{order.id} sudah dibayar", [_order_line(order), *_items(order)], "merchant_paid")
    return len(orders)


def _digest_due(now: datetime) -> bool:
    last = db.session.scalar(select(func.max(MerchantMessage.sent_at)).where(MerchantMessage.kind == PAID_ORDER))
    return last is None or now - last >= timedelta(minutes=current_app.config["MERCHANT_DIGEST_MINUTES"])


def _order_line(order: Order) -> str:
    return (f"Pesanan #{order.id}: {rupiah(order.total)}, dibayar {jakarta.for_people(order.paid_at)}, "
            f"kirim ke {order.shipping_name or '-'}.")


def _items(order: Order) -> list[str]:
    return [f"- {line.name} x {line.quantity}: {rupiah(line.subtotal)}" for line in order.lines]


def send_daily_summary(now: datetime) -> date | None:
    """Yesterday's summary (Jakarta days), once, after DAILY_SUMMARY_HOUR; the day summarised, or None."""
    local = now.astimezone(jakarta.ZONE)
    day = local.date() - timedelta(days=1)
    if merchant_address() is None or local.hour < current_app.config["DAILY_SUMMARY_HOUR"]:
        return None
    if db.session.scalar(select(MerchantMessage.id).where(MerchantMessage.kind == DAILY_SUMMARY,
                                                          MerchantMessage.key == day.isoformat())):
        return None
    db.session.add(MerchantMessage(kind=DAILY_SUMMARY, key=day.isoformat(), sent_at=now))
    db.session.flush()
    send_to_merchant(f"Ringkasan {day:%d-%m-%Y}", summary_lines(day), "merchant_summary")
    return day


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
