"""Measurement 9: a flash sale through the Procfile's web, worker and beat, Midtrans at 150 ms.

Every one of N pending orders gets its settlement notification POSTed to the webhook by a load
generator at an even rate (DUPLICATE_SHARE of them sent again 1-5 s later, as Midtrans resends);
the fake answers every GET status after 150 ms. Measured per order, from its first POST:

- to the commit that made it paid, for every order (the notification's `processed_at`, written
  in the transaction that pays the order; the status endpoint reads the same rows);
- to its status stream (SSE) saying SUCCESS, for WATCHED orders whose page is open throughout;

then orders never paid (lost), orders with more than one payment e-mail (duplicated), and the
sweeper's runs in the beat process during the sale against the runs its interval promises.
"""
import argparse
import json
import random
import selectors
import threading
import time
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

from bench import procs, webhook
from bench.alone import run_alone
from bench.bodies import DUPLICATE_SHARE, transaction
from bench.end_to_end import Stream, session_cookie
from bench.seed import ID_BASE, order_id, reset_payments, user_id_of
from bench.shape import SERVER_KEY, WORKER_CONCURRENCY, WORKER_POOL, WORKER_PROCESSES
from bench.stats import percentile
from shop.emulator.notifications import build_notification

LATENCY = 0.15
WATCHED = 200  # open order pages (status streams), under the web processes' stream cap
SENDERS = 16  # load generator threads
SWEEP_INTERVAL = 5  # seconds, in the beat process during the sale (production: 60)
SETTLE_TIMEOUT = 300  # seconds after the last POST for every order to be paid and e-mailed


def measure(env: dict, database: str, fake, work: Path, numbers: list[int], seconds: float, seed: int,
            pool: str = WORKER_POOL, concurrency: int = WORKER_CONCURRENCY, workers: int = WORKER_PROCESSES) -> dict:
    """Run the sale over `numbers` in `seconds`; the result described in the module docstring."""
    rng = random.Random(seed)
    bodies = {n: build_notification(transaction(n, rng), "settlement", SERVER_KEY) for n in numbers}
    reset_payments(database, numbers)
    set_aside_unprocessed(database)
    for body in bodies.values():
        fake.fake.answers_status(body)
    env = dict(env, SWEEP_INTERVAL_SECONDS=str(SWEEP_INTERVAL), RECONCILE_INTERVAL_SECONDS="30")
    _, url = procs.gunicorn("flash-web", "wsgi:app", env, work)
    for i in range(1, workers + 1):  # the Procfile's worker, scaled as `worker=N`
        procs.celery_worker(f"flash-worker{i}", env, work, concurrency, queues="celery,reconcile", pool=pool)
    beat = procs.celery_beat("flash-beat", env, work)
    watcher = Watcher(url, rng.sample(numbers, min(WATCHED, len(numbers))))
    fake.status_delay, fake.fake.most_in_flight = LATENCY, 0
    started = time.time()
    try:
        posted, failed = post_evenly(url, bodies, seconds, rng)
        sent_seconds = time.time() - started
        settled = wait_until_settled(database, numbers)
    finally:
        fake.status_delay = 0.0
        watcher.close()
    ended = time.time()
    result = {"orders": len(numbers), "seconds": seconds, "rate_per_s": len(numbers) / seconds,
              "posts": len(posted), "post_failures": failed, "sending_took_s": sent_seconds,
              "settled_after_s": settled, "status_latency_s": LATENCY, "most_status_calls_in_flight":
              fake.most_in_flight, "worker_pool": pool, "worker_concurrency": concurrency,
              "worker_processes": workers,
              **outcomes(database, numbers, posted), "stream": watcher.latencies(posted),
              "sweeper": sweeper_runs(beat.log_path, started, ended)}
    print(summary(result), flush=True)
    return result


def set_aside_unprocessed(database: str) -> None:
    """Earlier measurements stored notifications whose tasks they dropped: without this, the sweeper would
    queue them all again during the sale. Their queues are emptied too."""
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE midtrans_notifications SET state = 'FAILED', error = 'set aside by the bench' "
                     "WHERE state = 'RECEIVED'")
    webhook.drop_queued_tasks("reconcile", "periodic")


