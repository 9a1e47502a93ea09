"""The operations jobs, run from beat on the periodic queue: alerts, paid orders, the day's summary.

Each decides from the database whether anything is due, under a run lock, sends, then commits.
"""
import logging

from celery import shared_task

from shop.extensions import db
from shop.models import utcnow
from shop.operations import alerts, merchant
from shop.operations.mailing import merchant_address
from shop.payments.run_lock import take_run_lock

log = logging.getLogger(__name__)


@shared_task(name="operations.check_alerts", ignore_result=True)
def check_alerts() -> list[str] | None:
    """Tell the merchant about alert conditions that started or stopped holding."""
    return _locked(lambda: alerts.check_alerts(utcnow()))


@shared_task(name="operations.send_paid_order_messages", ignore_result=True)
def send_paid_order_messages() -> int | None:
    """E-mail the merchant the newly paid orders (each, or a digest)."""
    return _locked(lambda: merchant.send_paid_order_messages(utcnow()))


@shared_task(name="operations.send_daily_summary", ignore_result=True)
def send_daily_summary() -> str | None:
    """E-mail the merchant yesterday's summary, once."""
    day = _locked(lambda: merchant.send_daily_summary(utcnow()))
    return day.isoformat() if day else None


def _locked(job):
    """Run `job` holding the operations lock, and commit; None when another run holds it.

    Without MERCHANT_ALERT_EMAIL there is nobody to tell: not even the lock is taken (the beat
    process's one worker runs the reconciliation and the sweeper too)."""
    if merchant_address() is None:
        return None
    if not take_run_lock("operations"):
        db.session.rollback()
        return None
    try:
        result = job()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result
