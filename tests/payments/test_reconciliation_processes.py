"""Reconciliation and the sweeper with real processes: Celery worker and beat, gunicorn, Redis, PostgreSQL.

Each test starts its own processes on free loopback ports, waits on events with bounded polling,
and stops everything it started. Midtrans is the fake over HTTP (tests/midtrans_fake.py).
"""
import base64
import json
import os
import re
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from celery import Celery
from sqlalchemy import func, select

from shop.accounts.models import InboxMessage
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderStatus
from shop.payments.models import (Notification, NotificationOutcome, NotificationSource, NotificationState,
                                  Payment, PaymentStatus)
from tests.payments.helpers import URL, committed_payment, for_payment, fresh, history, settles, wait_until
from tests.payments.processes import REDIS_URL, Processes, free_port, process_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
TIMEOUT = 45.0
FAST_JOBS = {"RECONCILE_INTERVAL_SECONDS": "1", "SWEEP_INTERVAL_SECONDS": "1", "SWEEP_DELAY_SECONDS": "2"}


@pytest.fixture
def shop(tmp_path, midtrans, smtp):
    inbox, smtp_port = smtp
    env = {**process_env(smtp_port, midtrans.url, free_port()), **FAST_JOBS, "WEB_CONCURRENCY": "1",
           "GUNICORN_THREADS": "4"}
    processes = Processes(tmp_path, env)
    yield processes
    processes.stop_all()


def inbox_messages(order_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.order_id == order_id))


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_beat_and_worker_settle_a_payment_whose_notification_never_came(app, clean_db, broker, midtrans, shop):
    payment = committed_payment()
    payment.status, payment.created_at = PaymentStatus.PENDING, utcnow() - timedelta(hours=2)
    db.session.commit()
    settles(midtrans, payment)

    shop.worker("worker")
    shop.beat()

    wait_until(lambda: fresh(Payment, payment.id).status is PaymentStatus.SUCCESS, "reconciliation", TIMEOUT)
    assert fresh(Payment, payment.id).order.status is OrderStatus.SUCCESS
    [row] = history(payment.id)
    assert (row.source, row.outcome) == (NotificationSource.RECONCILE, NotificationOutcome.APPLIED)
    assert inbox_messages(payment.order_id) == 1
    assert "reconcile run queued=1" in shop.log("beat")  # the beat process runs the periodic queue


def test_a_notification_stored_while_the_broker_is_down_is_processed_once_it_is_back(
        app, clean_db, midtrans, smtp, shop, tmp_path):
    inbox, _ = smtp
    port = free_port()
    redis_command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    private = subprocess.Popen(redis_command, stdout=subprocess.DEVNULL)
    # The production delay: only the web's mark that the task was never queued brings it back in time.
    shop.env.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", SWEEP_DELAY_SECONDS="900")
    try:
        wait_until(lambda: _redis_answers(port), "the private Redis", TIMEOUT)
        payment = committed_payment()
        body = settles(midtrans, payment)
        url = shop.web("web")
        shop.worker("worker")
        shop.beat()

        private.terminate()
        private.wait(10)
        answer = requests.post(url, json=body, timeout=15)
        [row] = history(payment.id)
        assert answer.status_code == 200 and row.state is NotificationState.RECEIVED

        private = subprocess.Popen(redis_command, stdout=subprocess.DEVNULL)
        wait_until(lambda: history(payment.id)[0].state is NotificationState.PROCESSED, "the sweeper", TIMEOUT)
        [row] = history(payment.id)
        assert (row.source, row.outcome, row.attempts) == (NotificationSource.WEBHOOK, NotificationOutcome.APPLIED, 1)
        assert fresh(Payment, payment.id).status is PaymentStatus.SUCCESS
        assert inbox.arrived.wait(TIMEOUT) and len(inbox.messages) == 1
        assert "stored but not queued" in shop.log("web")
    finally:
        private.terminate()
        private.wait(10)


