"""The Procfile's worker, a pool of threads, as real processes: many notifications wait on Midtrans at
once in one process, and a worker killed with several of them in hand loses none and applies each once.

Midtrans is the fake over HTTP (tests/midtrans_fake.py); the beat process runs the sweeper.
"""
import os
import signal

import pytest
import requests
from sqlalchemy import func, select

from shop.accounts.models import InboxMessage
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import NotificationOutcome, NotificationState, Payment
from tests.payments.helpers import committed_payment, fresh, history, settles, wait_until
from tests.payments.processes import Processes, free_port, process_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
TIMEOUT = 45.0
# The sweeper every second, and a started notification is due again 2 s after its attempt began.
FAST_SWEEP = {"SWEEP_INTERVAL_SECONDS": "1", "SWEEP_DELAY_SECONDS": "2"}


@pytest.fixture
def shop(tmp_path, midtrans, smtp):
    _, smtp_port = smtp
    processes = Processes(tmp_path, {**process_env(smtp_port, midtrans.url, free_port()), **FAST_SWEEP})
    yield processes
    processes.stop_all()


def settled_with_calls_in_flight(midtrans, count: int, hold: float) -> list[tuple[Payment, dict]]:
    """`count` payments whose first GET status is answered only after `hold` seconds."""
    paid = []
    for _ in range(count):
        payment = committed_payment()
        body = settles(midtrans, payment)
        midtrans.script("GET", f"/v2/{body['transaction_id']}/status", 200, body, delay=hold)
        paid.append((payment, body))
    return paid


def inbox_messages(order_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.order_id == order_id))


def test_one_worker_process_waits_on_midtrans_for_many_notifications_at_once(app, clean_db, broker, midtrans,
                                                                              smtp, shop):
    inbox, _ = smtp
    paid = settled_with_calls_in_flight(midtrans, 6, hold=2.0)
    url = shop.web("web")
    shop.procfile("worker", WORKER_CONCURRENCY="8")

    for _, body in paid:
        assert requests.post(url, json=body, timeout=15).status_code == 200
    wait_until(lambda: all(history(p.id)[0].state is NotificationState.PROCESSED for p, _ in paid),
               "every notification to be applied", TIMEOUT)

    assert midtrans.most_in_flight == 6  # one process, six GET status calls waiting together
    assert [fresh(Payment, p.id).order.status for p, _ in paid] == [OrderStatus.SUCCESS] * 6
    assert [history(p.id)[0].attempts for p, _ in paid] == [1] * 6
    wait_until(lambda: len(inbox.messages) == 6, "six e-mails", TIMEOUT)
    assert len(inbox.messages) == 6


def test_a_worker_killed_with_several_notifications_in_hand_loses_none_and_applies_each_once(
        app, clean_db, broker, midtrans, smtp, shop):
    inbox, _ = smtp
    paid = settled_with_calls_in_flight(midtrans, 3, hold=5.0)
    url = shop.web("web")
    worker = shop.procfile("worker")
    shop.beat()  # the sweeper brings them back: the broker keeps them unacked for its visibility timeout

    for _, body in paid:
        assert requests.post(url, json=body, timeout=15).status_code == 200
    wait_until(lambda: len(midtrans.calls("GET", "/v2/")) == 3, "all three to be asking Midtrans", TIMEOUT)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    shop.procfile("worker")

    wait_until(lambda: all(history(p.id)[0].state is NotificationState.PROCESSED for p, _ in paid),
               "every notification to run again", TIMEOUT)
    for payment, _ in paid:
        [row] = history(payment.id)
        assert (row.outcome, row.attempts) == (NotificationOutcome.APPLIED, 2)  # started twice, applied once
        assert fresh(Payment, payment.id).order.status is OrderStatus.SUCCESS
        assert inbox_messages(payment.order_id) == 1
    assert len(midtrans.calls("GET", "/v2/")) == 6
    wait_until(lambda: len(inbox.messages) == 3, "three e-mails", TIMEOUT)
    assert len(inbox.messages) == 3
