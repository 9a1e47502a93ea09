"""Reconciliation: GET status through the transition code, local expiry, orphaned orders, the sweeper."""
import base64
import json
import pytest
import redis
from sqlalchemy import func, select, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shop import broker, extensions
from shop.outbox.services import SEND_EMAIL
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments import queueing, receiving, reconciling, run_lock, sweeping
from shop.payments.models import (Notification, NotificationOutcome, NotificationSource, NotificationState,
                                  Payment, PaymentStatus)
from shop.orders.models import OrderLine
from tests.factories import OrderFactory, ProductFactory
from tests.payments.processes import REDIS_URL
from tests.payments.helpers import ago, for_payment, history, settles, stale, status_calls


def stock_of(payment) -> int:
    db.session.expire_all()
    return db.session.get(Payment, payment.id).order.lines[0].product.stock


# --- recheck_payment ------------------------------------------------------------------------

def test_recheck_applies_midtrans_status_like_a_notification_and_records_it(midtrans):
    payment = stale()
    settles(midtrans, payment)

    check = reconciling.recheck_payment(payment.id)

    assert (check.before, check.after, check.result) == (PaymentStatus.PENDING, PaymentStatus.SUCCESS, "APPLIED")
    assert payment.order.status is OrderStatus.SUCCESS and payment.last_checked_at is not None
    [row] = history(payment.id)
    assert (row.source, row.state, row.outcome, row.attempts) == (
        NotificationSource.RECONCILE, NotificationState.PROCESSED, NotificationOutcome.APPLIED, 1)
    assert row.transaction_status == "settlement" and json.loads(row.body)["order_id"] == payment.midtrans_order_id
    assert check.describe() == (f"payment {payment.id} {payment.midtrans_order_id}: PENDING -> SUCCESS, "
                                f"order {payment.order_id} PENDING -> SUCCESS [APPLIED]")
    assert status_calls(midtrans) == [f"/v2/{payment.midtrans_order_id}/status"]

    again = reconciling.recheck_payment(payment.id)
    assert again.result == "DUPLICATE" and not again.change.order_changed
    assert [n.outcome for n in history(payment.id)] == [NotificationOutcome.APPLIED, NotificationOutcome.DUPLICATE]


def test_unknown_to_midtrans_stays_open_until_the_snap_expiry_and_grace_passed(app, midtrans):
    payment = stale(PaymentStatus.CREATED, expires_at=ago(minutes=app.config["RECONCILE_EXPIRY_GRACE_MINUTES"] - 1))

    check = reconciling.recheck_payment(payment.id)

    assert check.result == reconciling.NOT_FOUND and check.change is None and check.notification_id is None
    assert payment.status is PaymentStatus.CREATED and payment.last_checked_at is not None
    assert history(payment.id) == [] and stock_of(payment) == 3


def test_unknown_to_midtrans_after_its_snap_expiry_is_expired_and_its_stock_released_once(app, midtrans):
    payment = stale(PaymentStatus.CREATED, expires_at=ago(minutes=app.config["RECONCILE_EXPIRY_GRACE_MINUTES"] + 1))

    check = reconciling.recheck_payment(payment.id)

    assert (check.after, check.change.after) == (PaymentStatus.EXPIRED, OrderStatus.EXPIRED)
    [row] = history(payment.id)
    assert (row.source, row.status_code, row.transaction_status) == (NotificationSource.RECONCILE, "404", "expire")
    assert "expired by the shop" in row.body
    assert stock_of(payment) == 5

    assert reconciling.recheck_payment(payment.id).result == reconciling.NOT_FOUND
    assert stock_of(payment) == 5


def test_a_payment_with_a_transaction_is_never_expired_on_a_404(midtrans):
    payment = stale(transaction_id="tx-gone", expires_at=ago(days=2))

    check = reconciling.recheck_payment(payment.id)

    assert check.result == reconciling.NOT_FOUND and payment.status is PaymentStatus.PENDING
    # Asked by order id, then by the transaction id it knows.
    assert status_calls(midtrans) == [f"/v2/{payment.midtrans_order_id}/status", "/v2/tx-gone/status"]


