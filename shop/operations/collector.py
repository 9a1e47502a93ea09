"""What `/metrics` serves: every Procfile process's counters, plus gauges read from the database now.

The counters and histograms of every process on this host are in the per-process directories
under METRICS_DIR (metrics_dir.py): this adds up all of them, so the web process's answer
includes the Celery workers' processing. The gauges that describe the database (notifications
waiting, open payments, the last notification received) come from one read of the database
(shop.operations.snapshot), never from counters kept in memory. A web process reuses its last read
for METRICS_SNAPSHOT_SECONDS (5): that read costs ~90 ms of database time, and several scrapers, or
one scraping every second, would otherwise pay it on every scrape.
"""
import os
import threading
import time
from pathlib import Path

from flask import current_app

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY

from shop.models import utcnow
from shop.operations.snapshot import Snapshot, take_snapshot


class DirectoriesCollector:
    """The files of every process directory next to this process's own, merged."""

    def __init__(self, base: Path):
        self.base = base

    def collect(self):
        return MultiProcessCollector.merge(sorted(str(p) for p in self.base.glob("*/*.db")), accumulate=True)


class DatabaseCollector:
    """Gauges computed from the database when scraped (at most METRICS_SNAPSHOT_SECONDS old)."""

    def collect(self):
        snapshot = recent_snapshot(current_app.config["METRICS_SNAPSHOT_SECONDS"])
        for name, help_text, value in database_gauges(snapshot):
            yield GaugeMetricFamily(name, help_text, value=value)


_last: list = []  # [(monotonic time, Snapshot)]: this process's latest read
_reading = threading.Lock()


def recent_snapshot(max_age: float, clock=time.monotonic) -> Snapshot:
    """The database as read at most `max_age` seconds ago by this process (one reader at a time)."""
    with _reading:
        if not _last or clock() - _last[0][0] >= max_age:
            _last[:] = [(clock(), take_snapshot(utcnow()))]
        return _last[0][1]


def database_gauges(snapshot: Snapshot) -> list[tuple[str, str, float]]:
    def age(moment) -> float:
        return snapshot.age(moment) or 0.0

    last = snapshot.last_received_at.timestamp() if snapshot.last_received_at else 0.0
    return [
        ("shop_notifications_waiting", "Notifications stored and not processed yet", snapshot.waiting),
        ("shop_notification_oldest_waiting_seconds", "Age of the oldest unprocessed notification (0: none)",
         age(snapshot.oldest_waiting_at)),
        ("shop_notifications_failed_last_hour", "Notifications given up on (FAILED) stored in the last hour",
         snapshot.failed_last_hour),
        ("shop_payments_open", "Payment attempts still open (created, pending, authorized, challenge)",
         snapshot.open_payments),
        ("shop_payment_oldest_open_seconds", "Age of the oldest open payment attempt (0: none)",
         age(snapshot.oldest_open_at)),
        ("shop_webhook_last_received_timestamp_seconds", "When the last notification was received (0: never)", last),
        ("shop_reconcile_settled_last_hour", "Payments the reconciler found paid in the last hour",
         snapshot.settled_last_hour),
        ("shop_payment_emails_unsent",
         "E-mails to shoppers (outbox) still owed ALERT_WAITING_MINUTES after they became due",
         snapshot.unsent_emails),
    ]


def scrape() -> bytes:
    """The text /metrics answers: this host's processes and the database, as of now."""
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry.register(DirectoriesCollector(Path(directory).parent))
    else:
        registry = REGISTRY  # one process (development): its own values
    output = generate_latest(registry)
    return output + generate_latest(_database_registry())


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry
