"""What the statements of applying one notification cost the worker's CPU, at the least.

A settlement's apply writes, in one transaction (shop/payments/applying.py): lock the order, lock
its payments, update the payment, update the order, record the ledger row, owe the receipt,
record the notification's outcome. Here those seven statements, with the shop's tables and
indexes, are sent from one thread (no pool, no interpreter-lock contention) two ways, in turns:
psycopg alone, and SQLAlchemy Core with each statement compiled once -- the cheapest a rewrite of
the ORM path could be. Each transaction is rolled back, so every round finds the same rows.

Measurement 8's `confirm_only` floor says how much applying a notification may cost for 0 ms
processing to reach 30 % of the no-op rate (0.6-1.2 ms on this host); this says what its
statements alone cost, before any decision, announcement or log line.

    .venv/bin/python -m bench.statement_floor [--rounds 2000] [--repeats 3]
"""
import argparse
import random
import re
import time

import psycopg
from sqlalchemy import create_engine, text

from bench import processing
from bench.alone import run_alone
from bench.stats import spread

PAYMENTS = 5_000
STATEMENTS = [
    "SELECT id FROM orders WHERE id = (SELECT order_id FROM payments WHERE id = :payment_id) FOR UPDATE",
    "SELECT id, status, gross_amount, transaction_id FROM payments WHERE order_id = :order_id ORDER BY id FOR UPDATE",
    "UPDATE payments SET status = 'SUCCESS', transaction_id = :key, transaction_status = 'settlement', "
    "payment_type = 'bank_transfer', transaction_time = now(), settlement_time = now(), last_checked_at = now(), "
    "updated_at = now() WHERE id = :payment_id",
    "UPDATE orders SET status = 'SUCCESS', paid_at = now(), updated_at = now() WHERE id = :order_id",
    "INSERT INTO money_events (order_id, payment_id, kind, key, amount, fee, actor, happened_at, recorded_at) "
    "VALUES (:order_id, :payment_id, 'PAID', :key, 100000, 0, 'webhook', now(), now())",
    "INSERT INTO email_outbox (kind, key, created_at, claims) VALUES ('order.paid', :key, now(), 0) "
    "ON CONFLICT DO NOTHING RETURNING id",
    "UPDATE midtrans_notifications SET outcome = 'APPLIED', state = 'PROCESSED', processed_at = now(), "
    "error = NULL WHERE id = :notification_id",
]


def with_psycopg(url: str, pairs: list[tuple[int, int]], rounds: int) -> float:
    """CPU ms per notification, psycopg alone (it prepares a statement after its fifth use)."""
    statements = [re.sub(r":(\w+)", r"%(\1)s", s) for s in STATEMENTS]
    with psycopg.connect(url) as conn:
        cur = conn.cursor()

        def execute(i: int, values: dict) -> list:
            cur.execute(statements[i], values)
            return cur.fetchall() if cur.description else []

        return _timed(_applier(execute, conn.rollback), pairs, rounds)


def with_core(url: str, pairs: list[tuple[int, int]], rounds: int) -> float:
    """CPU ms per notification, SQLAlchemy Core: text() statements built once, bound per call."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    statements = [text(s) for s in STATEMENTS]
    try:
        with engine.connect() as conn:
            def execute(i: int, values: dict) -> list:
                result = conn.execute(statements[i], values)
                return result.all() if result.returns_rows else []

            return _timed(_applier(execute, conn.rollback), pairs, rounds)
    finally:
        engine.dispose()


def _applier(execute, end):
    """One notification's statements through `execute(index, values)`, then `end()` (a rollback)."""
    def apply(notification_id: int, payment_id: int) -> None:
        values = {"payment_id": payment_id, "notification_id": notification_id, "key": f"floor-{notification_id}"}
        values["order_id"] = execute(0, values)[0][0]
        for i in range(1, len(STATEMENTS)):
            execute(i, values)
        end()
    return apply


def _timed(apply, pairs: list[tuple[int, int]], rounds: int) -> float:
    for notification_id, payment_id in pairs[:200]:  # warm: prepared statements, caches
        apply(notification_id, payment_id)
    started = time.process_time()
    for i in range(rounds):
        apply(*pairs[i % len(pairs)])
    return (time.process_time() - started) * 1000 / rounds


def measure(database: str, rounds: int, repeats: int) -> dict:
    rng = random.Random(4)
    ids = processing.store_notifications(database, rng.sample(range(1, PAYMENTS + 1), 2_000), 4)
    with psycopg.connect(database) as conn:
        pairs = conn.execute("SELECT id, payment_id FROM midtrans_notifications WHERE id = ANY(%s)", (ids,)).fetchall()
    runs = {"psycopg": [], "core": []}
    for _ in range(repeats):  # in turns: the host drifts
        runs["psycopg"].append(with_psycopg(database, pairs, rounds))
        runs["core"].append(with_core(database, pairs, rounds))
    result = {name: spread(values) for name, values in runs.items()}
    for name, s in result.items():
        print(f"  {name:8} {s['median']:.2f} ms of CPU per notification ({s['min']:.2f}-{s['max']:.2f}), "
              f"{len(STATEMENTS)} statements and a rollback, one thread", flush=True)
    return {"rounds": rounds, "statements": len(STATEMENTS), "cpu_ms_per_notification": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/shop_bench_statements")
    args = parser.parse_args()
    run_alone(args.database, PAYMENTS, "statement-floor",
              lambda env, fake, work: measure(args.database, args.rounds, args.repeats))


if __name__ == "__main__":
    main()
