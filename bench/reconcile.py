"""Measurement 4: reconciling 1,000 stale payments against a fake whose status calls take 50 ms.

Runs `flask midtrans reconcile` (the reconciliation feature's command) on a database of its
own, with a worker running in case the command fans out tasks; measures the wall time until no
stale payment is left PENDING, the number of status calls and the most calls in flight at once.
"""
import random
import subprocess
import time

import psycopg

from bench import procs
from bench.bodies import transaction
from bench.seed import ID_BASE, migrate, recreate_database, seed_payments, seed_products
from bench.shape import SERVER_KEY, WORKER_CONCURRENCY
from shop.emulator.notifications import build_notification, status_response

STALE = 1000
# One claim of every stale payment: without --limit the command claims one beat batch
# (RECONCILE_BATCH_SIZE, 200 by default) and the rest would wait for later runs.
CONCURRENCY = 8  # the default RECONCILE_CONCURRENCY, said out loud
COMMAND = ["-m", "flask", "--app", "wsgi", "midtrans", "reconcile", "--limit", str(STALE),
           "--concurrency", str(CONCURRENCY)]
LIMIT = 120  # seconds


def measure(env: dict, database_url: str, fake, log_dir) -> dict:
    recreate_database(database_url)
    migrate(env)
    seed_products(database_url)
    seed_payments(database_url, 1, STALE, updated_ago="6 hours")
    rng = random.Random(4)
    for n in range(1, STALE + 1):
        status = status_response(build_notification(transaction(n, rng), rng.choice(["settlement"] * 4 + ["expire"]),
                                                    SERVER_KEY))
        fake.fake.statuses[status["order_id"]] = fake.fake.statuses[status["transaction_id"]] = status
    fake.reset()
    worker = procs.celery_worker("worker-reconcile", env, log_dir, concurrency=WORKER_CONCURRENCY)
    try:
        started = time.perf_counter()
        done = subprocess.run([procs.PYTHON, *COMMAND], cwd=procs.ROOT, env=env, capture_output=True, text=True,
                              timeout=LIMIT)
        command_seconds = time.perf_counter() - started
        left = _wait_until_reconciled(database_url, started)
        wall = time.perf_counter() - started
    finally:
        worker.stop()
    result = {"payments": STALE, "concurrency": CONCURRENCY, "exit_code": done.returncode,
              "command_seconds": command_seconds, "wall_seconds": wall, "still_pending": left, "status_calls": fake.status_calls(),
              "most_in_flight": fake.most_in_flight}
    print(f"  {STALE} stale payments: {wall:.1f} s, {result['status_calls']} status calls, at most "
          f"{fake.most_in_flight} at once, {left} still pending", flush=True)
    return result


def _wait_until_reconciled(url: str, started: float) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            left = conn.execute("SELECT count(*) FROM payments WHERE status = 'PENDING' AND id > %s",
                                (ID_BASE,)).fetchone()[0]
            if left == 0 or time.perf_counter() - started > LIMIT:
                return left
            time.sleep(0.05)
