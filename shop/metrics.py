"""The shop's Prometheus metrics: declared once here, counted at the boundaries that see the events.

With PROMETHEUS_MULTIPROC_DIR set (the Procfile processes set it: metrics_dir.py), every
gunicorn worker and Celery pool process writes its values to files there, and `/metrics`
(shop.operations.views) adds them up. Unset, the values live in the process (development, tests).
What describes the database (notifications waiting, open payments) is not kept here: it is read
at scrape time (shop.operations.collector).

Every label value comes from a short fixed list: a body's transaction_status is only ever a label
after its signature was checked, and anything unexpected becomes "other".
"""
from datetime import datetime, timezone
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

MIDTRANS_STATUSES = frozenset({"authorize", "capture", "settlement", "pending", "deny", "cancel", "expire",
                               "failure", "refund", "partial_refund", "chargeback", "partial_chargeback"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

WEBHOOK_NOTIFICATIONS = Counter(
    "shop_webhook_notifications", "Notifications the webhook answered, by outcome, refusal reason and Midtrans status",
    ["outcome", "reason", "transaction_status"])
WEBHOOK_SECONDS = Histogram("shop_webhook_duration_seconds", "Time the webhook route took to answer",
                            buckets=LATENCY_BUCKETS)
PROCESSED = Counter("shop_notifications_processed", "Stored notifications processed, by outcome", ["outcome"])
PROCESSING_LAG = Histogram("shop_notification_lag_seconds", "From a notification stored to its status applied",
                           buckets=LAG_BUCKETS)
RECONCILED = Counter("shop_reconcile_checks", "Reconciliation GET status checks, by result", ["result"])
RECONCILE_SETTLED = Counter("shop_reconcile_settled_payments",
                            "Payments found paid by reconciliation rather than by a notification")
SWEEPER_REQUEUED = Counter("shop_sweeper_requeued_notifications", "Notifications the sweeper queued again")
EMAILS = Counter("shop_emails", "E-mails sent or failed, by kind", ["kind", "result"])
PUSH_STREAMS = Gauge("shop_push_streams_open", "Order status streams open in this process",
                     multiprocess_mode="liveall")
PUSHES = Counter("shop_pushes_sent", "Status changes pushed to open order pages")


def midtrans_status(value) -> str:
    """A label for a Midtrans transaction_status: one of the known ones, else "other" ("" when absent)."""
    if not value:
        return ""
    value = str(value).lower()
    return value if value in MIDTRANS_STATUSES else "other"


@cache
def _webhook_counter(outcome: str, reason: str, status: str):
    return WEBHOOK_NOTIFICATIONS.labels(outcome, reason, status)


def count_webhook(outcome: str, reason: str = "", transaction_status=None) -> None:
    """One webhook answer: stored, test, refused (with its reason) or error. One increment."""
    _webhook_counter(outcome, reason, midtrans_status(transaction_status)).inc()


def count_processed(outcome, received_at: datetime | None = None) -> None:
    """One notification's processing outcome (applied, duplicate, stale, ..., failed; None: skipped,
    already processed) and, when applied, its lag from `received_at` (when it was stored)."""
    name = getattr(outcome, "value", outcome) or "skipped"
    PROCESSED.labels(name.lower()).inc()
    if name == "APPLIED" and received_at is not None:
        PROCESSING_LAG.observe(max((datetime.now(timezone.utc) - received_at).total_seconds(), 0.0))


def count_reconciled(result: str, settled: bool) -> None:
    """One reconciliation check's result; `settled`: it found a payment paid that we held open."""
    RECONCILED.labels(result.lower()).inc()
    if settled:
        RECONCILE_SETTLED.inc()


def count_email(kind: str, sent: bool) -> None:
    EMAILS.labels(kind, "sent" if sent else "failed").inc()
