"""The payment e-mail: queued after the commit that paid the order, sent by its own task, once."""
import json
import smtplib

import pytest

from shop.accounts.models import InboxMessage
from shop.extensions import db, mail
from shop.payments import services, tasks
from tests.payments.helpers import for_payment, run_now


@pytest.fixture
def queued(monkeypatch):
    """The inbox message ids the notification task queued an e-mail for (the e-mail task not run)."""
    ids = []
    monkeypatch.setattr(services, "queue_payment_email", ids.append)
    return ids


@pytest.fixture
def paid_message(process, payment, queued) -> InboxMessage:
    """The inbox message of a payment the notification task has just applied."""
    stored = services.record_notification(json.dumps(for_payment(payment)).encode())
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
        stored = services.record_notification(json.dumps(for_payment(payment)).encode())
        db.session.commit()
        process(stored.id)
    assert len(queued) == 1
