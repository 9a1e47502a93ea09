"""The shopper's e-mails about a payment: due with the change that made them true, queued after its
commit, written and sent once by the outbox (shop.outbox), each with what the shopper needs."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.extensions import db, mail
from shop.models import utcnow
from shop.outbox.models import OutboxEmail
from shop.payments import announcing, emails, receiving
from tests.payments.helpers import for_payment, run_now

VA = {"payment_type": "bank_transfer", "va_numbers": [{"bank": "bni", "va_number": "9881234567890123"}]}


@pytest.fixture
def queued(monkeypatch):
    """The outbox ids the notification task queued (the e-mail task not run)."""
    ids = []
    monkeypatch.setattr(announcing.outbox, "queue", lambda email_ids, priority=None: ids.extend(email_ids))
    return ids


@pytest.fixture
def notify(process, payment, queued):
    """Apply a signed notification for `payment` through the task; returns the outbox ids it queued."""
    def send(name: str = "fixture_credit_card_settlement_sbtest.json", **changes) -> list[int]:
        before = len(queued)
        stored = receiving.record_notification(json.dumps(for_payment(payment, name, **changes)).encode())
        db.session.commit()
        process(stored.id)
        return queued[before:]
    return send


@pytest.fixture
def send_email(app):
    return run_now(app, "outbox.send_email")


def sent(send_email, email_id: int):
    with mail.record_messages() as outbox:
        assert send_email(email_id).result == "sent"
    assert len(outbox) == 1
    return outbox[0]


def row(email_id: int) -> OutboxEmail:
    return db.session.get(OutboxEmail, email_id)


def test_a_payment_waiting_for_a_transfer_gets_its_number_amount_deadline_and_link(notify, send_email, payment):
    payment.expires_at = utcnow() + timedelta(hours=20)
    db.session.commit()
    [email_id] = notify("fixture_bank_transfer_pending_sbtest.json", **VA)
    assert (row(email_id).kind, row(email_id).key) == (emails.AWAITING, f"payment:{payment.id}")
    message = sent(send_email, email_id)
    assert message.subject == f"Menunggu pembayaran pesanan #{payment.order_id}"
    assert message.recipients == [payment.order.user.email]
    for text in (message.body, message.html):
        assert "9881234567890123" in text and "BNI" in text and "Rp 150.000" in text
        assert "Bayar sebelum" in text and f"http://shop.test/orders/{payment.order_id}" in text
    assert message.msgId == f"<order.awaiting_payment.{email_id}@shop.test>"


def test_a_paid_order_gets_a_receipt_with_its_lines_and_method(notify, send_email, payment):
    [email_id] = notify()
    message = sent(send_email, email_id)
    assert message.subject == f"Pembayaran pesanan #{payment.order_id} sudah diterima"
    line = payment.order.lines[0]
    for text in (message.body, message.html):
        assert line.name in text and "Rp 150.000" in text and "Kartu kredit/debit" in text
        assert "sudah kami terima pada" in text


def test_an_expired_payment_gets_the_way_to_pay_again(notify, send_email, payment):
    notify("fixture_bank_transfer_pending_sbtest.json", **VA)
    [email_id] = notify("fixture_bank_transfer_pending_sbtest.json", transaction_status="expire",
                        status_code="202", **VA)
    assert row(email_id).kind == emails.FAILED
    message = sent(send_email, email_id)
    assert message.subject == f"Pembayaran pesanan #{payment.order_id} kedaluwarsa"
    assert "Bayar lagi" in message.body and "Bayar lagi" in message.html
    assert f"http://shop.test/orders/{payment.order_id}" in message.html


def test_a_denied_card_gets_the_way_to_pay_again_too(notify, send_email, payment):
    [email_id] = notify("credit_card_deny.json")
    assert "gagal" in sent(send_email, email_id).subject


def test_each_e_mail_is_due_once_whatever_arrives_twice(notify, payment):
    assert len(notify("fixture_bank_transfer_pending_sbtest.json", **VA)) == 1
    assert notify("fixture_bank_transfer_pending_sbtest.json", **VA) == []  # a duplicate: nothing new
    assert len(notify()) == 1
    assert notify() == []
    kinds = db.session.scalars(select(OutboxEmail.kind).order_by(OutboxEmail.id)).all()
    assert kinds == [emails.AWAITING, emails.PAID]


def test_a_reminder_that_goes_out_after_the_payment_says_nothing(notify, send_email):
    [awaiting] = notify("fixture_bank_transfer_pending_sbtest.json", **VA)
    notify()  # paid before the reminder's task ran
    with mail.record_messages() as outbox:
        assert send_email(awaiting).result == "skipped"
        assert send_email(awaiting).result == "not claimed"
    assert outbox == [] and row(awaiting).outcome == "skipped"


def test_the_e_mails_are_queued_only_after_the_commit(notify, monkeypatch):
    events, commit = [], db.session.commit
    monkeypatch.setattr(db.session, "commit", lambda: (commit(), events.append("commit")))
    monkeypatch.setattr(announcing.outbox, "queue", lambda ids, priority=None: events.append(("queue", list(ids))))
    notify()
    email_id = db.session.scalar(select(OutboxEmail.id))
    assert events[-2:] == ["commit", ("queue", [email_id])]


def test_the_sweeper_queues_an_e_mail_that_never_went_out_and_it_is_sent_once(app, notify, monkeypatch):
    """The broker failed right after the commit: the e-mail was never queued. The sweeper finds it."""
    [email_id] = notify()
    row(email_id).created_at = utcnow() - timedelta(seconds=app.config["SWEEP_DELAY_SECONDS"] + 5)
    db.session.commit()
    monkeypatch.undo()  # the real queueing again (eager: the e-mail task runs at once)
    sweep = app.extensions["celery"].tasks["payments.sweep_notifications"]
    with mail.record_messages() as outbox:
        sweep.apply()
        sweep.apply()
    db.session.expire_all()
    assert len(outbox) == 1 and row(email_id).outcome == "sent" and row(email_id).queued_at is not None
