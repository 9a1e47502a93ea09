"""The bound on a notification's life: counting its attempts, giving up, and sweeping the stranded.

Processing a notification starts by counting the attempt (`claim_attempt`), committed before any
work, so a message that kills its worker every time stops after NOTIFICATION_MAX_ATTEMPTS
starts: past that bound the notification is FAILED for an admin (`give_up`). The sweeper queues
again the notifications no worker finished, and the e-mails that never went out (any kind). Every
function here flushes, but `claim_attempt`'s count, which commits itself; the task commits, then queues.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Update, and_, bindparam, func, or_, select, update

from shop import extensions
from shop.extensions import db
from shop.models import utcnow
from shop.outbox import services as outbox
from shop.payments.models import Notification, NotificationState
from shop.payments.run_lock import take_run_lock

log = logging.getLogger(__name__)


@dataclass
class Sweep:
    """Notifications to queue again, those given up on (now FAILED), and e-mails to queue again."""

    queued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    emails: list[int] = field(default_factory=list)  # outbox rows (shop.outbox)


def sweep_stranded_notifications(limit: int, broker_idle: bool = False) -> Sweep | None:
    """Pick notifications no worker finished within SWEEP_DELAY_SECONDS; None if a sweep is going on.

    Sooner for two kinds of notification: those whose task could not be queued (marked), and,
    when nothing waits in the broker (`broker_idle`), those never started SWEEP_LOST_AFTER_SECONDS
    after they were stored: no message for them is left to take, so it was lost (a web process
    killed before queueing it, a broker restarted without its data). A message a busy worker has
    taken but not started yet may be queued twice that way; running a notification twice changes
    nothing more. Those started once (attempts) may be in a retry's countdown: they get the delay.
    """
    if not take_run_lock("sweep"):
        log.info("sweep skipped: another sweep holds the lock")
        return None
    config, now, sweep = current_app.config, utcnow(), Sweep()
    cutoff = now - timedelta(seconds=config["SWEEP_DELAY_SECONDS"])
    waited = func.coalesce(Notification.last_attempt_at, Notification.received_at)
    due = [waited <= cutoff,
           Notification.queue_failed_at.is_not(None)]  # known unqueued: no need to wait
    if broker_idle:
        due.append(and_(Notification.attempts == 0,
                        waited <= now - timedelta(seconds=config["SWEEP_LOST_AFTER_SECONDS"])))
    stranded = db.session.scalars(
        select(Notification).where(Notification.state == NotificationState.RECEIVED, or_(*due))
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)).all()
    for notification in stranded:
        if notification.attempts >= config["NOTIFICATION_MAX_ATTEMPTS"]:
            give_up(notification)
            sweep.failed.append(notification.id)
        else:
            notification.last_attempt_at = now  # the next sweep waits from now again
            if notification.queue_failed_at is not None:  # queued now: "not queued yet" is over
                notification.queue_failed_at = notification.error = None  # unless queueing fails again
            sweep.queued.append(notification.id)
    sweep.emails = outbox.due_again(now, cutoff, limit)
    return sweep


@dataclass(frozen=True)
class Attempt:
    """A notification whose processing has started: what the task needs of its row."""

    id: int
    payment_id: int
    body: str
    midtrans_order_id: str
    transaction_status: str | None
    received_at: datetime | None = None


def claim_attempt(notification_id: int) -> Attempt | None:
    """Count one start of processing, committed at once; None when there is nothing to process (flushes).

    Counted in the database before the work, so a message that kills its worker every time
    (redelivered by the broker) stops after NOTIFICATION_MAX_ATTEMPTS starts too: past that
    bound the notification is FAILED. The same statement returns what processing needs.
    """
    with extensions.autocommit_connection() as connection:  # counted and committed in one round trip
        row = connection.execute(_attempt_count(), {
            "notification_id": notification_id, "max_attempts": current_app.config["NOTIFICATION_MAX_ATTEMPTS"],
            "now": utcnow()}).one_or_none()
    if row is not None:
        return Attempt(*row)
    notification = db.session.get(Notification, notification_id, populate_existing=True)
    if notification is None:
        log.error("notification=%s does not exist; nothing to do", notification_id)
    elif notification.state is NotificationState.RECEIVED:
        give_up(notification)
    return None


@cache
def _attempt_count() -> Update:
    """Count a start of `notification_id` while it is RECEIVED and below `max_attempts`; return its row.

    Core, not the ORM: no object is loaded or kept in step. Built once (the task's hot path).
    """
    table = Notification.__table__
    return (update(table)
            .where(table.c.id == bindparam("notification_id"), table.c.state == NotificationState.RECEIVED,
                   table.c.attempts < bindparam("max_attempts"))
            .values(attempts=table.c.attempts + 1, last_attempt_at=bindparam("now", type_=table.c.last_attempt_at.type))
            .returning(table.c.id, table.c.payment_id, table.c.body, table.c.midtrans_order_id,
                       table.c.transaction_status, table.c.received_at))


def give_up(notification: Notification) -> None:
    """Mark a notification FAILED for an admin, keeping its last error."""
    last = notification.error or "no attempt finished (broker down or worker lost)"
    notification.state = NotificationState.FAILED
    notification.error = f"gave up after {notification.attempts} attempts; last error: {last}"[:500]
    log.error("notification=%s gave up after %d attempts; state FAILED: %s", notification.id,
              notification.attempts, last[:200])


def record_failure(notification_id: int, exc: Exception, final: bool) -> None:
    """Keep a failed attempt's error on the notification; after the last attempt it waits for an admin (flushes)."""
    level = logging.ERROR if final else logging.WARNING
    log.log(level, "notification=%s attempt failed (%s: %s)%s", notification_id, type(exc).__name__,
            str(exc)[:200], "; giving up, state FAILED" if final else "; will retry")
    notification = db.session.get(Notification, notification_id)
    if notification is not None and notification.state is not NotificationState.PROCESSED:
        notification.error = f"{type(exc).__name__}: {exc}"[:500]
        notification.state = NotificationState.FAILED if final else notification.state
        db.session.flush()
