"""Measurement 2: notifications applied per second by one worker, next to a no-op task's rate.

Every burst is published to a queue of its own while no worker consumes it; then the worker is
told to consume it (add_consumer) and the clock runs from the first message taken off the queue
to the moment the queue and the broker's unacked set are both empty (acks_late: a message is
acknowledged only after its task returned, i.e. after the commit).
"""
import json
import math
import random
import time

import psycopg
import redis
from celery import Celery

from bench.bodies import DUPLICATE_SHARE, final_body
from bench.seed import ID_BASE, reset_payments
from bench.shape import BROKER_URL, REDIS_URL, SERVER_KEY
from shop.celery_config import celery_settings

POLL = 0.005
DRAIN_TIMEOUT = 240


class Bursts:
    def __init__(self, worker_name: str, prefix: str = "bench.burst"):
        self.prefix = prefix
        self.celery = Celery("bench")
        self.celery.config_from_object(celery_settings(BROKER_URL, REDIS_URL))
        self.broker = redis.Redis.from_url(BROKER_URL)
        self.destination = [f"{worker_name}@bench"]
        self.count = 0

    def run(self, task: str, args: list[int]) -> dict:
        """Publish one message per item, let the worker drain them; rate and drain time."""
        self.count += 1
        queue = f"{self.prefix}.{self.count}"
        with self.celery.producer_or_acquire() as producer:
            for arg in args:
                self.celery.send_task(task, args=[arg], queue=queue, producer=producer)
        self.celery.control.add_consumer(queue, reply=True, destination=self.destination, timeout=5)
        try:
            seconds = self._drain(queue, len(args))
        finally:
            self.celery.control.cancel_consumer(queue, reply=True, destination=self.destination, timeout=5)
        return {"task": task, "messages": len(args), "seconds": seconds, "per_second": len(args) / seconds}

    def _drain(self, queue: str, total: int) -> float:
        deadline = time.monotonic() + DRAIN_TIMEOUT
        started = None
        while time.monotonic() < deadline:
            waiting = self.broker.llen(queue)
            now = time.perf_counter()
            if started is None and waiting < total:
                started = now
            if waiting == 0 and self.broker.hlen("unacked") == 0:
                return now - (started or now)
            time.sleep(POLL)
        raise RuntimeError(f"{queue} not drained within {DRAIN_TIMEOUT}s")


def store_notifications(url: str, numbers: list[int], seed: int, fake=None) -> list[int]:
    """Stored, not yet processed notifications (what the webhook leaves), DUPLICATE_SHARE resent.

    With `fake` (a MidtransFake), its GET status answers each one as Midtrans would.
    """
    rng = random.Random(seed)
    reset_payments(url, numbers)
    bodies = [final_body(n, SERVER_KEY, rng) for n in numbers]
    for body in bodies if fake is not None else ():
        fake.answers_status(body)
    bodies += rng.sample(bodies, int(len(bodies) * DUPLICATE_SHARE))
    rows = [(ID_BASE + int(b["order_id"].split("-")[1]), b["order_id"], b["transaction_id"],
             b["transaction_status"], b.get("fraud_status"), b["status_code"], b["gross_amount"],
             json.dumps(b)) for b in bodies]
    with psycopg.connect(url) as conn:
        before = conn.execute("SELECT coalesce(max(id), 0) FROM midtrans_notifications").fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO midtrans_notifications (payment_id, source, midtrans_order_id, transaction_id, "
                "transaction_status, fraud_status, status_code, gross_amount, body, state, attempts, received_at) "
                "VALUES (%s, 'WEBHOOK', %s, %s, %s, %s, %s, %s, %s, 'RECEIVED', 0, now())", rows)
        conn.commit()
        return [row[0] for row in conn.execute(
            "SELECT id FROM midtrans_notifications WHERE id > %s ORDER BY id", (before,))]


def forget_notifications(url: str, ids: list[int]) -> None:
    """Delete stored notifications that a measurement claimed but never applied."""
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM midtrans_notifications WHERE id = ANY(%s)", (ids,))


def processed(url: str, ids: list[int]) -> dict:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT state, outcome, count(*) FROM midtrans_notifications WHERE id = ANY(%s) "
                            "GROUP BY state, outcome", (ids,)).fetchall()
    return {f"{state}/{outcome}": n for state, outcome, n in rows}


def compare(bursts: Bursts, url: str, numbers_pool: list[int], size: int, repeats: int, seed: int) -> list[dict]:
    """noop, notifications, noop, notifications ...: rates measured side by side."""
    rng = random.Random(seed)
    pairs = []
    for r in range(repeats):
        noop = bursts.run("bench.noop", list(range(size)))
        numbers = rng.sample(numbers_pool, int(size / (1 + DUPLICATE_SHARE)))
        ids = store_notifications(url, numbers, seed + r)
        real = bursts.run("payments.process_notification", ids)
        real["outcomes"] = processed(url, ids)
        pairs.append({"noop": noop, "notifications": real, "ratio": real["per_second"] / noop["per_second"]})
        print(f"  noop {noop['per_second']:6.0f}/s   notifications {real['per_second']:6.0f}/s   "
              f"ratio {pairs[-1]['ratio']:.0%}   {real['outcomes']}", flush=True)
    return pairs


def drain_burst(bursts: Bursts, url: str, numbers_pool: list[int], size: int, seed: int) -> dict:
    """The time to drain a burst of `size` stored notifications."""
    numbers = random.Random(seed).sample(numbers_pool, math.ceil(size / (1 + DUPLICATE_SHARE)))
    ids = store_notifications(url, numbers, seed)
    result = bursts.run("payments.process_notification", ids)
    result["outcomes"] = processed(url, ids)
    print(f"  burst of {len(ids)}: drained in {result['seconds']:.1f} s ({result['per_second']:.0f}/s) "
          f"{result['outcomes']}", flush=True)
    return result


def email_burst(bursts: Bursts, url: str, size: int) -> dict:
    """The payment e-mail task each paying notification queues (its own queue, so not in the rates above)."""
    with psycopg.connect(url) as conn:
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM email_outbox WHERE outcome IS NULL AND kind = 'order.paid' ORDER BY id LIMIT %s",
            (size,))]
    result = bursts.run("outbox.send_email", ids)
    print(f"  payment e-mails: {len(ids)} in {result['seconds']:.1f} s ({result['per_second']:.0f}/s)", flush=True)
    return result
