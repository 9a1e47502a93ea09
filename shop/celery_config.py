"""Celery's settings for the shop: nothing lost, JSON only, the periodic jobs and their queues.

Built by shop.config.finalize from the environment's settings (CELERY in the app's config).
"""
from collections.abc import Mapping

# Reconciliation and the notification sweeper: name -> (default, smallest allowed value).
RECONCILIATION_DEFAULTS = {
    "RECONCILE_INTERVAL_SECONDS": (300, 1),
    "RECONCILE_MIN_AGE_MINUTES": (30, 0),
    "RECONCILE_RECHECK_MINUTES": (60, 0),
    "RECONCILE_BATCH_SIZE": (200, 1),
    "RECONCILE_CONCURRENCY": (8, 1),
    "RECONCILE_EXPIRY_GRACE_MINUTES": (15, 0),
    "ORPHAN_ORDER_MINUTES": (60, 1),
    "SWEEP_INTERVAL_SECONDS": (60, 1),
    "SWEEP_DELAY_SECONDS": (900, 0),
    "SWEEP_LOST_AFTER_SECONDS": (60, 0),
    "SWEEP_BATCH_SIZE": (500, 1),
    "NOTIFICATION_MAX_ATTEMPTS": (10, 1),
}

# The operations jobs (alerts, the merchant's messages): name -> (default, smallest allowed value).
OPERATIONS_DEFAULTS = {
    "ALERT_CHECK_SECONDS": (60, 5),
    "ALERT_SILENCE_MINUTES": (60, 1),
    "ALERT_RECONCILE_SETTLED_MAX": (5, 0),
    "ALERT_WAITING_MINUTES": (15, 1),
    "MERCHANT_DIGEST_MINUTES": (60, 1),
    "DAILY_SUMMARY_HOUR": (7, 0),
    "METRICS_SNAPSHOT_SECONDS": (5, 0),  # how long a web process reuses /metrics's database read
}


def celery_settings(broker: str, redis_url: str, jobs: Mapping | None = None) -> dict:
    """Celery settings chosen so no task is lost; without a broker, tasks run inline."""
    defaults = {**RECONCILIATION_DEFAULTS, **OPERATIONS_DEFAULTS}
    jobs = {**{name: default for name, (default, _) in defaults.items()},
            "RECONCILE_RATE_LIMIT": "10/s", **(jobs or {})}
    return {
        # In-process tasks still take a producer from the broker's pool: an in-memory one, named so
        # kombu does not warn "No hostname was supplied" at every task.
        "broker_url": broker or "memory://localhost/",
        # Nobody reads task results; storing them would only fill Redis.
        "result_backend": None,
        "task_ignore_result": True,
        "task_always_eager": not broker,
        "task_eager_propagates": False,
        # JSON only: a pickled message from whoever can write to the broker would run code.
        "task_serializer": "json",
        "accept_content": ["json"],
        # A task is acknowledged only after it finished, so a crashed worker's task is redelivered.
        "task_acks_late": True,
        # A worker killed mid-task (OOM, SIGKILL) puts the message back instead of dropping it; safe
        # because every task is idempotent, and a message that kills its worker every time is bounded
        # by NOTIFICATION_MAX_ATTEMPTS (each start is counted in the database).
        "task_reject_on_worker_lost": True,
        # One message at a time per pool slot (a thread of the Procfile's worker): a crash strands only the
        # messages in hand, which the broker keeps unacked and the sweeper queues again.
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": broker_transport_options(broker),
        # A hung task is stopped instead of blocking a worker process for ever; Midtrans calls time out
        # after MIDTRANS_READ_TIMEOUT with bounded retries, well inside these. Only prefork (and gevent)
        # pools enforce them: a thread of the Procfile's threads pool cannot be stopped, and relies on
        # the timeouts of what it waits on (Midtrans's read timeout, the database's connect timeout, MAIL_TIMEOUT).
        "task_soft_time_limit": 60,
        "task_time_limit": 90,
        # A worker that starts before the broker keeps trying instead of exiting.
        "broker_connection_retry_on_startup": True,
        # Publishing while the broker is down fails within a second (the web answers Midtrans at once;
        # the stored notification waits for the sweeper) instead of hanging the request.
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        # Reconciliation asks Midtrans at most this often per worker process (no published limit; 429s
        # are retried): the steady pace towards Midtrans is this times the number of worker processes.
        "task_annotations": {"payments.reconcile_payment": {"rate_limit": jobs["RECONCILE_RATE_LIMIT"]}},
        "beat_schedule": beat_schedule(jobs),
        "timezone": "UTC",
    }


