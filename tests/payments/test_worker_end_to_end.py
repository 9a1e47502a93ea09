"""End to end with real processes: gunicorn, a Celery worker, Redis, PostgreSQL and an SMTP server.

A signed notification goes to the real web process; the real worker takes it from Redis, checks
it with the (fake, over HTTP) Midtrans GET status, marks the order paid, clears its cached pages
from Redis and sends exactly one e-mail, which a local SMTP server catches.
"""
import os
import socket
import subprocess
import sys
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import select

from shop.caching import order_page_keys
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import Notification, NotificationState, Payment, PaymentStatus
from tests.payments.helpers import URL, committed_payment, for_payment, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
TIMEOUT = 60.0


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content))
        self.arrived.set()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def broker():
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()  # our own Redis database: no messages from an earlier run
    yield connection
    connection.flushdb()
    connection.close()


def process_env(smtp_port: int, midtrans_url: str, web_port: int) -> dict:
    database = os.environ["TEST_DATABASE_URL"]
    return {**os.environ, "DATABASE_URL": database, "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": "",
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "MIDTRANS_SERVER_KEY": "SB-Mid-server-test",
            "MIDTRANS_CLIENT_KEY": "SB-Mid-client-test", "MIDTRANS_EMULATOR": "0", "SHOP_PRODUCTION": "0",
            "MIDTRANS_API_BASE_URL": midtrans_url, "MIDTRANS_VERIFY_STATUS": "1", "SECRET_KEY": "e2e",
            "HOST": "127.0.0.1", "PORT": str(web_port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
            "BASE_URL": f"http://127.0.0.1:{web_port}"}


def test_notification_in_paid_order_out(app, clean_db, smtp, broker, midtrans, tmp_path):
    inbox, smtp_port = smtp
    payment = committed_payment()
    payment_id, order_id = payment.id, payment.order_id
    user_id, email = payment.order.user_id, payment.order.user.email
    body = for_payment(payment)
    midtrans.statuses[body["transaction_id"]] = {**body, "status_message": "Success, transaction is found"}
    keys = [f"shop:{key}" for key in order_page_keys(order_id, user_id)]
    for key in keys:
        broker.set(key, b"a cached page")

    web_port = free_port()
    env = process_env(smtp_port, midtrans.url, web_port)
    worker_log = tmp_path / "worker.log"
    processes = [
        start([sys.executable, "-m", "gunicorn", "wsgi:app", "-c", "gunicorn.conf.py"], env, tmp_path / "web.log"),
        start([sys.executable, "-m", "celery", "-A", "celery_worker", "worker", "--pool=solo", "--loglevel=INFO",
               "--without-gossip", "--without-mingle", "--without-heartbeat"], env, worker_log),
    ]
    try:
        url = f"http://127.0.0.1:{web_port}{URL}"
        wait_until(lambda: _answers(url), "the web process", TIMEOUT)
        assert requests.post(url, json=body, timeout=10).status_code == 200

        wait_until(lambda: _payment_status(payment_id) is PaymentStatus.SUCCESS, "the payment to be paid", TIMEOUT)
        assert db.session.get(Payment, payment_id).order.status is OrderStatus.SUCCESS
        # Cleared just after the commit the line above saw: a moment later, not at the same instant.
        wait_until(lambda: broker.exists(*keys) == 0, "the four cached pages to be cleared", TIMEOUT)
        assert inbox.arrived.wait(TIMEOUT)
        message = inbox.messages[0]
        assert message["To"] == email
        assert str(make_header(decode_header(message["Subject"]))) == f"Pembayaran pesanan #{order_id} sudah diterima"

        assert requests.post(url, json=body, timeout=10).status_code == 200  # Midtrans sends it again
        duplicate = wait_until(lambda: _latest_processed(), "the duplicate to be processed", TIMEOUT)
        wait_until(lambda: f"notification={duplicate} " in worker_log.read_text(), "the duplicate's log line", TIMEOUT)
        assert "outcome=DUPLICATE" in worker_log.read_text()
        assert len(inbox.messages) == 1
    finally:
        for process in processes:
            stop(process)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 405
    except requests.RequestException:  # not listening yet, or still booting
        return False


def _payment_status(payment_id: int):
    db.session.expire_all()
    return db.session.get(Payment, payment_id).status


def _latest_processed():
    db.session.expire_all()
    notifications = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    done = [n for n in notifications if n.state is NotificationState.PROCESSED]
    return notifications[-1].id if len(notifications) == 2 and len(done) == 2 else None
