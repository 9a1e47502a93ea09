"""The worker the suite runs: the Procfile's `celery -A celery_worker`, plus one no-op task.

The no-op is the yardstick of measurement 2: the rate at which this same worker, broker and
settings run a task that does nothing.
"""
from celery_worker import celery_app, flask_app  # noqa: F401


@celery_app.task(name="bench.noop", ignore_result=True)
def noop(*args) -> None:
    """Do nothing (the broker round trip and Celery's own cost are all that is left)."""


@celery_app.task(name="bench.confirm_only", ignore_result=True, acks_late=True)
def confirm_only(notification_id: int) -> None:
    """What every notification costs before anything is applied: the real task's claim (one UPDATE,
    committed) and its GET status, with the same settings; the answer is thrown away.

    Measurement 8 runs it beside the real task: the gap between the two is what applying a
    notification may cost at most for a given share of the no-op rate.
    """
    from shop.extensions import db
    from shop.payments import applying, sweeping

    attempt = sweeping.claim_attempt(notification_id)
    db.session.commit()
    if attempt is not None:
        applying.midtrans_truth(attempt)