def broker_transport_options(broker: str) -> dict:
    """What the broker's transport needs so that no message is lost or run twice while it waits."""
    if broker.startswith(("amqp://", "amqps://", "pyamqp://")):
        # RabbitMQ confirms every publish once it has the message (persistent, on a durable queue); an
        # unconfirmed one raises, and the stored notification waits for the sweeper, as on Redis.
        # It keeps an unacknowledged message for as long as the worker's connection lives, up to its
        # consumer_timeout (30 minutes by default): longer than the longest countdown a worker holds
        # (retry backoff is capped at 10 minutes) plus the hard time limit. No visibility timeout.
        return {"confirm_publish": True}
    # Redis redelivers an unacknowledged message after this: longer than the longest countdown we
    # schedule (retry backoff is capped at 10 minutes) plus the hard time limit, or a waiting task
    # would run twice. A worker that died with a message in hand is covered by the sweeper sooner.
    return {"visibility_timeout": 2 * 60 * 60}


# Every retried task's policy (notifications, e-mails): at most MAX_RETRIES more tries, the backoff
# doubling from RETRY_BASE_SECONDS up to RETRY_CAP_SECONDS, which the broker must outlast (above).
MAX_RETRIES = 6
RETRY_BASE_SECONDS = 5
RETRY_CAP_SECONDS = 600

# Queues besides Celery's default one ("celery": notifications, and e-mails at EMAIL_PRIORITY). The beat process's own
# worker consumes PERIODIC_QUEUE alone, so a run never waits behind a backlog of notifications; the
# `worker` processes consume RECONCILE_QUEUE next to "celery", taking from each in turn (Procfile).
# Routed by the beat entries and the task's decorator, not task_routes: any task_routes at all
# sends every publish of shop/broker.py through Celery's slower path.
PERIODIC_QUEUE = "periodic"
RECONCILE_QUEUE = "reconcile"

# The shopper's e-mails wait until no notification or check is waiting: in a burst (a flash sale) a
# worker's time goes to the pages shoppers watch, and the receipts follow when it has drained. On
# Redis a priority is a list of its own that workers take from after those of priority 0 (kombu's
# steps 0, 3, 6, 9; 9 is last); RabbitMQ ignores it on queues declared without x-max-priority.
EMAIL_PRIORITY = 9
# The merchant's alerts are the exception: one that says notifications are piling up must not wait
# for them to drain. They are few (one per condition that starts or stops holding).
ALERT_PRIORITY = 0


def beat_schedule(jobs: Mapping) -> dict:
    """What the one beat process enqueues, how often, and on which queue."""
    return {
        "reconcile-pending-payments": {
            "task": "payments.reconcile_pending_payments",
            "schedule": float(jobs["RECONCILE_INTERVAL_SECONDS"]),
            # A run that waited longer than its interval is superseded by the next one.
            "options": {"queue": PERIODIC_QUEUE, "expires": float(jobs["RECONCILE_INTERVAL_SECONDS"])},
        },
        "sweep-notifications": {
            "task": "payments.sweep_notifications",
            "schedule": float(jobs["SWEEP_INTERVAL_SECONDS"]),
            "options": {"queue": PERIODIC_QUEUE, "expires": float(jobs["SWEEP_INTERVAL_SECONDS"])},
        },
        **{name: {"task": task, "schedule": float(jobs["ALERT_CHECK_SECONDS"]),
                  "options": {"queue": PERIODIC_QUEUE, "expires": float(jobs["ALERT_CHECK_SECONDS"])}}
           for name, task in OPERATIONS_JOBS.items()},
    }

# Each runs every ALERT_CHECK_SECONDS and decides from the database whether anything is due, so a
# restart of beat neither repeats nor skips a message (shop.operations).
OPERATIONS_JOBS = {
    "check-alerts": "operations.check_alerts",
    "merchant-paid-orders": "operations.send_paid_order_messages",
    "daily-summary": "operations.send_daily_summary",
}

