"""The benchmark suite: `bench/run` (or `python -m bench.suite [--quick]`).

Starts the production shape on loopback (gunicorn with gunicorn.conf.py, a Celery worker,
PostgreSQL, Redis, the Midtrans fake), runs every measurement, writes bench/results/<time>.json
and the table in bench/README.md, and stops everything it started.
"""
import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import redis

from bench import (end_to_end, flash_sale, indexes, latency, machine, order_page, procs, processing, reconcile, report,
                   webhook)
from bench.bodies import status_mix, webhook_stream, write_lines
from bench.fake import SlowFake
from bench.load import wrk
from bench.seed import analyze, counts, migrate, recreate_database, seed_payments, seed_products
from bench.shape import BROKER_URL, DEFAULT_DATABASE, REDIS_URL, SERVER_KEY, WORKER_CONCURRENCY, WORKER_POOL, shop_env

RESULTS = Path(__file__).resolve().parent / "results"

FULL = dict(payments=10_000, growth=10, concurrencies=[1, 16, 64], growth_concurrencies=[16, 64], repeats=3,
            seconds=4, burst=300, burst_repeats=3, drain=10_000, orders=200, page_repeats=3, page_seconds=4,
            latency_burst=300, latency_repeats=2, flash_orders=10_000, flash_seconds=120)
QUICK = dict(payments=2_000, growth=10, concurrencies=[1, 16, 64], growth_concurrencies=[16], repeats=1,
             seconds=2, burst=300, burst_repeats=1, drain=1_000, orders=20, page_repeats=1, page_seconds=2,
             latency_burst=100, latency_repeats=1, flash_orders=300, flash_seconds=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short sanity run (its numbers are not the table's)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE),
                        help="a shop_bench* PostgreSQL database; it is dropped and made anew")
    parser.add_argument("--flash-orders", type=int, help="orders in the flash sale (10,000 by default)")
    parser.add_argument("--flash-seconds", type=float, help="seconds to POST them in (120 by default)")
    args = parser.parse_args()
    # `timeout` (bench/run) sends SIGTERM: turn it into an exit, so the finally below stops everything.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = dict(QUICK if args.quick else FULL)
    plan.update({key: value for key, value in (("flash_orders", args.flash_orders), ("flash_seconds", args.flash_seconds))
                 if value})
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    print(f"bench: logs and body files in {work}", flush=True)
    results = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": args.quick,
               "plan": plan, "machine": machine.describe(args.database.rsplit("/", 1)[0] + "/postgres", REDIS_URL)}
    fake = SlowFake()
    try:
        with fake:
            run_all(plan, args.database, fake, work, results)
    finally:
        procs.stop_all()
        clear_redis()
    results["machine"]["load_average_end"] = os.getloadavg()
    results["seconds"] = round(time.monotonic() - started, 1)
    path = RESULTS / f"{results['started_at'].replace(':', '')}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if not args.quick:
        report.update_readme(results, path.name)
    print(report.table(results, path.name), flush=True)
    print(f"bench: done in {results['seconds']:.0f} s; results in {path}", flush=True)