def test_a_transaction_found_only_by_its_id_is_applied(midtrans):
    payment = stale(transaction_id="dana-1")
    # DANA: GET status answers by transaction id, with the transaction id as its order_id.
    settles(midtrans, payment, key="dana-1", transaction_id="dana-1", order_id="dana-1")

    assert reconciling.recheck_payment(payment.id).result == "APPLIED"
    assert payment.status is PaymentStatus.SUCCESS


def test_recheck_of_a_missing_payment_is_a_clear_error():
    with pytest.raises(reconciling.PaymentNotFound, match="no payment has the id 987654"):
        reconciling.recheck_payment(987654)


# --- what a run claims -------------------------------------------------------------------------

def test_a_run_claims_due_open_payments_least_recently_asked_first_within_its_batch(app, midtrans):
    recheck = app.config["RECONCILE_RECHECK_MINUTES"]
    asked_long_ago = stale(last_checked_at=ago(minutes=recheck + 30))
    never_asked = stale(PaymentStatus.CREATED, created=ago(hours=1))
    past_expiry_though_young = stale(created=ago(minutes=1), expires_at=ago(minutes=1))
    stale(created=ago(minutes=1))  # too young
    stale(last_checked_at=ago(minutes=recheck - 5))  # asked recently
    stale(PaymentStatus.SUCCESS)  # closed
    stale(PaymentStatus.EXPIRED)

    first = reconciling.claim_stale_payments(limit=2)
    second = reconciling.claim_stale_payments(limit=2)

    assert first == [asked_long_ago.id, never_asked.id]
    assert second == [past_expiry_though_young.id]
    assert reconciling.claim_stale_payments(limit=2) == []
    assert status_calls(midtrans) == []  # claiming asks nobody


def test_the_beat_task_queues_one_check_per_stale_payment(app, midtrans):
    payments = [stale() for _ in range(3)]
    for payment in payments:
        settles(midtrans, payment)
    young = stale(created=ago(minutes=1))
    task = app.extensions["celery"].tasks["payments.reconcile_pending_payments"]

    assert task.apply().result == 3  # eager: each queued check runs at once

    db.session.expire_all()
    assert [db.session.get(Payment, p.id).status for p in payments] == [PaymentStatus.SUCCESS] * 3
    assert db.session.get(Payment, young.id).status is PaymentStatus.PENDING
    assert sorted(status_calls(midtrans)) == sorted(f"/v2/{p.midtrans_order_id}/status" for p in payments)
    assert task.apply().result == 0


def test_the_check_task_leaves_a_payment_for_later_when_midtrans_is_down(app, midtrans):
    payment = stale()
    for _ in range(1 + app.config["MIDTRANS_MAX_RETRIES"]):
        midtrans.script("GET", f"/v2/{payment.midtrans_order_id}/status", 503, {"status_code": "503"})
    task = app.extensions["celery"].tasks["payments.reconcile_payment"]

    assert task.apply(args=[payment.id]).result is None

    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING and history(payment.id) == []


# --- orders a crashed checkout left without a payment ------------------------------------------

def orphan(created) -> Order:
    """A PENDING order with 2 units reserved (4 left on the shelf) and no payment attempt."""
    product = ProductFactory(stock=4)
    order = OrderFactory(total=2 * product.price, lines=[], created_at=created)
    order.lines.append(OrderLine(product=product, sku=product.sku, name=product.name,
                                 unit_price=product.price, quantity=2))
    db.session.commit()
    return order


def shelf(order) -> int:
    db.session.expire_all()
    return db.session.get(Order, order.id).lines[0].product.stock


def test_an_old_order_without_payment_is_expired_and_its_stock_released_once(app):
    minutes = app.config["ORPHAN_ORDER_MINUTES"]
    old, young = orphan(ago(minutes=minutes + 1)), orphan(ago(minutes=minutes - 1))
    paid_for = stale()  # has a payment: never an orphan

    run = reconciling.start_reconcile_run(limit=10)

    assert [(c.order_id, c.before, c.after) for c in run.orphans] == [(old.id, OrderStatus.PENDING,
                                                                      OrderStatus.EXPIRED)]
    assert (shelf(old), shelf(young), stock_of(paid_for)) == (6, 4, 3)
    assert reconciling.start_reconcile_run(limit=10).orphans == []
    assert reconciling.expire_orphaned_order(old.id) is None  # asked directly: nothing more
    assert shelf(old) == 6


# --- replaying a stored notification ------------------------------------------------------------

