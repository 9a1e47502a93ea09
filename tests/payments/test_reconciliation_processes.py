"""Reconciliation and the sweeper with real processes: Celery worker and beat, gunicorn, Redis, PostgreSQL.

Each test starts its own processes on free loopback ports, waits on events with bounded polling,
and stops everything it started. Midtrans is the fake over HTTP (tests/midtrans_fake.py).
"""
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from shop.accounts.models import InboxMessage
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderStatus
from shop.payments.models import NotificationOutcome, NotificationSource, NotificationState, Payment, PaymentStatus
from tests.payments.helpers import committed_payment, fresh, history, settles, wait_until
from tests.payments.processes import Processes, free_port, process_env

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
    assert "reconcile run queued=1" in shop.log("worker")


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
        assert f"sweep queued=[{row.id}]" in shop.log("worker")
    finally:
        private.terminate()
        private.wait(10)


def _queued(port: int) -> int:
    return int(subprocess.run(["redis-cli", "-p", str(port), "llen", "celery"], capture_output=True,
                              text=True).stdout.strip())


def _redis_answers(port: int) -> bool:
    return subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


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
    wait_until(lambda: len(inbox.messages) >= len(paid), "the e-mails", TIMEOUT)
    assert sorted(m["To"] for m in inbox.messages) == sorted(p.order.user.email for p in paid)
    assert all("outcome=APPLIED" in shop.log(name) for name in ("worker1", "worker2"))  # both took a share