def run_all(plan: dict, database: str, fake: SlowFake, work: Path, results: dict) -> None:
    small, big = plan["payments"], plan["payments"] * plan["growth"]
    env = shop_env(database, fake.fake.url)
    print(f"bench: fresh database, {small} payments", flush=True)
    recreate_database(database)
    migrate(env)
    seed_products(database)
    seed_payments(database, 1, small)
    stream = webhook_stream(list(range(1, small + 1)), SERVER_KEY)
    bodies = str(write_lines(work / "notifications.jsonl", stream))
    results["bodies"] = {"count": len(stream), "payments": small, "status_mix": status_mix(stream)}
    clear_redis()
    web, web_url = procs.gunicorn("web", "wsgi:app", env, work)
    ceiling, ceiling_url = procs.gunicorn("ceiling", "bench.ceiling:app", env, work)
    for url in (web_url, ceiling_url):  # warm both up before anything is counted
        wrk(url + webhook.PATH, "notify.lua", [bodies, "0"], 16, 1)
    webhook.drop_queued_tasks()

    print(f"1. webhook answer at {small} payments (ours, ceiling, ours, ...)", flush=True)
    results["webhook"] = webhook.interleaved(web_url, ceiling_url, bodies, plan["concurrencies"], plan["repeats"],
                                             plan["seconds"])
    # One worker as the Procfile runs it (its default pool processes), consuming only what a burst gives it.
    processor = procs.celery_worker("worker-processing", dict(env, MIDTRANS_VERIFY_STATUS="0"), work,
                                    concurrency=WORKER_CONCURRENCY, queues="bench.idle")
    bursts = processing.Bursts("worker-processing")
    print(f"2. processing at {small} payments (noop, notifications, ...), one worker ({WORKER_POOL}:{WORKER_CONCURRENCY})",
          flush=True)
    pool = list(range(1, small + 1))
    results["processing"] = {"worker": f"{WORKER_POOL}:{WORKER_CONCURRENCY}",
                             "pairs": processing.compare(bursts, database, pool, plan["burst"], plan["burst_repeats"],
                                                         seed=100),
                             "drain": processing.drain_burst(bursts, database, pool, plan["drain"], seed=200),
                             "emails": processing.email_burst(bursts, database, plan["burst"])}
    print("8. processing with GET status confirmation, at 150 ms and 0 ms (noop, off, on, on, ...)", flush=True)
    results["latency"] = latency.interleaved(env, database, fake, work, pool, plan["latency_burst"],
                                             plan["latency_repeats"], seed=250)

    print(f"7. growth: {big} payments", flush=True)
    seed_payments(database, small + 1, big)
    results["growth"] = {"payments": big, "counts": counts(database)}
    results["growth"]["webhook"] = webhook.interleaved(web_url, ceiling_url, bodies_for(big, work),
                                                       plan["growth_concurrencies"], plan["repeats"], plan["seconds"])
    big_pool = list(range(small + 1, big + 1))
    results["growth"]["processing"] = {"pairs": processing.compare(bursts, database, big_pool, plan["burst"],
                                                                   plan["burst_repeats"], seed=300)}
    analyze(database)
    results["growth"]["indexes"] = indexes.explain_hot_paths(database, random.Random(5).sample(big_pool, 20))
    print(f"  sequential scans on growing tables: {results['growth']['indexes']['sequential_scans'] or 'none'}")
    processor.stop()
    ceiling.stop()
    webhook.drop_queued_tasks()

    print(f"3. end to end: {plan['orders']} orders, notification POST to status visible", flush=True)
    worker = procs.celery_worker("worker", env, work, concurrency=WORKER_CONCURRENCY)  # as the Procfile runs it
    used = set(random.Random(6).sample(big_pool, plan["orders"]))
    results["end_to_end"] = end_to_end.measure(web_url, database, sorted(used), fake, seed=400)

    print("5. order page, cached and uncached (page cache off)", flush=True)
    uncached, uncached_url = procs.gunicorn("web-uncached", "bench.uncached:app", env, work)
    results["order_page"] = order_page.interleaved(web_url, uncached_url, database, big_pool[-1], 16,
                                                   plan["page_repeats"], plan["page_seconds"])
    uncached.stop()

    for proc in (web, worker):
        proc.sample_peak_rss()
    results["memory"] = {"web": memory(web), "worker": memory(worker), "worker_processing": memory(processor)}
    worker.stop()
    web.stop()

    print("4. reconciliation: 1,000 stale payments, status calls taking 50 ms", flush=True)
    fake.status_delay = 0.05
    reconcile_db = database + "_reconcile"
    results["reconcile"] = reconcile.measure(shop_env(reconcile_db, fake.fake.url), reconcile_db, fake, work)
    print(f"9. flash sale: {plan['flash_orders']} orders in {plan['flash_seconds']:.0f} s through web, worker and beat",
          flush=True)
    sale = sorted(random.Random(10).sample(sorted(set(big_pool) - used), plan["flash_orders"]))
    results["flash_sale"] = flash_sale.measure(env, database, fake, work, sale, plan["flash_seconds"], seed=900)
    print(f"6. memory (peak RSS): {results['memory']}", flush=True)


def bodies_for(count: int, work: Path) -> str:
    """The webhook stream over all `count` payments (lookups spread across the whole table)."""
    stream = webhook_stream(random.Random(9).sample(range(1, count + 1), min(count, 20_000)), SERVER_KEY, seed=8)
    return str(write_lines(work / f"notifications-{count}.jsonl", stream))


def memory(proc: procs.Proc) -> dict:
    values = list(proc.peak_rss.values())
    return {"processes": len(values), "largest_mib": max(values) / 1024, "total_mib": sum(values) / 1024}


def clear_redis() -> None:
    """The bench's own Redis databases only (6: Celery's queue, 7: cache and push)."""
    for url in (BROKER_URL, REDIS_URL):
        redis.Redis.from_url(url).flushdb()


if __name__ == "__main__":
    main()
