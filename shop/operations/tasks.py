"""The operations jobs, run from beat on the periodic queue: alerts, paid orders, the day's summary.

Each decides from the database whether anything is due, under a run lock, owes the merchant's
e-mails in the outbox, commits, and only then queues them (shop.outbox.tasks.send_email sends).
"""
from celery import shared_task

from shop.celery_config import ALERT_PRIORITY
from shop.extensions import db
from shop.models import utcnow
from shop.operations import alerts, merchant
from shop.operations.mailing import merchant_address
from shop.outbox import services as outbox
from shop.payments.run_lock import take_run_lock


@shared_task(name="operations.check_alerts", ignore_result=True)
def check_alerts() -> list[str] | None:
    """Tell the merchant about alert conditions that started or stopped holding."""
    owed = _locked(lambda: alerts.check_alerts(utcnow()), priority=ALERT_PRIORITY)
    return None if owed is None else list(owed)


@shared_task(name="operations.send_paid_order_messages", ignore_result=True)
def send_paid_order_messages() -> int | None:
    """E-mail the merchant the newly paid orders (each, or a digest)."""
    owed = _locked(lambda: merchant.owe_paid_order_messages(utcnow()))
    return None if owed is None else len(owed)


@shared_task(name="operations.send_daily_summary", ignore_result=True)
def send_daily_summary() -> str | None:
    """E-mail the merchant yesterday's summary, once."""
    owed = _locked(lambda: merchant.owe_daily_summary(utcnow()))
    return next(iter(owed or {}), None)


def _locked(job, priority: int | None = None) -> dict[str, int] | None:
    """Run `job` holding the operations lock, commit, then queue the e-mails it owed (at `priority`
    when given); None when another run holds the lock.

    Without MERCHANT_ALERT_EMAIL there is nobody to tell: not even the lock is taken (the beat
    process's one worker runs the reconciliation and the sweeper too)."""
    if merchant_address() is None:
        return None
    if not take_run_lock("operations"):
        db.session.rollback()
        return None
    try:
        owed = job()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    outbox.queue_after_commit(list(owed.values()), priority)
    return owed