def test_replay_applies_a_failed_notification_again_as_a_new_history_row(app, verify_status):
    payment = stale()
    body = settles(verify_status, payment)
    failed = Notification(payment=payment, body=json.dumps(body), state=NotificationState.FAILED, attempts=7,
                          error="MidtransUnavailable: Midtrans answered 503", **receiving.summary_columns(body))
    db.session.add(failed)
    db.session.commit()

    check = reconciling.replay_notification(failed.id)

    assert (check.result, check.after) == ("APPLIED", PaymentStatus.SUCCESS)
    replay = db.session.get(Notification, check.notification_id)
    assert (replay.source, replay.body, replay.outcome) == (NotificationSource.REPLAY, failed.body,
                                                            NotificationOutcome.APPLIED)
    assert failed.state is NotificationState.FAILED and failed.attempts == 7  # the evidence stays
    assert status_calls(verify_status) == [f"/v2/{body['transaction_id']}/status"]


def test_replay_of_a_missing_notification_is_a_clear_error_and_changes_nothing():
    count = db.session.scalar(select(func.count()).select_from(Notification))
    with pytest.raises(reconciling.NotificationNotFound, match="no notification has the id 424242"):
        reconciling.replay_notification(424242)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == count


# --- the sweeper and the bound on attempts ----------------------------------------------------

def stored(payment, received, attempts=0, state=NotificationState.RECEIVED) -> Notification:
    body = for_payment(payment, "bank_transfer_bca_settlement.json")
    notification = Notification(payment=payment, body=json.dumps(body), state=state, attempts=attempts,
                                received_at=received, **receiving.summary_columns(body))
    db.session.add(notification)
    db.session.commit()
    return notification


def test_the_sweeper_queues_stranded_notifications_again_and_gives_up_past_the_bound(app):
    delay, most = app.config["SWEEP_DELAY_SECONDS"], app.config["NOTIFICATION_MAX_ATTEMPTS"]
    stranded = stored(stale(), ago(seconds=delay + 5), attempts=1)
    fresh = stored(stale(), ago(seconds=delay - 60))
    worn_out = stored(stale(), ago(seconds=delay + 5), attempts=most)
    sweep = app.extensions["celery"].tasks["payments.sweep_notifications"]

    assert sweep.apply().result == 1  # eager: the queued notification is processed at once

    db.session.expire_all()
    assert (stranded.state, stranded.outcome, stranded.attempts) == (NotificationState.PROCESSED,
                                                                     NotificationOutcome.APPLIED, 2)
    assert stranded.payment.status is PaymentStatus.SUCCESS
    assert fresh.state is NotificationState.RECEIVED and fresh.attempts == 0
    assert worn_out.state is NotificationState.FAILED
    assert worn_out.error == f"gave up after {most} attempts; last error: no attempt finished (broker down or worker lost)"
    assert worn_out.payment.status is PaymentStatus.PENDING
    assert sweep.apply().result == 0


def test_the_sweeper_waits_a_whole_delay_after_queueing_again(app):
    delay = app.config["SWEEP_DELAY_SECONDS"]
    notification = stored(stale(), ago(seconds=delay + 5))

    first = sweeping.sweep_stranded_notifications(limit=10)
    second = sweeping.sweep_stranded_notifications(limit=10)

    assert (first.queued, second.queued) == ([notification.id], [])
    assert notification.last_attempt_at > notification.received_at


def broker_down(*args):
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_notification_whose_task_could_not_be_queued_is_swept_at_the_next_run(app, monkeypatch):
    unqueued = stored(stale(), utcnow())  # fresh: the delay alone would leave it for SWEEP_DELAY_SECONDS
    fresh = stored(stale(), utcnow())
    processed = stored(stale(), utcnow(), attempts=1, state=NotificationState.PROCESSED)

    monkeypatch.setattr(broker, "publish_each", broker_down)
    with pytest.raises(ConnectionError):
        queueing.enqueue_notifications([unqueued.id, processed.id])
    monkeypatch.undo()
    db.session.expire_all()
    assert unqueued.queue_failed_at is not None
    assert unqueued.error == ("not queued yet (ConnectionError: Error 111 connecting to 127.0.0.1:6379. "
                              "Connection refused.)")  # for the dashboard, until it is processed
    assert fresh.queue_failed_at is None and processed.queue_failed_at is None  # only what is still to do

    first = sweeping.sweep_stranded_notifications(limit=10)
    second = sweeping.sweep_stranded_notifications(limit=10)

    assert (first.queued, second.queued) == ([unqueued.id], [])
    assert unqueued.queue_failed_at is None and unqueued.error is None and unqueued.last_attempt_at is not None


