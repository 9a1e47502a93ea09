"""End to end with real processes: gunicorn, a Celery worker, Redis, PostgreSQL and an SMTP server.

A signed notification goes to the real web process; the real worker takes it from Redis, checks
it with the (fake, over HTTP) Midtrans GET status, marks the order paid, clears its cached pages
from Redis and sends exactly one e-mail, which a local SMTP server catches.
"""
import subprocess
import sys
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from shop.caching import order_page_keys
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import Notification, NotificationState, Payment, PaymentStatus
from tests.payments.helpers import URL, committed_payment, for_payment, fresh, wait_until
from tests.payments.processes import ROOT, answers, free_port, process_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
TIMEOUT = 60.0


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def test_notification_in_paid_order_out(app, clean_db, smtp, broker, midtrans, tmp_path):
    inbox, smtp_port = smtp
    payment = committed_payment()
    payment_id, order_id = payment.id, payment.order_id
    user_id, email = payment.order.user_id, payment.order.user.email
    body = for_payment(payment)
    midtrans.answers_status(body)
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
        wait_until(lambda: answers(url), "the web process", TIMEOUT)
        assert requests.post(url, json=body, timeout=10).status_code == 200

        wait_until(lambda: fresh(Payment, payment_id).status is PaymentStatus.SUCCESS, "the payment to be paid", TIMEOUT)
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


def _latest_processed():
    db.session.expire_all()
    notifications = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    done = [n for n in notifications if n.state is NotificationState.PROCESSED]
    return notifications[-1].id if len(notifications) == 2 and len(done) == 2 else None