def post_evenly(url: str, bodies: dict, seconds: float, rng: random.Random) -> tuple[dict, int]:
    """POST every body at its slot of an even schedule; resends follow 1-5 s later. First POST times."""
    numbers = list(bodies)
    rng.shuffle(numbers)
    gap = seconds / len(numbers)
    plan = [(i * gap, n) for i, n in enumerate(numbers)]
    plan += [(at + rng.uniform(1, 5), n) for at, n in rng.sample(plan, int(len(plan) * DUPLICATE_SHARE))]
    plan.sort()
    posted, failures, lock = {}, [0], threading.Lock()
    local = threading.local()
    start = time.time() + 0.5

    def send(at: float, n: int) -> None:
        time.sleep(max(0.0, start + at - time.time()))
        session = getattr(local, "session", None) or setattr(local, "session", requests.Session()) or local.session
        sent = time.time()
        try:
            answer = session.post(url + "/api/midtrans/notification", data=json.dumps(bodies[n]),
                                  headers={"Content-Type": "application/json"}, timeout=10)
            ok = answer.status_code == 200
        except requests.RequestException:
            ok = False
        with lock:
            if ok:
                posted.setdefault(n, sent)
            else:
                failures[0] += 1

    with ThreadPoolExecutor(SENDERS) as pool:
        for at, n in plan:
            pool.submit(send, at, n)
    return posted, failures[0]


def wait_until_settled(database: str, numbers: list[int]) -> float | None:
    """Seconds from now until every order is paid and its e-mail gone; None after SETTLE_TIMEOUT."""
    ids, started = [ID_BASE + n for n in numbers], time.time()
    with psycopg.connect(database, autocommit=True) as conn:
        while time.time() - started < SETTLE_TIMEOUT:
            open_orders, unsent = conn.execute(
                "SELECT (SELECT count(*) FROM orders WHERE id = ANY(%s) AND status <> 'SUCCESS'), "
                "(SELECT count(*) FROM email_outbox WHERE kind = 'order.paid' AND key = ANY(%s) AND outcome IS NULL)",
                (ids, receipt_keys(ids))).fetchone()
            if open_orders == 0 and unsent == 0:
                return time.time() - started
            time.sleep(0.5)
    return None


def outcomes(database: str, numbers: list[int], posted: dict) -> dict:
    """Per-order POST to paid commit; lost orders; orders e-mailed more than once."""
    ids = [ID_BASE + n for n in numbers]
    with psycopg.connect(database) as conn:
        paid = dict(conn.execute(
            "SELECT p.order_id, min(extract(epoch FROM n.processed_at)) FROM midtrans_notifications n "
            "JOIN payments p ON p.id = n.payment_id WHERE p.order_id = ANY(%s) AND n.outcome = 'APPLIED' "
            "GROUP BY p.order_id", (ids,)).fetchall())
        lost = conn.execute("SELECT count(*) FROM orders WHERE id = ANY(%s) AND status <> 'SUCCESS'",
                            (ids,)).fetchone()[0]
        # A receipt is one outbox row per order; one claimed twice was sent again after its claim
        # expired (the mail server is off in the bench, so no claim was released by a refusal).
        emails = conn.execute("SELECT count(*) FILTER (WHERE outcome = 'sent'), count(*), "
                              "count(*) FILTER (WHERE claims > 1) FROM email_outbox "
                              "WHERE kind = 'order.paid' AND key = ANY(%s)", (receipt_keys(ids),)).fetchone()
        told_twice = conn.execute("SELECT count(*) FROM (SELECT order_id FROM inbox_messages WHERE order_id = ANY(%s) "
                                  "GROUP BY order_id HAVING count(*) > 1) twice", (ids,)).fetchone()[0]
        duplicated = emails[2] + told_twice
        states = dict(conn.execute("SELECT n.state || '/' || coalesce(n.outcome::text, '-'), count(*) FROM "
                                   "midtrans_notifications n JOIN payments p ON p.id = n.payment_id "
                                   "WHERE p.order_id = ANY(%s) GROUP BY 1", (ids,)).fetchall())
    waits = [float(paid[order_id(n)]) - posted[n] for n in posted if order_id(n) in paid]
    return {"paid_commit": describe(waits), "lost": lost, "emails_sent": emails[0], "receipts_owed": emails[1],
            "orders_emailed_twice": duplicated, "notifications": states}


def receipt_keys(order_ids: list[int]) -> list[str]:
    """The outbox keys of the orders' receipts (shop.payments.emails.PAID)."""
    return [f"order:{i}" for i in order_ids]


