"""Celery tasks of the accounts feature."""
from celery import shared_task
from sqlalchemy.exc import DBAPIError

from shop.accounts import passwords
from shop.celery_config import MAX_RETRIES, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS
from shop.extensions import db
from shop.outbox import services as outbox


@shared_task(name=passwords.SEND_RESET, acks_late=True, ignore_result=True, autoretry_for=(DBAPIError,),
             max_retries=MAX_RETRIES, retry_backoff=RETRY_BASE_SECONDS, retry_backoff_max=RETRY_CAP_SECONDS,
             retry_jitter=True)
def send_password_reset(email: str) -> bool:
    """Owe and queue the reset e-mail of `email`'s account; nothing for an e-mail without one."""
    email_id = passwords.owe_reset_email(email)
    db.session.commit()
    outbox.queue([email_id] if email_id else [])
    return email_id is not None
