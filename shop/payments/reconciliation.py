"""The periodic jobs' share of the work: which payments, orders and notifications need a look.

The database is the truth; these close the gaps Midtrans and Celery leave (a notification never
sent or never stored, a broker restart, a worker killed mid-task). Every function here runs in
the caller's transaction and flushes; the task or CLI commits, then queues and announces.

Two runs of one job never overlap: on PostgreSQL a run holds a transaction-level advisory lock
(`pg_try_advisory_xact_lock`, shared by every process on every host, released by the run's
commit), and the rows it claims are skipped by a concurrent claim (`FOR UPDATE SKIP LOCKED`).
SQLite is the embedded single-process shop and needs no lock; there the claim's timestamps alone
keep a payment from being asked twice in a row.
"""
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Update, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from shop import extensions
from shop.accounts.models import InboxMessage
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments import services, states
from shop.payments.models import Notification, NotificationState, Payment

log = logging.getLogger(__name__)

# Advisory lock keys, one per job: any two constant 64-bit numbers no other code uses.
RUN_LOCKS = {"reconcile": 0x5348_4F50_0001, "sweep": 0x5348_4F50_0002}


class NoRunLock(RuntimeError):
    """The database has no run lock this shop knows how to take."""


@dataclass
class ReconcileRun:
    """The payments a run claimed for a GET status, and the orphaned orders it expired."""

    payment_ids: list[int] = field(default_factory=list)
    orphans: list[services.OrderChange] = field(default_factory=list)


@dataclass
class Sweep:
    """Notifications to queue again, those given up on (now FAILED), and payment e-mails to queue again."""

    queued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    emails: list[int] = field(default_factory=list)  # inbox message ids


def take_run_lock(job: str) -> bool:
    """Hold `job`'s lock until this transaction ends; False while another run holds it."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        return True  # embedded single process: nothing else runs the job at the same time
    if dialect != "postgresql":
        raise NoRunLock(f"no run lock for {dialect}: run the shop on PostgreSQL (or SQLite when embedded)")
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(RUN_LOCKS[job]))))


def start_reconcile_run(limit: int) -> ReconcileRun | None:
    """Claim up to `limit` stale payments and expire orphaned orders; None if a run is going on."""
    if not take_run_lock("reconcile"):
        log.info("reconcile run skipped: another run holds the lock")
        return None
    run = ReconcileRun(payment_ids=claim_stale_payments(limit))
    for order_id in orphaned_order_ids(limit):
        change = services.expire_orphaned_order(order_id)
        if change is not None:
            run.orphans.append(change)
    return run


def claim_stale_payments(limit: int) -> list[int]:
    """The open payments due a GET status, least recently asked first, marked as asked now."""
    config, now = current_app.config, utcnow()
    old_enough = now - timedelta(minutes=config["RECONCILE_MIN_AGE_MINUTES"])
    asked_recently = now - timedelta(minutes=config["RECONCILE_RECHECK_MINUTES"])
    ids = db.session.scalars(
        select(Payment.id)
        .where(Payment.status.in_(states.OPEN),
               or_(Payment.created_at <= old_enough, Payment.expires_at <= now),
               or_(Payment.last_checked_at.is_(None), Payment.last_checked_at <= asked_recently))
        .order_by(func.coalesce(Payment.last_checked_at, Payment.created_at), Payment.id)
        .limit(limit).with_for_update(skip_locked=True)).all()
    if ids:
        # Marked now, so the next run asks others first even before these tasks ran.
        db.session.execute(update(Payment).where(Payment.id.in_(ids))
                           .values(last_checked_at=now, updated_at=Payment.updated_at)
                           .execution_options(synchronize_session=False))
    return list(ids)


def orphaned_order_ids(limit: int, order_id: int | None = None) -> list[int]:
    """PENDING orders older than ORPHAN_ORDER_MINUTES that never got a payment attempt."""
    cutoff = utcnow() - timedelta(minutes=current_app.config["ORPHAN_ORDER_MINUTES"])
    query = (select(Order.id)
             .where(Order.status == OrderStatus.PENDING, Order.created_at <= cutoff,
                    ~exists().where(Payment.order_id == Order.id))
             .order_by(Order.id).limit(limit))
    if order_id is not None:
        query = query.where(Order.id == order_id)
    return list(db.session.scalars(query))


# --- the notification sweeper -------------------------------------------------------------

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
    sweep.emails = claim_unsent_emails(now, cutoff, limit)
    return sweep


def mark_unqueued(notification_ids: list[int], reason: str) -> None:
    """Their tasks could not be queued after the commit (the broker failed): mark them for the
    sweeper's next run, instead of a whole SWEEP_DELAY_SECONDS later, and say why in their
    `error` for the dashboard until they are processed (commits on its own).

    Only the delay depends on the mark: when it cannot be written either, the sweeper still
    finds them once the delay has passed.
    """
    try:
        with extensions.autocommit_connection() as connection:
            connection.execute(_unqueued_mark(), {"ids": list(notification_ids), "now": utcnow(),
                                                  "error": f"not queued yet ({reason})"[:500]})
    except SQLAlchemyError as error:  # the database too, or its pool: the delay still brings them back
        log.warning("notifications=%s not marked as unqueued (%s); the sweeper finds them after its delay",
                    notification_ids[:20], type(error).__name__)


@cache
def _unqueued_mark() -> Update:
    table = Notification.__table__
    return (update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.state == NotificationState.RECEIVED)
            .values(queue_failed_at=bindparam("now", type_=table.c.queue_failed_at.type), error=bindparam("error")))


# A payment e-mail still unsent after the sweep delay was never queued (the broker failed right
# after the commit) or its task gave up: queued again at most once an hour, for a day.
EMAIL_REQUEUE_EVERY = timedelta(hours=1)
EMAIL_GIVE_UP_AFTER = timedelta(days=1)


def claim_unsent_emails(now, cutoff, limit: int) -> list[int]:
    """The inbox messages whose e-mail has not gone out since `cutoff`, marked as queued now."""
    messages = db.session.scalars(
        select(InboxMessage)
        .where(InboxMessage.emailed_at.is_(None), InboxMessage.created_at <= cutoff,
               InboxMessage.created_at > now - EMAIL_GIVE_UP_AFTER,
               or_(InboxMessage.email_queued_at.is_(None), InboxMessage.email_queued_at <= now - EMAIL_REQUEUE_EVERY))
        .order_by(InboxMessage.id).limit(limit).with_for_update(skip_locked=True)).all()
    for message in messages:
        message.email_queued_at = now
    return [message.id for message in messages]


@dataclass(frozen=True)
class Attempt:
    """A notification whose processing has started: what the task needs of its row."""

    id: int
    payment_id: int
    body: str
    midtrans_order_id: str
    transaction_status: str | None


def count_attempt(notification_id: int) -> Attempt | None:
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
                       table.c.transaction_status))


def give_up(notification: Notification) -> None:
    """Mark a notification FAILED for an admin, keeping its last error."""
    last = notification.error or "no attempt finished (broker down or worker lost)"
    notification.state = NotificationState.FAILED
    notification.error = f"gave up after {notification.attempts} attempts; last error: {last}"[:500]
    log.error("notification=%s gave up after %d attempts; state FAILED: %s", notification.id,
              notification.attempts, last[:200])
