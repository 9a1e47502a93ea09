"""`flask midtrans reconcile` and `flask midtrans replay`: the same services, from the shell."""
import json

import pytest
from sqlalchemy import func, select

from shop.celery_config import celery_settings
from shop.config import ConfigError, reconciliation_settings
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import Notification, NotificationSource, NotificationState, Payment, PaymentStatus
from tests.payments.helpers import ago, fresh, settles, stale, status_calls


def notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_dry_run_asks_midtrans_prints_the_change_and_saves_nothing(runner, midtrans):
    payment = stale()
    settles(midtrans, payment)

    result = runner.invoke(args=["midtrans", "reconcile", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"payment {payment.id} {payment.midtrans_order_id}: PENDING -> SUCCESS" in result.output
    assert "checked 1 payments: 1 changed, 0 failed" in result.output and "(dry run: nothing saved)" in result.output
    assert len(status_calls(midtrans)) == 1
    after = fresh(Payment, payment.id)
    assert (after.status, after.last_checked_at, notifications()) == (PaymentStatus.PENDING, None, 0)


def test_reconcile_applies_and_commits_each_payment(runner, midtrans):
    paid, waiting = stale(), stale()
    settles(midtrans, paid)

    result = runner.invoke(args=["midtrans", "reconcile"])

    assert result.exit_code == 0, result.output
    assert f"payment {waiting.id} {waiting.midtrans_order_id}: PENDING -> PENDING [NOT_FOUND]" in result.output
    assert "checked 2 payments: 1 changed, 0 failed" in result.output
    paid = fresh(Payment, paid.id)
    assert (paid.status, paid.order.status) == (PaymentStatus.SUCCESS, OrderStatus.SUCCESS)
    assert fresh(Payment, waiting.id).last_checked_at is not None


def test_reconcile_one_order_checks_its_payments_whatever_their_age(runner, midtrans):
    payment = stale(created=ago(minutes=1), last_checked_at=ago(minutes=1))  # not due for the beat job
    settles(midtrans, payment)

    result = runner.invoke(args=["midtrans", "reconcile", "--order", str(payment.order_id)])

    assert result.exit_code == 0, result.output
    assert "[APPLIED]" in result.output and fresh(Payment, payment.id).status is PaymentStatus.SUCCESS


def test_reconcile_of_an_unknown_order_is_refused(runner):
    result = runner.invoke(args=["midtrans", "reconcile", "--order", "999999"])
    assert result.exit_code != 0 and "no order has the id 999999" in result.output
    bad = runner.invoke(args=["midtrans", "reconcile", "--order", "abc"])
    assert bad.exit_code == 2 and "'abc' is not a valid integer" in bad.output


@pytest.mark.parametrize("value, complaint", [("0", "0 is not in the range x>=1"),
                                               ("many", "'many' is not a valid integer")])
def test_a_concurrency_below_one_is_refused_before_anything_changes(runner, midtrans, value, complaint):
    payment = stale()

    result = runner.invoke(args=["midtrans", "reconcile", "--concurrency", value])

    assert result.exit_code == 2 and f"Invalid value for '--concurrency': {complaint}" in result.output
    assert status_calls(midtrans) == [] and fresh(Payment, payment.id).last_checked_at is None and notifications() == 0


def test_on_sqlite_reconcile_checks_one_payment_at_a_time_and_says_so(runner, midtrans):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's rule; on PostgreSQL see test_reconcile_concurrency.py")
    payments = [stale() for _ in range(3)]
    for payment in payments:
        settles(midtrans, payment)

    result = runner.invoke(args=["midtrans", "reconcile", "--concurrency", "4"])

    assert result.exit_code == 0, result.output
    assert "note: SQLite takes one writer at a time: checking one payment at a time" in result.output
    assert "checked 3 payments: 3 changed, 0 failed" in result.output
    assert len(status_calls(midtrans)) == 3 and midtrans.most_in_flight == 1
    assert [fresh(Payment, payment.id).status for payment in payments] == [PaymentStatus.SUCCESS] * 3


def test_reconcile_reports_midtrans_trouble_and_exits_non_zero(app, runner, midtrans):
    payment = stale()
    for _ in range(1 + app.config["MIDTRANS_MAX_RETRIES"]):
        midtrans.script("GET", f"/v2/{payment.midtrans_order_id}/status", 503, {"status_code": "503"})

    result = runner.invoke(args=["midtrans", "reconcile"])

    assert result.exit_code == 1
    assert f"payment {payment.id}: not checked: MidtransUnavailable" in result.output
    assert "1 of 1 payments could not be checked" in result.output
    assert fresh(Payment, payment.id).status is PaymentStatus.PENDING and notifications() == 0


def test_replay_prints_what_changed(runner, midtrans):
    payment = stale()
    body = settles(midtrans, payment)
    stored = Notification(payment=payment, body=json.dumps(body), state=NotificationState.FAILED,
                          midtrans_order_id=payment.midtrans_order_id)
    db.session.add(stored)
    db.session.commit()

    result = runner.invoke(args=["midtrans", "replay", str(stored.id)])

    assert result.exit_code == 0, result.output
    replay = db.session.scalar(select(Notification).where(Notification.source == NotificationSource.REPLAY))
    assert f"notification {stored.id} replayed as notification {replay.id}: " in result.output
    assert "PENDING -> SUCCESS" in result.output and replay.body == stored.body


def test_replay_of_an_unknown_notification_is_refused(runner):
    result = runner.invoke(args=["midtrans", "replay", "31337"])
    assert result.exit_code == 1 and "no notification has the id 31337" in result.output
    assert notifications() == 0


# --- settings -------------------------------------------------------------------------------

def test_job_settings_come_from_the_environment_into_the_beat_schedule():
    jobs = reconciliation_settings({"RECONCILE_INTERVAL_SECONDS": "45", "SWEEP_INTERVAL_SECONDS": "7",
                                    "RECONCILE_RATE_LIMIT": "120/m"})
    celery = celery_settings("redis://127.0.0.1:6379/10", "", jobs)
    schedule = celery["beat_schedule"]
    assert schedule["reconcile-pending-payments"]["task"] == "payments.reconcile_pending_payments"
    assert schedule["reconcile-pending-payments"]["schedule"] == 45.0
    assert schedule["sweep-notifications"]["schedule"] == 7.0
    assert {entry["options"]["queue"] for entry in schedule.values()} == {"periodic"}  # the beat process's own
    assert celery["task_annotations"]["payments.reconcile_payment"]["rate_limit"] == "120/m"
    assert jobs["RECONCILE_BATCH_SIZE"] == 200 and jobs["NOTIFICATION_MAX_ATTEMPTS"] == 10
    assert jobs["RECONCILE_CONCURRENCY"] == 8


@pytest.mark.parametrize("name, value", [("RECONCILE_BATCH_SIZE", "0"), ("SWEEP_DELAY_SECONDS", "-5"),
                                         ("RECONCILE_CONCURRENCY", "0"),
                                         ("RECONCILE_INTERVAL_SECONDS", "soon"), ("RECONCILE_RATE_LIMIT", "fast"),
                                         ("SWEEP_BATCH_SIZE", "²"), ("RECONCILE_BATCH_SIZE", "١٢")])
def test_a_bad_job_setting_is_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=name):
        reconciliation_settings({name: value})
