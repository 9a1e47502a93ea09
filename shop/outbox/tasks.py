"""The outbox's tasks: send one owed e-mail once; record what became of one when the database was away."""
import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import DBAPIError

from shop import broker, metrics
from shop.celery_config import EMAIL_PRIORITY, MAX_RETRIES, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS
from shop.extensions import db, mail
from shop.outbox import services

log = logging.getLogger(__name__)



# OSError: smtplib's errors are OSErrors, like a refused or dropped connection to the mail server.
# DBAPIError reaches the retry only from the claim or the rendering, never after the SMTP server
# accepted the message: from there the outcome is recorded on its own (services.record).
@shared_task(name=services.SEND_EMAIL, acks_late=True, ignore_result=True, priority=EMAIL_PRIORITY,
             autoretry_for=(OSError, DBAPIError), max_retries=MAX_RETRIES, retry_backoff=RETRY_BASE_SECONDS,
             retry_backoff_max=RETRY_CAP_SECONDS, retry_jitter=True)
def send_email(email_id: int) -> str:
    """Send one owed e-mail unless it was sent or someone else is sending it; safe to run twice."""
    claimed = services.claim(email_id)
    if claimed is None:
        log.info("email=%s not claimed: sent, given up, or being sent", email_id)
        return "not claimed"
    message = _render(claimed)
    if message is None:
        _record(claimed, "skipped")
        return "skipped"
    try:
        mail.send(message)
    except Exception as error:
        services.release(claimed, error)
        metrics.count_email(claimed.kind, sent=False)
        raise
    metrics.count_email(claimed.kind, sent=True)
    _log_sent(claimed, message)
    _record(claimed, "sent")
    return "sent"


class OutcomeNotRecorded(Exception):
    """The database is still away; the task tries again later."""


@shared_task(name=services.RECORD_OUTCOME, acks_late=True, ignore_result=True, autoretry_for=(OutcomeNotRecorded,),
             max_retries=20, retry_backoff=RETRY_BASE_SECONDS, retry_backoff_max=RETRY_CAP_SECONDS,
             retry_jitter=True)
def record_outcome(email_id: int, outcome: str) -> None:
    """Record that an e-mail was sent (or skipped); never sends anything."""
    if not services.record(email_id, outcome, pauses=()):
        raise OutcomeNotRecorded(f"email={email_id} outcome={outcome}")


def _render(claimed: services.Claim):
    try:
        message = services.render(claimed)
        db.session.commit()  # ends the read: no connection is held while the SMTP server answers
        return message
    except Exception as error:
        db.session.rollback()
        services.release(claimed, error)
        raise


def _record(claimed: services.Claim, outcome: str) -> None:
    if services.record(claimed.id, outcome):
        return
    try:  # the claim keeps everyone else from sending it meanwhile
        broker.publish(current_app.extensions["celery"], services.RECORD_OUTCOME, claimed.id, outcome)
    except Exception:  # noqa: BLE001
        log.error("email=%s %s but not recorded; its claim expires in %ss and it may be sent again, same Message-ID",
                  claimed.id, outcome, current_app.config["EMAIL_CLAIM_LEASE_SECONDS"])


def _log_sent(claimed: services.Claim, message) -> None:
    if not current_app.config["MAIL_SUPPRESS_SEND"]:
        log.info("email=%s kind=%s key=%s sent message_id=%s", claimed.id, claimed.kind, claimed.key, message.msgId)
        return
    log.info("email=%s kind=%s key=%s suppressed (MAIL_SUPPRESS_SEND) message_id=%s\nTo: %s\nSubject: %s\n\n%s",
             claimed.id, claimed.kind, claimed.key, message.msgId, ", ".join(message.recipients),
             message.subject, message.body)
