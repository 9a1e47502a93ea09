"""The worker the suite runs: the Procfile's `celery -A celery_worker`, plus one no-op task.

The no-op is the yardstick of measurement 2: the rate at which this same worker, broker and
settings run a task that does nothing.
"""
from celery_worker import celery_app, flask_app  # noqa: F401


@celery_app.task(name="bench.noop", ignore_result=True)
def noop(*args) -> None:
    """Do nothing (the broker round trip and Celery's own cost are all that is left)."""
