"""E-mail outcomes counted from Celery's own task signals: the e-mail tasks stay as they are.

A task of EMAIL_TASKS that returns True sent its e-mail; each failed try (a retry or the final
failure) counts as failed. Signals fire in the process that ran the task (a pool process).
"""
from celery.signals import task_failure, task_retry, task_success

from shop import metrics

# Task name -> the kind of e-mail it sends (a label of shop_emails_total).
EMAIL_TASKS = {"payments.send_payment_email": "payment"}


def _on_success(sender=None, result=None, **_):
    kind = EMAIL_TASKS.get(getattr(sender, "name", None))
    if kind and result is True:
        metrics.count_email(kind, sent=True)


def _on_failure(sender=None, **_):
    kind = EMAIL_TASKS.get(getattr(sender, "name", None))
    if kind:
        metrics.count_email(kind, sent=False)


def _on_retry(request=None, **_):
    kind = EMAIL_TASKS.get(getattr(request, "task", None))
    if kind:
        metrics.count_email(kind, sent=False)


def connect() -> None:
    """Count e-mails from every Celery task run in this process (weak=False: these are module functions)."""
    task_success.connect(_on_success, weak=False)
    task_failure.connect(_on_failure, weak=False)
    task_retry.connect(_on_retry, weak=False)
