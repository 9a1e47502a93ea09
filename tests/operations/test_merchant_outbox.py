"""The merchant's e-mails go through the outbox: owed once in the transaction that decides them,
queued only after its commit, sent by the outbox's task, and still owed when the mail server fails."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from shop import jakarta
from shop.celery_config import ALERT_PRIORITY, EMAIL_PRIORITY
from shop.extensions import db, mail
from shop.models import utcnow
from shop.operations import alerts, mailing, merchant, tasks
from shop.operations.models import MerchantMessage
from shop.orders.models import OrderStatus
from shop.outbox import services as outbox
from shop.outbox.models import OutboxEmail
from shop.payments.models import NotificationState
from tests.factories import OrderFactory
from tests.operations.helpers import ago, deliver, note

MERCHANT = "pemilik@tokokita.test"


@pytest.fixture(autouse=True)
def merchant_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_ALERT_EMAIL", MERCHANT)
    monkeypatch.setitem(app.config, "MERCHANT_PAID_ORDER_MODE", "order")
    monkeypatch.setitem(app.config, "ALERT_WAITING_MINUTES", 15)


@pytest.fixture
def beat(app):
    """The operations' beat tasks of this app, by their short names."""
    registered = app.extensions["celery"].tasks
    return {name: registered[f"operations.{name}"]
            for name in ("check_alerts", "send_paid_order_messages", "send_daily_summary")}


class Queued(list):
    """Outbox ids queued, in order, and the priority each was queued at (None: the task's own)."""

    def __init__(self):
        super().__init__()
        self.priority = {}

    def __call__(self, email_ids, priority=None):
        self.extend(email_ids)
        self.priority.update(dict.fromkeys(email_ids, priority))


@pytest.fixture
def queued(monkeypatch):
    """The outbox ids the jobs queue, kept instead of sent."""
    ids = Queued()
    monkeypatch.setattr(tasks.outbox, "queue", ids)
    return ids


def merchant_rows() -> list[OutboxEmail]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind.like(f"{mailing.PREFIX}%"))
                              .order_by(OutboxEmail.id)).all()


def paid_order(paid_at):
    return OrderFactory(status=OrderStatus.SUCCESS, paid_at=paid_at, total=150000)


def test_each_deciding_job_run_twice_owes_its_e_mail_once():
    now = datetime(2026, 12, 3, 8, 0, tzinfo=jakarta.ZONE)
    order = paid_order(now - timedelta(minutes=2))
    note(now - timedelta(minutes=30), state=NotificationState.RECEIVED)  # waiting too long: an alert
    first = {**alerts.check_alerts(now), **merchant.owe_paid_order_messages(now), **merchant.owe_daily_summary(now)}
    again = {**alerts.check_alerts(now), **merchant.owe_paid_order_messages(now), **merchant.owe_daily_summary(now)}
    assert sorted(first) == ["2026-12-02", "alert:processing", f"order:{order.id}"] and again == {}
    rows = merchant_rows()
    assert [(r.kind, r.key) for r in rows] == [(mailing.ALERT, "processing:2026-12-03T08:00:00+07:00"),
                                               (mailing.PAID_ORDER, f"order:{order.id}"),
                                               (mailing.DAILY_SUMMARY, "2026-12-02")]
    assert [r.id for r in rows] == list(first.values())


def test_the_beat_tasks_run_twice_queue_each_e_mail_once_after_their_commit(beat, queued, monkeypatch):
    paid_order(utcnow())
    note(ago(minutes=30), state=NotificationState.RECEIVED)
    in_transaction_at_queue = []
    monkeypatch.setattr(tasks.outbox, "queue", lambda ids, priority=None: (
        in_transaction_at_queue.append(db.session().in_transaction()), queued(ids, priority)))
    with mail.record_messages() as sent:
        for _ in range(2):
            for task in beat.values():
                task()
    assert sent == []  # the jobs only owe: the outbox's task sends
    assert in_transaction_at_queue and not any(in_transaction_at_queue)  # queued after the commit
    assert sorted(queued) == [r.id for r in merchant_rows()]
    assert {r.kind for r in merchant_rows()} >= {mailing.ALERT, mailing.PAID_ORDER}


