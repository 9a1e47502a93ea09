"""How fast does POST /api/midtrans/notification answer? (A measurement, not a test.)

Starts gunicorn (the shop's own gunicorn.conf.py, one worker) on a free loopback port against
PostgreSQL and Redis, sends N signed settlement notifications one after the other, each for its
own payment, and prints the median and tail of the answer times. No Celery worker runs: the
endpoint only stores, commits and enqueues. Every row it made and the queued messages are
removed afterwards, so point it only at a database and a Redis db of your own:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/shop_test_notifications \\
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/notification_latency.py 1000
"""
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from bench.common import empty_tables  # noqa: E402
from shop import create_app  # noqa: E402
from shop.extensions import db  # noqa: E402
from shop.payments.gateway import compute_signature  # noqa: E402

KEY = "SB-Mid-server-bench"
AMOUNT = 150000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(count: int) -> list[str]:
    """One user, product and order per payment; returns the Midtrans order ids."""
    from shop.accounts.models import User
    from shop.orders.models import Order
    from shop.payments.models import Payment

    user = User(email="bench@example.com", name="Bench", password_hash="-")
    db.session.add(user)
    ids = [f"BENCH-{n:06d}-1" for n in range(count)]
    for midtrans_order_id in ids:
        order = Order(user=user, total=AMOUNT)
        db.session.add(Payment(order=order, midtrans_order_id=midtrans_order_id, gross_amount=AMOUNT))
    db.session.commit()
    return ids


def body(midtrans_order_id: str, n: int) -> dict:
    fields = {"transaction_time": "2026-05-27 14:30:00", "transaction_status": "settlement",
              "transaction_id": f"bench-{n}", "status_message": "midtrans payment notification",
              "status_code": "200", "payment_type": "bank_transfer", "order_id": midtrans_order_id,
              "merchant_id": "G000000000", "gross_amount": f"{AMOUNT}.00", "fraud_status": "accept",
              "currency": "IDR", "va_numbers": [{"bank": "bca", "va_number": "12345678901"}]}
    fields["signature_key"] = compute_signature(midtrans_order_id, "200", f"{AMOUNT}.00", KEY)
    return fields


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise SystemExit("the web process did not start")


def measure(url: str, ids: list[str]) -> list[float]:
    timings = []
    with requests.Session() as session:
        for n, midtrans_order_id in enumerate(ids):
            started = time.perf_counter()
            response = session.post(url, json=body(midtrans_order_id, n), timeout=15)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"unexpected answer {response.status_code}: {response.text}")
    return timings


def main(count: int) -> None:
    env = {**os.environ, "MIDTRANS_SERVER_KEY": KEY, "MIDTRANS_CLIENT_KEY": "SB-Mid-client-bench",
           "MIDTRANS_EMULATOR": "0", "SHOP_PRODUCTION": "0", "SECRET_KEY": "bench", "HOST": "127.0.0.1",
           "PORT": str(free_port()), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}
    if not env.get("DATABASE_URL", "").startswith("postgres") or not env.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL to a database and Redis db of your own")
    app = create_app({"MIDTRANS_SERVER_KEY": KEY})
    broker = redis.Redis.from_url(env["REDIS_URL"])
    with app.app_context():
        upgrade()
        empty_tables()
        ids = seed(count)
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app", "-c", "gunicorn.conf.py",
                                "--access-logfile", "/dev/null", "--error-logfile", "/dev/null"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{env['PORT']}/api/midtrans/notification"
            wait_for(url)
            timings = measure(url, ids)
        finally:
            web.terminate()
            web.wait(15)
            empty_tables()
            broker.flushdb()
    report(timings)


def report(timings: list[float]) -> None:
    ordered = sorted(timings)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    print(f"{len(timings)} sequential signed notifications, PostgreSQL + Redis broker, gunicorn 1 worker")
    print(f"median {statistics.median(timings):.2f} ms  p90 {pick(0.90):.2f} ms  p99 {pick(0.99):.2f} ms  "
          f"max {ordered[-1]:.2f} ms  cores {os.cpu_count()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
