"""Alerts to the merchant: each condition alerts once, at most hourly, and resolves once; time is moved
by the test (every check is given its `now`), never slept through."""
from datetime import timedelta

import pytest

from shop.extensions import db
from shop.models import utcnow
from shop.operations.alerts import check_alerts
from shop.operations.models import AlertState
from shop.payments.models import NotificationState
from tests.factories import OrderFactory
from tests.operations.helpers import deliver, note, reconciled

MERCHANT = "pemilik@tokokita.test"


@pytest.fixture(autouse=True)
def merchant(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_ALERT_EMAIL", MERCHANT)
    monkeypatch.setitem(app.config, "ALERT_SILENCE_MINUTES", 60)
    monkeypatch.setitem(app.config, "ALERT_RECONCILE_SETTLED_MAX", 2)
    monkeypatch.setitem(app.config, "ALERT_WAITING_MINUTES", 15)


def run(start, minutes: float) -> tuple[list[str], list]:
    """The alerts' check at `start` + `minutes`: the e-mails it owed, and those messages as sent."""
    owed = check_alerts(start + timedelta(minutes=minutes))
    return list(owed), deliver(owed)


def timeline(start, *minutes: float) -> list[str]:
    return [event for m in minutes for event in run(start, m)[0]]


def test_silence_while_the_reconciler_finds_payments_alerts_once_and_resolves_once():
    start = utcnow()
    note(start)  # the last notification Midtrans sent
    reconciled(start + timedelta(minutes=61))  # then the reconciler finds a paid payment
    sent, outbox = run(start, 62)
    assert sent == ["alert:silence"]
    assert outbox[0].recipients == [MERCHANT]
    assert outbox[0].subject == "[Toko Kita] Peringatan: notifikasi Midtrans tidak datang"
    assert "Tidak ada notifikasi Midtrans selama 62 menit" in outbox[0].body
    assert timeline(start, 70, 90, 110) == []  # still silent: within the hour, nothing more
    note(start + timedelta(minutes=115))  # notifications arrive again
    sent, outbox = run(start, 116)
    assert sent == ["resolved:silence"] and outbox[0].subject.startswith("[Toko Kita] Sudah normal:")
    assert timeline(start, 120, 200) == []


def test_the_reconciler_settling_more_than_n_in_an_hour_alerts_once_and_resolves_once():
    start = utcnow()
    note(start)
    for minute in (1, 2, 3):
        reconciled(start + timedelta(minutes=minute))
    assert timeline(start, 4, 30, 50) == ["alert:reconciler"]
    assert timeline(start, 65, 90) == ["resolved:reconciler"]  # the hour has passed: under N again


def test_a_notification_waiting_longer_than_m_minutes_alerts_once_and_resolves_once():
    start = utcnow()
    waiting = note(start, state=NotificationState.RECEIVED)
    assert timeline(start, 5, 16, 30, 59) == ["alert:processing"]
    waiting.state = NotificationState.PROCESSED
    db.session.flush()
    assert timeline(start, 60, 61) == ["resolved:processing"]


def test_a_failing_condition_reminds_at_most_once_an_hour():
    start = utcnow()
    note(start, state=NotificationState.RECEIVED)
    # Alerted at 16, then nothing until an hour has passed (77), and again (138).
    assert timeline(start, 16, 50, 75, 77, 136, 138) == ["alert:processing"] * 3


def test_payment_emails_not_sent_alert_once_and_resolve_once(app):
    start = utcnow()
    order = OrderFactory()
    owed = _owed_email(order, start)
    assert timeline(start, 10, 16, 40) == ["alert:emails"]
    owed.outcome, owed.sent_at = "sent", start + timedelta(minutes=41)
    db.session.flush()
    assert timeline(start, 42, 50) == ["resolved:emails"]


def test_the_state_is_in_the_database_so_a_restart_does_not_repeat_an_alert():
    start = utcnow()
    note(start, state=NotificationState.RECEIVED)
    assert timeline(start, 16) == ["alert:processing"]
    db.session.expire_all()  # as a new process would read it
    assert db.session.get(AlertState, "processing").firing
    assert timeline(start, 20) == []


def test_without_a_merchant_address_nothing_is_checked(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_ALERT_EMAIL", "")
    start = utcnow()
    note(start, state=NotificationState.RECEIVED)
    assert timeline(start, 30) == []


def _owed_email(order, created_at):
    from shop.outbox.models import OutboxEmail

    owed = OutboxEmail(kind="order.paid", key=f"order:{order.id}", created_at=created_at)
    db.session.add(owed)
    db.session.flush()
    return owed
