"""The merchant's paid-order messages (per order, or a digest) and the daily summary: each sent once."""
from datetime import datetime, timedelta

import pytest

from shop import jakarta
from shop.extensions import db
from shop.models import utcnow
from shop.operations import merchant
from shop.orders.models import OrderStatus
from shop.payments.models import MoneyEvent, MoneyEventKind
from tests.factories import OrderFactory, PaymentFactory
from tests.operations.helpers import deliver

MERCHANT = "pemilik@tokokita.test"


@pytest.fixture(autouse=True)
def merchant_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_ALERT_EMAIL", MERCHANT)


def paid_order(paid_at, total=150000):
    return OrderFactory(status=OrderStatus.SUCCESS, paid_at=paid_at, total=total)


def sent_by(job, *args):
    return deliver(job(*args))


def test_each_paid_order_is_told_once(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_PAID_ORDER_MODE", "order")
    now = utcnow()
    first, second = paid_order(now - timedelta(minutes=3)), paid_order(now - timedelta(minutes=1))
    outbox = sent_by(merchant.owe_paid_order_messages, now)
    assert [m.subject for m in outbox] == [f"[Toko Kita] Pesanan #{first.id} sudah dibayar",
                                           f"[Toko Kita] Pesanan #{second.id} sudah dibayar"]
    assert "Rp 150.000" in outbox[0].body and outbox[0].recipients == [MERCHANT]
    assert sent_by(merchant.owe_paid_order_messages, now + timedelta(minutes=1)) == []
    third = paid_order(now + timedelta(minutes=2))
    outbox = sent_by(merchant.owe_paid_order_messages, now + timedelta(minutes=3))
    assert [m.subject for m in outbox] == [f"[Toko Kita] Pesanan #{third.id} sudah dibayar"]


def test_a_digest_every_n_minutes_lists_the_orders_paid_since_the_last(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_PAID_ORDER_MODE", "digest")
    monkeypatch.setitem(app.config, "MERCHANT_DIGEST_MINUTES", 30)
    now = utcnow()
    orders = [paid_order(now - timedelta(minutes=m)) for m in (20, 10)]
    [digest] = sent_by(merchant.owe_paid_order_messages, now)
    assert digest.subject == "[Toko Kita] 2 pesanan baru dibayar"
    assert all(f"Pesanan #{o.id}:" in digest.body for o in orders)
    late = paid_order(now + timedelta(minutes=5))
    assert sent_by(merchant.owe_paid_order_messages, now + timedelta(minutes=10)) == []  # not due yet
    [digest] = sent_by(merchant.owe_paid_order_messages, now + timedelta(minutes=31))
    assert digest.subject == "[Toko Kita] 1 pesanan baru dibayar" and f"#{late.id}:" in digest.body


def test_paid_order_messages_can_be_turned_off(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_PAID_ORDER_MODE", "off")
    paid_order(utcnow())
    assert sent_by(merchant.owe_paid_order_messages, utcnow()) == []


def test_the_daily_summary_is_sent_once_after_its_hour(app, monkeypatch):
    monkeypatch.setitem(app.config, "DAILY_SUMMARY_HOUR", 7)
    yesterday_noon = datetime(2026, 12, 2, 12, 0, tzinfo=jakarta.ZONE)
    paid_order(yesterday_noon, total=200000).created_at = yesterday_noon
    payment = PaymentFactory(order=paid_order(yesterday_noon, total=50000))
    db.session.add(MoneyEvent(order_id=payment.order_id, payment_id=payment.id, kind=MoneyEventKind.REFUNDED,
                              key="r1", amount=20000, actor="webhook", happened_at=yesterday_noon))
    db.session.flush()
    before_hour = datetime(2026, 12, 3, 6, 59, tzinfo=jakarta.ZONE)
    assert sent_by(merchant.owe_daily_summary, before_hour) == []
    [summary] = sent_by(merchant.owe_daily_summary, before_hour + timedelta(minutes=1))
    assert summary.subject == "[Toko Kita] Ringkasan 02-12-2026"
    assert "Pesanan dibayar: 2, total Rp 250.000." in summary.body
    assert "Refund: 1, total Rp 20.000." in summary.body
    assert sent_by(merchant.owe_daily_summary, before_hour + timedelta(hours=5)) == []


def test_the_beat_tasks_run_and_commit(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_PAID_ORDER_MODE", "order")
    paid_order(utcnow())
    tasks = app.extensions["celery"].tasks  # this app's (another test's app may be Celery's default)
    check_alerts, send_daily_summary = tasks["operations.check_alerts"], tasks["operations.send_daily_summary"]
    send_paid_order_messages = tasks["operations.send_paid_order_messages"]
    assert check_alerts() == []
    assert send_paid_order_messages() == 1
    assert send_paid_order_messages() == 0
    summarised = send_daily_summary()  # yesterday's, unless it is before DAILY_SUMMARY_HOUR in Jakarta
    assert send_daily_summary() is None  # never twice
    local = utcnow().astimezone(jakarta.ZONE)
    assert summarised == (None if local.hour < app.config["DAILY_SUMMARY_HOUR"]
                          else (local.date() - timedelta(days=1)).isoformat())
