"""The shop on RabbitMQ: gunicorn and a Celery worker with CELERY_BROKER_URL=amqp://..., Redis for the pages.

On a broker other than Redis the webhook queues its task through Celery's own `apply_async`
(shop/broker.py), with publisher confirms (shop/config.py). Each test gets a RabbitMQ virtual host
of its own, deleted afterwards with every queue in it. `NEED_RABBITMQ=1 bin/services` starts
RabbitMQ when it is down; bin/test does that, so in CI a missing RabbitMQ fails here.
"""
import os
import shutil
import socket
import subprocess
import uuid

import pytest
import requests
from kombu import Connection
from sqlalchemy import select

from shop.accounts.models import InboxMessage
from shop.outbox.models import OutboxEmail
from shop.caching import order_page_keys
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import NotificationOutcome, NotificationState, Payment, PaymentStatus
from tests.payments.helpers import committed_payment, fresh, history, settles, wait_until
from tests.payments.processes import Processes, free_port, process_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
RABBITMQ = ("127.0.0.1", 5672)
TIMEOUT = 45.0


def _rabbitmq_answers() -> bool:
    try:
        socket.create_connection(RABBITMQ, timeout=2).close()
        return True
    except OSError:
        return False


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def amqp_url():
    """A RabbitMQ virtual host of this test's own; deleting it drops its queues and exchanges."""
    if not _rabbitmq_answers():
        reason = "RabbitMQ does not answer on 127.0.0.1:5672 (NEED_RABBITMQ=1 bin/services starts it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is not on PATH: it makes the test's own virtual host")
    vhost = f"shop-test-{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def shop(tmp_path, midtrans, smtp, broker, amqp_url):
    _, smtp_port = smtp
    # MIDTRANS_MAX_RETRIES=0: a failed GET status is retried by the task (a countdown), not in the call.
    processes = Processes(tmp_path, {**process_env(smtp_port, midtrans.url, free_port()),
                                     "CELERY_BROKER_URL": amqp_url, "MIDTRANS_MAX_RETRIES": "0"})
    yield processes
    processes.stop_all()


def waiting_in(amqp_url: str, queue: str = "celery") -> int:
    """Messages ready in `queue` (delivered but unacknowledged ones are not counted)."""
    with Connection(amqp_url) as connection:
        _, ready, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
    return ready


def test_a_notification_through_rabbitmq_pays_the_order_once(app, clean_db, broker, midtrans, smtp, shop,
                                                            amqp_url):
    inbox, _ = smtp
    payment = committed_payment()
    body = settles(midtrans, payment)
    # The first GET status fails: the task retries with a countdown, a message the worker holds unacked.
    midtrans.script("GET", f"/v2/{body['transaction_id']}/status", 503, {"status_code": "503"})
    keys = [f"shop:{key}" for key in order_page_keys(payment.order_id, payment.order.user_id)]
    broker.set(keys[0], b"a cached page")
    url = shop.web("web")
    shop.worker("worker", pool="prefork")

    assert requests.post(url, json=body, timeout=15).status_code == 200
    wait_until(lambda: _emailed(payment.order_id), "the payment e-mail", TIMEOUT)
    [row] = history(payment.id)
    assert (row.outcome, row.attempts) == (NotificationOutcome.APPLIED, 2)  # failed once, retried, applied
    assert fresh(Payment, payment.id).order.status is OrderStatus.SUCCESS
    assert len(midtrans.calls("GET", "/v2/")) == 2
    assert broker.exists(*keys) == 0  # Redis still holds the page cache...
    assert not broker.exists("celery")  # ...but no task went through it
    assert "Connected to amqp://guest:**@127.0.0.1:5672/shop-test-" in shop.log("worker")

    assert requests.post(url, json=body, timeout=15).status_code == 200  # Midtrans sends it again
    wait_until(lambda: all(n.state is NotificationState.PROCESSED for n in history(payment.id)),
               "the duplicate to be processed", TIMEOUT)
    assert [n.outcome for n in history(payment.id)] == [NotificationOutcome.APPLIED, NotificationOutcome.DUPLICATE]
    assert fresh(Payment, payment.id).status is PaymentStatus.SUCCESS
    assert len(_messages(payment.order_id)) == 1 and len(inbox.messages) == 1
    assert shop.log("worker").count("Task outbox.send_email[") == 2  # received once, succeeded once
    shop.stop_all()  # a message still unacknowledged would now be back in the queue
    assert waiting_in(amqp_url) == 0


def _messages(order_id: int) -> list[InboxMessage]:
    db.session.expire_all()
    return db.session.scalars(select(InboxMessage).where(InboxMessage.order_id == order_id)).all()


def _emailed(order_id: int) -> bool:
    messages = _messages(order_id)
    owed = db.session.scalars(select(OutboxEmail).where(OutboxEmail.key == f"order:{order_id}")).all()
    return len(messages) == 1 and len(owed) == 1 and owed[0].outcome == "sent"
