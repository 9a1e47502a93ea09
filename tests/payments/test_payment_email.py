"""The payment e-mail: queued after the commit that paid the order, sent by its own task, once."""
import json
import smtplib
from datetime import timedelta

import pytest

from shop.accounts.models import InboxMessage
from shop.extensions import db, mail
from shop.models import utcnow
from shop.payments import announcing, receiving, sweeping, tasks
from tests.payments.helpers import for_payment, run_now


@pytest.fixture
def queued(monkeypatch):
    """The inbox message ids the notification task queued an e-mail for (the e-mail task not run)."""
    ids = []
    monkeypatch.setattr(announcing, "queue_payment_email", ids.append)
    return ids


@pytest.fixture
def paid_message(process, payment, queued) -> InboxMessage:
    """The inbox message of a payment the notification task has just applied."""
    stored = receiving.record_notification(json.dumps(for_payment(payment)).encode())
    db.session.commit()
    process(stored.id)
    assert len(queued) == 1
    return db.session.get(InboxMessage, queued[0])


@pytest.fixture
def send_email(app):
    return run_now(app, "payments.send_payment_email")


@pytest.fixture
def smtp_failures(monkeypatch):
    """Make the next `count` sends fail as a dropped SMTP connection; returns the list of attempts."""
    attempts, send = [], mail.send

    def arm(count: int) -> list:
        def flaky_send(message):
            attempts.append(message.recipients)
            if len(attempts) <= count:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            send(message)

        monkeypatch.setattr(mail, "send", flaky_send)
        return attempts

    return arm


def test_the_inbox_message_of_a_payment_is_e_mailed_once(send_email, paid_message, payment):
    assert paid_message.emailed_at is None  # queued, not sent by the notification task itself
    with mail.record_messages() as outbox:
        assert send_email(paid_message.id).result is True
        assert send_email(paid_message.id).result is False  # the message says it was sent
    assert len(outbox) == 1 and outbox[0].recipients == [payment.order.user.email]
    assert db.session.get(InboxMessage, paid_message.id).emailed_at is not None


def test_an_smtp_failure_is_retried_and_the_e_mail_sent_once(send_email, paid_message, smtp_failures):
    attempts = smtp_failures(2)
    with mail.record_messages() as outbox:
        send_email(paid_message.id)
        send_email(paid_message.id)  # delivered again by the broker: nothing more
    assert len(attempts) == 3 and len(outbox) == 1
    assert db.session.get(InboxMessage, paid_message.id).emailed_at is not None


def test_the_e_mail_task_gives_up_after_its_retries(send_email, paid_message, smtp_failures):
    attempts = smtp_failures(100)
    with mail.record_messages() as outbox:
        assert send_email(paid_message.id).failed()
    assert len(attempts) == 1 + tasks.MAX_RETRIES and outbox == []
    assert db.session.get(InboxMessage, paid_message.id).emailed_at is None


def test_a_duplicate_queues_no_second_e_mail(process, payment, queued):
    for _ in range(2):
        stored = receiving.record_notification(json.dumps(for_payment(payment)).encode())
        db.session.commit()
        process(stored.id)
    assert len(queued) == 1


# --- an e-mail that never went out: the sweeper queues it again ----------------------------------

def aged(message: InboxMessage, **delta) -> InboxMessage:
    message.created_at = utcnow() - timedelta(**delta)
    db.session.commit()
    return message


def test_the_sweeper_queues_an_unsent_e_mail_again_and_it_is_sent_once(app, paid_message, monkeypatch):
    """The broker failed right after the commit: the e-mail was never queued. The sweeper finds it."""
    aged(paid_message, seconds=app.config["SWEEP_DELAY_SECONDS"] + 5)
    monkeypatch.undo()  # the real queueing again (eager: the e-mail task runs at once)
    sweep = app.extensions["celery"].tasks["payments.sweep_notifications"]
    with mail.record_messages() as outbox:
        sweep.apply()
        sweep.apply()  # sent now, and queued at most once an hour anyway
    assert len(outbox) == 1
    message = db.session.get(InboxMessage, paid_message.id)
    assert message.emailed_at is not None and message.email_queued_at is not None


def test_the_sweeper_leaves_fresh_sent_and_day_old_e_mails_alone(app, paid_message):
    delay = app.config["SWEEP_DELAY_SECONDS"]
    aged(paid_message, seconds=delay - 60)  # its task may still be on its way
    assert sweeping.sweep_stranded_notifications(limit=10).emails == []
    aged(paid_message, days=1, seconds=1)  # given up on after a day
    assert sweeping.sweep_stranded_notifications(limit=10).emails == []
    aged(paid_message, seconds=delay + 5)
    paid_message.emailed_at = utcnow()
    db.session.commit()
    assert sweeping.sweep_stranded_notifications(limit=10).emails == []


def test_the_sweeper_queues_a_stuck_e_mail_at_most_once_an_hour(app, paid_message):
    aged(paid_message, seconds=app.config["SWEEP_DELAY_SECONDS"] + 5)
    first = sweeping.sweep_stranded_notifications(limit=10).emails
    second = sweeping.sweep_stranded_notifications(limit=10).emails
    paid_message.email_queued_at = utcnow() - sweeping.EMAIL_REQUEUE_EVERY - timedelta(seconds=1)
    db.session.commit()
    third = sweeping.sweep_stranded_notifications(limit=10).emails
    assert (first, second, third) == ([paid_message.id], [], [paid_message.id])
