"""Celery tasks of the payments feature: they take ids, call the services, commit, then queue and announce.

Beat only enqueues the two periodic tasks, on the periodic queue; the beat process's own worker runs
them: they claim their work under a run lock, commit, and then fan out one task per payment (on the
reconcile queue) or notification (on the default queue, with the webhook's).
"""
import logging
import random
import threading
import time

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import DBAPIError

from shop import broker, metrics
from shop.celery_config import MAX_RETRIES, RECONCILE_QUEUE, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS
from shop.extensions import db
from shop.outbox import services as outbox
from shop.payments import applying, gateway, queueing, reconciling, sweeping
from shop.payments.announcing import OrderChange, announce_order_change
from shop.payments.states import PAID

log = logging.getLogger(__name__)

# Worth another try later: Midtrans or the database hiccuped, or Midtrans has not indexed it yet.
TRANSIENT = (gateway.MidtransUnavailable, gateway.MidtransNotFound, DBAPIError)


@shared_task(name=queueing.PROCESS_NOTIFICATION, bind=True, acks_late=True, max_retries=MAX_RETRIES,
             ignore_result=True)
def process_notification(self, notification_id: int) -> str | None:
    """Apply one stored Midtrans notification; running it twice changes nothing more."""
    started = time.monotonic()
    try:
        attempt = sweeping.claim_attempt(notification_id)
        db.session.commit()  # a notification given up on past the bound (nothing otherwise)
        change = _confirm_and_apply(attempt) if attempt else None
    except TRANSIENT as exc:
        db.session.rollback()
        final = self.request.retries >= self.max_retries
        _record_failure(notification_id, exc, final=final)
        if final:
            metrics.count_processed("failed")
            return None
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries))
    except Exception as exc:  # noqa: BLE001 -- a bug: keep the evidence, leave it to an admin
        db.session.rollback()
        log.exception("notification=%s failed with an unexpected error", notification_id)
        _record_failure(notification_id, exc, final=True)
        metrics.count_processed("failed")
        return None
    announce_order_change(change)
    _log_outcome(notification_id, attempt, change, started)
    metrics.count_processed(change and change.outcome, attempt and attempt.received_at)
    return change.outcome.value if change and change.outcome else None


def _confirm_and_apply(attempt: sweeping.Attempt) -> OrderChange:
    status, verified = applying.midtrans_truth(attempt)
    change = applying.apply_status(attempt.payment_id, status, attempt.id, verified=verified)
    db.session.commit()
    return change


def _record_failure(notification_id: int, exc: Exception, final: bool) -> None:
    try:
        sweeping.record_failure(notification_id, exc, final)
        db.session.commit()
    except DBAPIError:
        db.session.rollback()
        log.warning("notification=%s could not record the failure: database unavailable", notification_id)


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter, so retries from many workers spread out."""
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** retries)
    return random.uniform(ceiling / 2, ceiling)


def _log_outcome(notification_id: int, attempt: sweeping.Attempt | None, change: OrderChange | None,
                 started: float) -> None:
    took = (time.monotonic() - started) * 1000
    if change is None or change.outcome is None:
        log.info("notification=%s outcome=SKIPPED (already processed or missing) took_ms=%.1f",
                 notification_id, took)
        return
    log.info("notification=%s order=%s midtrans_order=%s transaction_status=%s outcome=%s payment=%s "
             "order_status=%s took_ms=%.1f", notification_id, change.order_id, attempt.midtrans_order_id,
             attempt.transaction_status, change.outcome.value, change.payment_status.value,
             change.after.value, took)


# --- reconciliation and the sweeper ---------------------------------------------------------

@shared_task(name="payments.reconcile_pending_payments", ignore_result=True)
def reconcile_pending_payments() -> int | None:
    """Claim the stale payments under the run lock, expire orphaned orders, queue one check each."""
    run = reconciling.start_reconcile_run(current_app.config["RECONCILE_BATCH_SIZE"])
    db.session.commit()
    if run is None:
        return None
    for change in run.orphans:
        announce_order_change(change)
    # Through this app's own Celery app: another app built in the same process (tests, CLI)
    # may have become Celery's default.
    check = current_app.extensions["celery"].tasks[reconcile_payment.name]
    for payment_id in run.payment_ids:
        check.delay(payment_id)
    log.info("reconcile run queued=%d orphaned_orders_expired=%d", len(run.payment_ids), len(run.orphans))
    return len(run.payment_ids)


# A queue of its own, which the workers take from in turn with "celery": a check never waits behind a
# backlog of notifications, and a run's fan-out never sits in front of the next periodic run.
@shared_task(name="payments.reconcile_payment", queue=RECONCILE_QUEUE, ignore_result=True)
def reconcile_payment(payment_id: int) -> str | None:
    """Ask Midtrans about one payment and apply the answer; on trouble the next run asks again."""
    try:
        check = reconciling.recheck_payment(payment_id)
        db.session.commit()
    except (gateway.MidtransError, DBAPIError, reconciling.PaymentNotFound) as exc:
        db.session.rollback()
        log.warning("payment=%s reconciliation failed (%s: %s); a later run asks again", payment_id,
                    type(exc).__name__, str(exc)[:200])
        return None
    announce_order_change(check.change)
    metrics.count_reconciled(check.result, settled=check.before.is_open and check.after in PAID)
    log.info("reconciled %s", check.describe())
    return check.result


@shared_task(name="payments.sweep_notifications", ignore_result=True)
def sweep_notifications() -> int | None:
    """Queue again the stored notifications no worker finished (giving up on those past the bound)
    and the e-mails that never went out."""
    # Idle: no notification waits (e-mails may, after them at EMAIL_PRIORITY). None (unknown) is not idle.
    idle = broker.waiting(current_app.extensions["celery"], priority=0) == 0
    sweep = sweeping.sweep_stranded_notifications(current_app.config["SWEEP_BATCH_SIZE"], broker_idle=idle)
    db.session.commit()
    if sweep is None:
        return None
    queueing.enqueue_notifications(sweep.queued)
    metrics.SWEEPER_REQUEUED.inc(len(sweep.queued))
    outbox.queue(sweep.emails)
    if sweep.queued or sweep.failed or sweep.emails:
        log.info("sweep queued=%s failed=%s emails=%s", sweep.queued[:20], sweep.failed[:20], sweep.emails[:20])
    return len(sweep.queued)


# --- development: the periodic jobs without a broker or beat -------------------------------------

def start_in_process_jobs(app, every: float) -> threading.Event:
    """Run reconciliation and the sweeper every `every` seconds in a daemon thread of this process
    (tasks in-process, as under `bin/dev`); set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            with app.app_context():
                for task in (reconcile_pending_payments, sweep_notifications):
                    _run_periodic(task)

    threading.Thread(target=loop, name="in-process-jobs", daemon=True).start()
    log.info("in-process periodic jobs every %ss: reconciliation and the sweeper", every)
    return stop


def _run_periodic(task) -> None:
    try:
        task.apply()
    except Exception:  # noqa: BLE001 -- the next round tries again
        log.exception("in-process %s failed", task.name)
    finally:
        db.session.remove()
