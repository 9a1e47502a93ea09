"""How long does reconciling N stale payments take, and how many GET status calls? (A measurement.)

Seeds N PENDING payments two hours old with no notification, and a fake Midtrans over HTTP whose
GET status takes 50 ms and answers settlement. Then, in two ways:

- `cli`: `flask midtrans reconcile --limit N` in this process, RECONCILE_CONCURRENCY payments at once;
- `worker`: the beat task `payments.reconcile_pending_payments` sent once through Redis to one Celery
  worker (prefork, WORKERS processes), which fans out one `payments.reconcile_payment` each under
  the RECONCILE_RATE_LIMIT in force (per worker node).

It waits until every payment is SUCCESS and prints the wall time and the fake's call count. It
empties the database and the Redis db before and after: give it ones of your own.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/shop_bench_reconcile \\
    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/reconcile_stale_payments.py 1000 cli
    ... reconcile_stale_payments.py 1000 worker 4 100/s
"""
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from shop import create_app  # noqa: E402
from shop.extensions import db  # noqa: E402
from shop.models import utcnow  # noqa: E402
from shop.payments.models import Payment, PaymentStatus  # noqa: E402
from tests.midtrans_fake import FakeServer, MidtransFake  # noqa: E402

KEY = "SB-Mid-server-bench"
AMOUNT = 150000
STATUS_SECONDS = 0.05


def slow_midtrans() -> FakeServer:
    """The test fake, every answer 50 ms late, like a Midtrans that is far away but well."""
    server = FakeServer()
    answer = server.fake.default
    server.fake.default = lambda method, path, body: replace(answer(method, path, body), delay=STATUS_SECONDS)
    return server


def seed(count: int, fake: MidtransFake) -> None:
    from shop.accounts.models import User
    from shop.orders.models import Order

    user = User(email="bench@example.com", name="Bench", password_hash="-")
    long_ago = utcnow() - timedelta(hours=2)
    for n in range(count):
        midtrans_order_id = f"BENCH-{n:06d}-1"
        db.session.add(Payment(order=Order(user=user, total=AMOUNT), midtrans_order_id=midtrans_order_id,
                               gross_amount=AMOUNT, status=PaymentStatus.PENDING, created_at=long_ago))
        fake.statuses[midtrans_order_id] = {
            "status_code": "200", "status_message": "Success, transaction is found", "order_id": midtrans_order_id,
            "transaction_id": f"bench-{n}", "transaction_status": "settlement", "fraud_status": "accept",
            "gross_amount": f"{AMOUNT}.00", "payment_type": "bank_transfer", "currency": "IDR",
            "transaction_time": "2026-05-27 14:30:00", "settlement_time": "2026-05-27 14:35:00"}
    db.session.commit()


def settled() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.SUCCESS))


def empty_everything(broker) -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    broker.flushdb()


def run_cli(app, count: int) -> None:
    result = app.test_cli_runner().invoke(args=["midtrans", "reconcile", "--limit", str(count)])
    if result.exit_code != 0:
        raise SystemExit(result.output[-2000:])


def run_worker(app, count: int, env: dict, processes: int) -> None:
    log = open(os.devnull, "w")
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "celery_worker", "worker", "--pool=prefork",
                               f"--concurrency={processes}", "--queues=celery,reconcile", "--loglevel=WARNING", "--without-gossip",
                               "--without-mingle"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        app.extensions["celery"].send_task("payments.reconcile_pending_payments")
        deadline = time.monotonic() + 600
        while settled() < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {settled()} of {count} settled after 10 minutes")
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(30)


def main(count: int, mode: str, processes: int, rate: str) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL to a database and Redis db of your own")
    with slow_midtrans() as fake:
        env = {**os.environ, "MIDTRANS_SERVER_KEY": KEY, "MIDTRANS_CLIENT_KEY": "SB-Mid-client-bench",
               "MIDTRANS_EMULATOR": "0", "SHOP_PRODUCTION": "0", "SECRET_KEY": "bench", "MIDTRANS_API_BASE_URL": fake.url,
               "MIDTRANS_VERIFY_STATUS": "1", "RECONCILE_BATCH_SIZE": str(count), "RECONCILE_RATE_LIMIT": rate}
        os.environ.update(env)
        app = create_app()
        broker = redis.Redis.from_url(env["REDIS_URL"])
        with app.app_context():
            upgrade()
            empty_everything(broker)
            seed(count, fake)
            started = time.perf_counter()
            try:
                run_cli(app, count) if mode == "cli" else run_worker(app, count, env, processes)
                took = time.perf_counter() - started
            finally:
                empty_everything(broker)
        calls = len(fake.calls("GET", "/v2/"))
    threads = app.config["RECONCILE_CONCURRENCY"]
    how = f"flask midtrans reconcile --concurrency {threads} (one process)" if mode == "cli" else (
        f"beat task + 1 worker, {processes} prefork processes, rate limit {rate}")
    print(f"{count} stale payments, GET status {STATUS_SECONDS * 1000:.0f} ms, {how}: "
          f"{took:.1f} s wall, {calls} GET status calls ({calls / took:.1f}/s), cores {os.cpu_count()}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 1000, args[1] if len(args) > 1 else "cli",
         int(args[2]) if len(args) > 2 else 4, args[3] if len(args) > 3 else "10/s")