def describe(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), **{f"p{p}_s": percentile(values, p) for p in (50, 95, 99)}, "max_s": max(values)}


def sweeper_runs(log_path: Path, started: float, ended: float) -> dict:
    """The sweeper's runs the beat process finished during the sale, against its interval's promise."""
    text = log_path.read_text(errors="replace")
    runs = [at for at in _finished(text, "payments.sweep_notifications") if started <= at <= ended]
    gaps = [b - a for a, b in zip(runs, runs[1:])]
    return {"interval_s": SWEEP_INTERVAL, "window_s": ended - started, "expected": int((ended - started) // SWEEP_INTERVAL),
            "runs": len(runs), "longest_gap_s": max(gaps, default=None),
            "discarded": text.count("Discarding revoked task: payments.sweep_notifications"),
            "reconcile_runs": len([at for at in _finished(text, "payments.reconcile_pending_payments")
                                   if started <= at <= ended])}


def _finished(text: str, task: str) -> list[float]:
    """When each run of `task` finished, from Celery's log lines ("[2026-12-03 12:43:18,275: INFO/...")."""
    times = []
    for line in text.splitlines():
        if f"Task {task}[" in line and " succeeded in " in line:
            stamp = datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc)
            times.append(stamp.timestamp())
    return times


class Watcher:
    """Open order pages: one status stream each, read by one thread; when each first said SUCCESS."""

    def __init__(self, url: str, numbers: list[int]):
        self.streams = {}
        for n in numbers:
            stream = Stream(url, order_id(n), session_cookie(user_id_of(n)))
            stream.until(b'"status": "PENDING"')
            stream.sock.setblocking(False)
            self.streams[stream.sock] = (n, stream)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        selector = selectors.DefaultSelector()
        for sock in self.streams:
            selector.register(sock, selectors.EVENT_READ)
        while not self.stop.is_set() and len(self.seen) < len(self.streams):
            for key, _ in selector.select(timeout=0.2):
                n, stream = self.streams[key.fileobj]
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                stream.seen += chunk
                if b'"status": "SUCCESS"' in stream.seen and n not in self.seen:
                    self.seen[n] = time.time()
                if not chunk:
                    selector.unregister(key.fileobj)
        selector.close()

    def latencies(self, posted: dict) -> dict:
        waits = [self.seen[n] - posted[n] for n in self.seen if n in posted]
        return {"watched": len(self.streams), "saw_success": len(self.seen), **describe(waits)}

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for _, stream in self.streams.values():
            stream.close()


def summary(r: dict) -> str:
    paid, stream, sweeper = r["paid_commit"], r["stream"], r["sweeper"]
    return (f"  flash sale: {r['orders']} orders in {r['seconds']:.0f} s ({r['rate_per_s']:.0f}/s), status 150 ms: "
            f"POST to paid p50 {paid.get('p50_s', 0):.2f} s p95 {paid.get('p95_s', 0):.2f} s p99 "
            f"{paid.get('p99_s', 0):.2f} s (max {paid.get('max_s', 0):.1f}); open pages ({stream['saw_success']}/"
            f"{stream['watched']}) p95 {stream.get('p95_s', 0):.2f} s; lost {r['lost']}, e-mailed twice "
            f"{r['orders_emailed_twice']}, post failures {r['post_failures']}; sweeper {sweeper['runs']}/"
            f"{sweeper['expected']} runs ({sweeper['discarded']} discarded); all settled "
            f"{r['settled_after_s'] if r['settled_after_s'] is None else round(r['settled_after_s'], 1)} s after "
            f"the last POST; status calls in flight at most {r['most_status_calls_in_flight']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2_500)
    parser.add_argument("--seconds", type=float, default=30.0, help="to POST them all (10,000 in 120 s: 83/s)")
    parser.add_argument("--design", default=f"{WORKER_POOL}:{WORKER_CONCURRENCY}", help="the worker's pool:concurrency")
    parser.add_argument("--workers", type=int, default=WORKER_PROCESSES, help="worker processes (Heroku-style `worker=N`)")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/shop_bench_flash")
    args = parser.parse_args()
    pool, concurrency = args.design.split(":")
    numbers = list(range(1, args.orders + 1))
    run_alone(args.database, args.orders, "flash", lambda env, fake, work: measure(
        env, args.database, fake, work, numbers, args.seconds, seed=900, pool=pool, concurrency=int(concurrency),
        workers=args.workers))


if __name__ == "__main__":
    main()