def test_a_notification_whose_message_a_restarted_broker_lost_is_processed_at_the_next_sweep(
        app, clean_db, midtrans, smtp, shop):
    port = free_port()
    redis_command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    private = subprocess.Popen(redis_command, stdout=subprocess.DEVNULL)
    # The production delay for the rest: only "nothing waits in the broker" brings it back in time.
    shop.env.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", SWEEP_DELAY_SECONDS="900", SWEEP_LOST_AFTER_SECONDS="2")
    try:
        wait_until(lambda: _redis_answers(port), "the private Redis", TIMEOUT)
        payment = committed_payment()
        body = settles(midtrans, payment)
        url = shop.web("web")
        answer = requests.post(url, json=body, timeout=15)  # stored and queued; no worker runs yet
        assert answer.status_code == 200 and _queued(port) == 1

        private.terminate()  # Redis keeps nothing on disk here: the message is gone
        private.wait(10)
        private = subprocess.Popen(redis_command, stdout=subprocess.DEVNULL)
        wait_until(lambda: _redis_answers(port), "the private Redis again", TIMEOUT)
        assert _queued(port) == 0
        shop.worker("worker")
        shop.beat()

        wait_until(lambda: history(payment.id)[0].state is NotificationState.PROCESSED, "the sweeper", TIMEOUT)
        [row] = history(payment.id)
        assert (row.source, row.outcome, row.attempts) == (NotificationSource.WEBHOOK, NotificationOutcome.APPLIED, 1)
        assert fresh(Payment, payment.id).status is PaymentStatus.SUCCESS
        assert f"sweep queued=[{row.id}]" in shop.log("beat")
    finally:
        private.terminate()
        private.wait(10)


def _queued(port: int) -> int:
    return int(subprocess.run(["redis-cli", "-p", str(port), "llen", "celery"], capture_output=True,
                              text=True).stdout.strip())


def _redis_answers(port: int) -> bool:
    return subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


# Stored notifications whose GET status Midtrans answers after a second each: more work than the one
# worker process can finish while the test waits.
BACKLOG, BACKLOG_STATUS_DELAY = 40, 1.0
PUNCTUAL = 20.0  # the processes' start included; the backlog alone takes twice that


def test_the_sweeper_and_reconciliation_run_behind_a_backlog_of_notifications(app, clean_db, broker, midtrans,
                                                                               shop):
    busy = committed_payment()
    body = settles(midtrans, busy)
    for _ in range(BACKLOG):
        midtrans.script("GET", f"/v2/{body['transaction_id']}/status", 200, body, delay=BACKLOG_STATUS_DELAY)
    backlog = [stored(busy, body) for _ in range(BACKLOG)]
    lost_payment = committed_payment()
    unqueued = stored(lost_payment, settles(midtrans, lost_payment), queue_failed_at=utcnow())
    stale = committed_payment()
    stale.status, stale.created_at = PaymentStatus.PENDING, utcnow() - timedelta(hours=2)
    db.session.commit()
    settles(midtrans, stale)
    publish_to_notification_queue([row.id for row in backlog])
    shop.env.update(SWEEP_DELAY_SECONDS="900")  # only the marked notification is due

    shop.procfile("worker", WORKER_CONCURRENCY="1")
    shop.beat()

    wait_until(lambda: fresh(Notification, unqueued.id).queue_failed_at is None, "the sweeper", PUNCTUAL)
    wait_until(lambda: fresh(Payment, stale.id).status is PaymentStatus.SUCCESS, "reconciliation", PUNCTUAL)
    # Both ran while the backlog still waited, and the swept notification queued behind it, with the webhook's.
    assert unqueued.id in waiting_notifications(broker)
    assert len(waiting_notifications(broker)) > BACKLOG // 4
    assert f"sweep queued=[{unqueued.id}]" in shop.log("beat") and "reconcile run queued=1" in shop.log("beat")
    assert "Discarding revoked task" not in shop.log("beat") + shop.log("worker")


def stored(payment, body: dict, **columns) -> Notification:
    """A notification of `payment` stored by the webhook (committed by the caller), not processed yet."""
    row = Notification(payment_id=payment.id, midtrans_order_id=body["order_id"], body=json.dumps(body),
                       transaction_id=body["transaction_id"], transaction_status=body["transaction_status"],
                       status_code=body["status_code"], gross_amount=body["gross_amount"], **columns)
    db.session.add(row)
    db.session.commit()
    return row


def publish_to_notification_queue(notification_ids: list[int]) -> None:
    sender = Celery(broker=REDIS_URL, set_as_current=False)
    with sender.producer_or_acquire() as producer:
        for notification_id in notification_ids:
            sender.send_task("payments.process_notification", args=[notification_id], producer=producer)
    sender.close()