def test_with_nothing_waiting_in_the_broker_a_notification_never_started_is_queued_after_a_minute(app):
    lost_after = app.config["SWEEP_LOST_AFTER_SECONDS"]
    lost = stored(stale(), ago(seconds=lost_after + 5))  # its message went with a broker restart
    just_stored = stored(stale(), ago(seconds=lost_after - 30))  # its message may be on its way
    retrying = stored(stale(), ago(seconds=lost_after + 5), attempts=1)  # may be in a retry's countdown

    busy = sweeping.sweep_stranded_notifications(limit=10, broker_idle=False)
    idle = sweeping.sweep_stranded_notifications(limit=10, broker_idle=True)
    again = sweeping.sweep_stranded_notifications(limit=10, broker_idle=True)

    assert (busy.queued, idle.queued, again.queued) == ([], [lost.id], [])
    assert just_stored.last_attempt_at is None and retrying.last_attempt_at is None


@pytest.mark.usefixtures("broker")
def test_e_mails_waiting_after_the_notifications_do_not_make_the_broker_busy(app, monkeypatch):
    """The sweeper's question is whether a notification's message is left to take; receipts waiting
    at EMAIL_PRIORITY (after a flash sale) say nothing about that."""
    celery_app = app.extensions["celery"]
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", REDIS_URL)
    monkeypatch.setitem(celery_app.conf, "broker_read_url", REDIS_URL)
    lost = stored(stale(), ago(seconds=app.config["SWEEP_LOST_AFTER_SECONDS"] + 5))
    broker.publish_each(celery_app, SEND_EMAIL, [(1,), (2,)])
    assert broker.waiting(celery_app) == 2

    assert celery_app.tasks["payments.sweep_notifications"]() == 1

    queue = redis.Redis.from_url(REDIS_URL)
    assert queue.llen("celery") == 1  # its message, ahead of the e-mails
    assert json.loads(base64.b64decode(json.loads(queue.rpop("celery"))["body"]))[0] == [lost.id]


def test_when_the_mark_cannot_be_written_either_the_broker_error_is_what_the_caller_sees(app, monkeypatch, caplog):
    notification = stored(stale(), utcnow())

    def pool_exhausted():
        raise PoolTimeout("QueuePool limit of size 10 overflow 0 reached")

    monkeypatch.setattr(broker, "publish_each", broker_down)
    monkeypatch.setattr(extensions, "autocommit_connection", pool_exhausted)
    with pytest.raises(ConnectionError):
        queueing.enqueue_notifications([notification.id])
    assert f"notifications=[{notification.id}] not marked as unqueued (TimeoutError)" in caplog.text


def test_a_notification_past_the_bound_is_not_processed_again(app, verify_status, process):
    payment = stale()
    settles(verify_status, payment)
    notification = stored(payment, utcnow(), attempts=app.config["NOTIFICATION_MAX_ATTEMPTS"])

    assert process(notification.id) is None

    assert notification.state is NotificationState.FAILED and "gave up after" in notification.error
    assert payment.status is PaymentStatus.PENDING and status_calls(verify_status) == []


def test_every_start_of_the_task_is_counted(app, process):
    payment = stale()
    notification = stored(payment, utcnow())

    assert process(notification.id) == "APPLIED"
    assert process(notification.id) is None  # processed already: not counted again

    assert notification.attempts == 1 and notification.last_attempt_at is not None


# --- the run lock -------------------------------------------------------------------------------

@pytest.mark.postgres
def test_a_second_run_while_one_holds_the_lock_claims_nothing(midtrans):
    stale()
    other = db.session.get_bind().engine.connect()
    try:
        with other.begin():
            assert other.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                {"key": run_lock.RUN_LOCKS["reconcile"]})
            assert reconciling.start_reconcile_run(limit=10) is None
            assert sweeping.sweep_stranded_notifications(limit=10) is not None  # its own lock
    finally:
        other.close()
    assert len(reconciling.start_reconcile_run(limit=10).payment_ids) == 1
