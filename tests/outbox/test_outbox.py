"""The outbox: any kind of e-mail owed once per (kind, key), claimed (committed) before it is sent,
recorded after by a commit retried on its own, with a Message-ID that never changes."""
import smtplib
from datetime import timedelta

import psycopg
import pytest
from flask_mail import Message
from sqlalchemy import select, text

from shop.extensions import db, mail
from shop.models import utcnow
from shop.outbox import services, tasks
from shop.outbox.models import OutboxEmail

KIND = "test.hello"
sent_to = []


@services.renders(KIND)
def hello(key: str) -> Message | None:
    if key == "nothing":
        return None
    return Message(subject=f"Halo {key}", recipients=[f"{key}@example.com"], body=f"Halo {key}", html=f"<p>{key}</p>")


@pytest.fixture
def send_email(app):
    task = app.extensions["celery"].tasks[services.SEND_EMAIL]
    return lambda email_id: task.apply(args=[email_id])


def owed(key: str = "budi") -> int:
    email_id = services.add(KIND, key)
    db.session.commit()
    return email_id


def fresh(email_id: int) -> OutboxEmail:
    db.session.expire_all()
    return db.session.get(OutboxEmail, email_id)


def test_an_e_mail_is_owed_once_per_kind_and_key():
    first = services.add(KIND, "budi")
    assert first is not None and services.add(KIND, "budi") is None
    assert services.add("another.kind", "budi") not in (None, first)
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEmail)) == 2


def test_it_is_sent_once_with_a_message_id_from_its_row(send_email):
    email_id = owed()
    with mail.record_messages() as outbox:
        assert send_email(email_id).result == "sent"
        assert send_email(email_id).result == "not claimed"  # delivered again by the broker
    assert len(outbox) == 1 and outbox[0].msgId == f"<test.hello.{email_id}@shop.test>"
    row = fresh(email_id)
    assert (row.outcome, row.claims) == ("sent", 1) and row.sent_at is not None


def test_a_fresh_claim_keeps_every_other_run_away_until_it_expires(app, send_email):
    email_id = owed()
    assert services.claim(email_id).claims == 1  # another worker is sending it now
    with mail.record_messages() as outbox:
        assert send_email(email_id).result == "not claimed"
        lease = app.config["EMAIL_CLAIM_LEASE_SECONDS"]
        fresh(email_id).claimed_at = utcnow() - timedelta(seconds=lease + 1)  # that worker died
        db.session.commit()
        assert send_email(email_id).result == "sent"
    assert len(outbox) == 1 and fresh(email_id).claims == 2


def test_an_smtp_failure_releases_the_claim_and_the_retry_sends_it_once(send_email, monkeypatch):
    attempts, send = [], mail.send

    def flaky(message):
        attempts.append(message.msgId)
        if len(attempts) <= 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        send(message)

    monkeypatch.setattr(mail, "send", flaky)
    email_id = owed()
    with mail.record_messages() as outbox:
        send_email(email_id)
        send_email(email_id)
    assert len(attempts) == 3 and len(set(attempts)) == 1 and len(outbox) == 1  # one Message-ID for all tries
    assert fresh(email_id).outcome == "sent"


def test_the_task_gives_up_after_its_retries_and_the_e_mail_stays_owed(send_email, monkeypatch):
    monkeypatch.setattr(mail, "send", lambda message: (_ for _ in ()).throw(ConnectionRefusedError()))
    email_id = owed()
    assert send_email(email_id).failed()
    row = fresh(email_id)
    assert row.outcome is None and row.claimed_at is None and row.claims == 1 + tasks.MAX_RETRIES
    assert "ConnectionRefusedError" in row.error


def test_nothing_to_say_is_recorded_as_skipped(send_email):
    email_id = owed("nothing")
    with mail.record_messages() as outbox:
        assert send_email(email_id).result == "skipped"
    assert outbox == [] and fresh(email_id).outcome == "skipped"


def test_a_record_that_keeps_failing_goes_to_its_own_task_and_nothing_is_sent_again(send_email, monkeypatch):
    email_id, record, tries = owed(), services.record, []

    def failing_record(email_id, outcome, pauses=()):
        tries.append(pauses)
        return False if len(tries) == 1 else record(email_id, outcome, pauses=())

    monkeypatch.setattr(services, "record", failing_record)
    with mail.record_messages() as outbox:
        assert send_email(email_id).result == "sent"  # the record task ran (eager) and recorded it
        assert send_email(email_id).result == "not claimed"
    assert len(outbox) == 1 and len(tries) == 2 and fresh(email_id).outcome == "sent"


def test_the_sweeper_finds_owed_e_mails_whose_claim_expired_and_gives_up_after_a_day(app):
    now, delay = utcnow(), timedelta(seconds=app.config["SWEEP_DELAY_SECONDS"])
    waiting, claimed, young, old = owed("a"), owed("b"), owed("c"), owed("d")
    for email_id, age in ((waiting, delay), (claimed, delay), (young, delay / 2), (old, timedelta(days=1))):
        db.session.get(OutboxEmail, email_id).created_at = now - age - timedelta(seconds=1)
    db.session.get(OutboxEmail, claimed).claimed_at = now
    db.session.commit()
    assert services.due_again(now, now - delay, limit=10) == [waiting]
    assert services.due_again(now, now - delay, limit=10) == []  # queued: not again within the hour
    assert fresh(old).outcome == "gave_up"


# --- the database fails between the SMTP server's acceptance and the record ---------------------

def terminate_other_sessions(app) -> int:
    """Kill every other connection to the test database, as a database restart would."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as killer:
        return len(killer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())


@pytest.mark.integration
@pytest.mark.postgres
def test_a_database_killed_after_the_send_still_means_one_e_mail(app, clean_db, send_email, monkeypatch, caplog):
    """What sent one "payment received" e-mail twice: SMTP accepted it, the commit recording it failed,
    and the task's retry on database errors sent it again. Now the claim was committed before the
    send, the record is retried on a new connection, and a second run finds the e-mail sent."""
    email_id = owed()
    send, killed = mail.send, []

    def send_then_kill_the_database(message):
        send(message)
        killed.append(terminate_other_sessions(app))

    monkeypatch.setattr(mail, "send", send_then_kill_the_database)
    with mail.record_messages() as outbox:
        assert send_email(email_id).result == "sent"
        assert send_email(email_id).result == "not claimed"  # what a retry of the task would do
    assert killed[0] >= 1 and len(outbox) == 1
    assert f"email={email_id} outcome sent not recorded yet (OperationalError)" in caplog.text
    row = fresh(email_id)
    assert (row.outcome, row.claims) == ("sent", 1)
    assert db.session.execute(text("SELECT 1")).scalar() == 1



def test_a_mail_server_that_never_answers_fails_the_send_instead_of_holding_the_thread(app, monkeypatch):
    """The worker's threads pool has no time limit: without MAIL_TIMEOUT this send would wait for good."""
    import socket
    import threading

    silent = socket.create_server(("127.0.0.1", 0))  # accepts the connection, never says 220
    state = app.extensions["mail"]
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", silent.getsockname()[1])
    monkeypatch.setattr(state, "suppress", False)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 0.3)
    failures = []

    def send():
        with app.app_context():
            try:
                mail.send(Message("Lunas", recipients=["budi@example.com"], body="x"))
            except OSError as error:
                failures.append(error)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(30)
    silent.close()
    assert not sender.is_alive() and len(failures) == 1 and "timed out" in str(failures[0])
