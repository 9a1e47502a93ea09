"""The webhook health panel: its level and reasons from the database, and the panel on the dashboard."""
import pytest

from shop.models import utcnow
from shop.operations.health import AMBER, GREEN, RED, webhook_health
from shop.payments.models import NotificationState, PaymentStatus
from tests.factories import PaymentFactory, UserFactory
from tests.operations.helpers import ago, note, reconciled
from tests.orders.helpers import log_in


def test_a_quiet_shop_with_notifications_arriving_is_green():
    now = utcnow()
    note(ago(now, minutes=5))
    note(ago(now, hours=3))
    health = webhook_health(now)
    assert (health.level, health.snapshot.received_last_hour, health.snapshot.received_last_day) == (GREEN, 1, 2)


def test_payments_the_reconciler_had_to_settle_today_make_it_amber():
    now = utcnow()
    note(ago(now, minutes=5))
    reconciled(ago(now, hours=5))
    health = webhook_health(now)
    assert health.level == AMBER
    assert health.reasons == ["Rekonsiliasi melunasi 1 pembayaran dalam 24 jam terakhir: "
                              "sebagian notifikasi tidak sampai."]


def test_silence_while_the_reconciler_finds_paid_payments_is_red(app):
    now = utcnow()
    note(ago(now, minutes=app.config["ALERT_SILENCE_MINUTES"] + 10))
    reconciled(ago(now, minutes=3))
    health = webhook_health(now)
    assert health.level == RED
    assert health.reasons[0].startswith(f"Tidak ada notifikasi Midtrans selama {app.config['ALERT_SILENCE_MINUTES'] + 10} menit")


def test_a_notification_waiting_too_long_is_red(app):
    now = utcnow()
    note(ago(now, minutes=app.config["ALERT_WAITING_MINUTES"] + 1), state=NotificationState.RECEIVED)
    health = webhook_health(now)
    assert health.level == RED and "menunggu" in health.reasons[0]
    assert health.snapshot.waiting == 1


def test_the_oldest_open_payment_is_counted():
    now = utcnow()
    PaymentFactory(status=PaymentStatus.PENDING, created_at=ago(now, hours=2))
    PaymentFactory(status=PaymentStatus.CREATED, created_at=ago(now, minutes=5))
    snapshot = webhook_health(now).snapshot
    assert snapshot.open_payments == 2
    assert snapshot.age(snapshot.oldest_open_at) == pytest.approx(7200, abs=1)


def test_the_orders_page_shows_the_panel_first(client):
    log_in(client, UserFactory(is_admin=True))
    note(ago(minutes=1))
    reconciled(ago(minutes=30))
    page = client.get("/dashboard/pesanan").get_data(as_text=True)
    assert "Kesehatan notifikasi Midtrans" in page
    assert "health-kuning" in page and "Dilunasi rekonsiliasi (24 jam)" in page
    assert page.index("webhook-health") < page.index("totals")