def test_alerts_go_before_waiting_notifications_and_the_other_e_mails_after(beat, queued):
    """An alert that notifications are piling up must not wait for them to drain."""
    paid_order(utcnow())
    note(ago(minutes=30), state=NotificationState.RECEIVED)
    for task in beat.values():
        task()
    kinds = {row.id: row.kind for row in merchant_rows()}
    by_kind = {kinds[i]: queued.priority[i] for i in queued}
    assert by_kind[mailing.ALERT] == ALERT_PRIORITY
    assert by_kind[mailing.PAID_ORDER] is None  # the outbox task's own, EMAIL_PRIORITY
    assert set(by_kind.values()) == {ALERT_PRIORITY, None}
    assert ALERT_PRIORITY < EMAIL_PRIORITY


def test_nothing_is_sent_inside_the_deciding_transaction(beat, monkeypatch):
    """Sending happens in the outbox's task, after the deciding job committed: a mail server that
    fails cannot roll the decision back, and one that accepts cannot be followed by a rollback."""
    order = paid_order(utcnow())
    steps, commit, send = [], db.session.commit, mail.send
    monkeypatch.setattr(db.session, "commit", lambda: (steps.append("commit"), commit())[1])
    monkeypatch.setattr(mail, "send", lambda message: (steps.append(("send", db.session().in_transaction())),
                                                        send(message))[1])
    with mail.record_messages() as sent:
        assert beat["send_paid_order_messages"]() == 1  # eager: the queued outbox task ran too
    assert [m.subject for m in sent] == [f"[Toko Kita] Pesanan #{order.id} sudah dibayar"]
    assert steps[0] == "commit" and steps[-1] == ("send", False)


def test_a_failing_mail_server_leaves_it_owed_and_a_later_run_sends_it_once(app, beat, monkeypatch):
    order = paid_order(utcnow())
    send = mail.send
    monkeypatch.setattr(mail, "send", lambda message: (_ for _ in ()).throw(ConnectionRefusedError()))
    assert beat["send_paid_order_messages"]() == 1  # owed and committed; the send failed after its retries
    [row] = merchant_rows()
    assert row.outcome is None and row.claimed_at is None and "ConnectionRefusedError" in row.error
    assert db.session.scalar(select(MerchantMessage.key)) == str(order.id)  # the decision stands
    assert beat["send_paid_order_messages"]() == 0  # not owed a second time
    monkeypatch.setattr(mail, "send", send)  # the mail server is back
    later = utcnow() + timedelta(hours=1)
    due = outbox.due_again(later, later, limit=10)  # the sweeper's pass
    assert due == [row.id]
    with mail.record_messages() as sent:
        assert deliver({"sweeper": row.id}) == sent
        deliver({"broker again": row.id})
    assert [m.subject for m in sent] == [f"[Toko Kita] Pesanan #{order.id} sudah dibayar"]
    assert merchant_rows()[0].outcome == "sent"


def test_without_a_merchant_address_nothing_is_owed(app, beat, monkeypatch):
    monkeypatch.setitem(app.config, "MERCHANT_ALERT_EMAIL", "")
    paid_order(utcnow())
    note(ago(minutes=30), state=NotificationState.RECEIVED)
    assert [task() for task in beat.values()] == [None, None, None]
    now = datetime(2026, 12, 3, 8, 0, tzinfo=jakarta.ZONE)
    assert alerts.check_alerts(now) == merchant.owe_paid_order_messages(now) == merchant.owe_daily_summary(now) == {}
    assert merchant_rows() == []


def test_an_e_mail_owed_before_the_address_was_removed_is_skipped(app):
    owed = merchant.owe_daily_summary(datetime(2026, 12, 3, 8, 0, tzinfo=jakarta.ZONE))
    app.config["MERCHANT_ALERT_EMAIL"] = ""  # the merchant_address fixture's monkeypatch restores it
    assert deliver(owed) == []
    assert merchant_rows()[0].outcome == "skipped"