def waiting_notifications(broker) -> list[int]:
    """The notification ids of the process_notification messages waiting in the default queue."""
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    return [json.loads(base64.b64decode(message["body"]))[0][0] for message in messages
            if message["headers"]["task"] == "payments.process_notification"]


@pytest.mark.parametrize("victim", ["child", "whole worker"])
def test_a_worker_killed_mid_task_loses_nothing_and_applies_once(app, clean_db, broker, midtrans, smtp, shop,
                                                                victim):
    inbox, _ = smtp
    payment = committed_payment()
    body = settles(midtrans, payment)
    # The first GET status hangs long enough to be killed in the middle of it.
    midtrans.script("GET", f"/v2/{body['transaction_id']}/status", 200, body, delay=5.0)
    url = shop.web("web")
    worker = shop.worker("worker", pool="prefork", concurrency=1)
    if victim == "whole worker":
        shop.beat()  # the sweeper is what brings it back: the broker keeps it unacked for the visibility timeout

    assert requests.post(url, json=body, timeout=15).status_code == 200
    wait_until(lambda: midtrans.calls("GET", "/v2/"), "the task to be asking Midtrans", TIMEOUT)
    if victim == "child":
        [child] = children_of(worker.pid)
        os.kill(child, signal.SIGKILL)
    else:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        shop.worker("worker2", pool="prefork")

    wait_until(lambda: history(payment.id)[0].state is NotificationState.PROCESSED, "the task to run again", TIMEOUT)
    [row] = history(payment.id)
    assert (row.outcome, row.attempts) == (NotificationOutcome.APPLIED, 2)  # started twice, applied once
    assert len(midtrans.calls("GET", "/v2/")) == 2
    assert fresh(Payment, payment.id).order.status is OrderStatus.SUCCESS and inbox_messages(payment.order_id) == 1
    assert inbox.arrived.wait(TIMEOUT) and len(inbox.messages) == 1


def test_two_web_and_two_worker_processes_apply_every_notification_exactly_once(
        app, clean_db, broker, midtrans, smtp, shop):
    inbox, _ = smtp
    paid = [committed_payment() for _ in range(8)]
    expired = [committed_payment() for _ in range(4)]
    bodies = [settles(midtrans, p) for p in paid] + [settles(midtrans, p, transaction_status="expire") for p in expired]
    urls = [shop.web("web1"), shop.web("web2")]
    for name in ("worker1", "worker2"):
        shop.worker(name, pool="prefork")
    for name in ("worker1", "worker2"):
        wait_until(lambda: " ready." in shop.log(name), f"{name} to be ready", TIMEOUT)

    sends = [(urls[n % 2], body) for n, body in enumerate(bodies * 3)]  # every one three times, both webs
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda send: requests.post(send[0], json=send[1], timeout=15).status_code, sends))
    assert answers == [200] * len(sends)

    everything = [p.id for p in paid + expired]
    wait_until(lambda: all(n.state is NotificationState.PROCESSED for i in everything for n in history(i)),
               "every notification to be processed", TIMEOUT)
    for payment in paid + expired:
        outcomes = sorted(n.outcome.value for n in history(payment.id))
        assert outcomes == ["APPLIED", "DUPLICATE", "DUPLICATE"], payment.midtrans_order_id
    assert all(fresh(Payment, p.id).order.status is OrderStatus.SUCCESS for p in paid)
    assert all(inbox_messages(p.order_id) == 1 for p in paid)
    assert [fresh(Payment, p.id).order.lines[0].product.stock for p in expired] == [5] * 4  # released once
    wait_until(lambda: len(inbox.messages) >= len(paid) + len(expired), "the e-mails", TIMEOUT)
    receipts = [m["To"] for m in inbox.messages if m["Subject"].endswith("sudah diterima")]
    pay_again = [m["To"] for m in inbox.messages if m["Subject"].endswith("kedaluwarsa")]
    assert sorted(receipts) == sorted(p.order.user.email for p in paid)
    assert sorted(pay_again) == sorted(p.order.user.email for p in expired)
    assert len(inbox.messages) == len(paid) + len(expired)
    assert all("outcome=APPLIED" in shop.log(name) for name in ("worker1", "worker2"))  # both took a share
