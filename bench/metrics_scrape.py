"""What scraping /metrics costs the webhook: req/s with a scrape every second vs without, in turns.

`python -m bench.metrics_scrape` (PostgreSQL and Redis running, wrk installed): a database of its
own (`shop_bench_metrics`, dropped and made anew) with 2,000 pending payments, the shop under the
Procfile's web command with METRICS_TOKEN set, then wrk at 16 connections for 4 s on the webhook,
without and with a scraper thread that GETs /metrics once a second (as Prometheus would, at a
much shorter interval than its usual 15 s), alternating, 5 times each. Prints and writes
bench/results/metrics-<time>.json; the target is a median ratio within 5 %.
"""
import json
import statistics
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from bench import procs, webhook
from bench.bodies import webhook_stream, write_lines
from bench.fake import SlowFake
from bench.load import wrk
from bench.seed import migrate, recreate_database, seed_payments, seed_products
from bench.shape import SERVER_KEY, shop_env
from bench.suite import clear_redis

DATABASE = "postgresql://postgres@127.0.0.1:5432/shop_bench_metrics"
TOKEN = "bench-metrics-token"
PAYMENTS, CONNECTIONS, SECONDS, REPEATS = 2_000, 16, 4, 5
RESULTS = Path(__file__).resolve().parent / "results"


class Scraper(threading.Thread):
    """GET /metrics every `interval` seconds until stopped; keeps each answer's time and size."""

    def __init__(self, url: str, interval: float = 1.0):
        super().__init__(daemon=True)
        self.url, self.interval, self.stopped, self.scrapes = url, interval, threading.Event(), []

    def run(self) -> None:
        while not self.stopped.is_set():
            started = time.perf_counter()
            answer = requests.get(self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            answer.raise_for_status()
            took = time.perf_counter() - started
            self.scrapes.append({"ms": took * 1000, "bytes": len(answer.content)})
            self.stopped.wait(max(self.interval - took, 0))


def one_run(url: str, bodies: str, offset: int, scraping: bool) -> dict:
    scraper = Scraper(url + "/metrics")
    if scraping:
        scraper.start()
    try:
        run = wrk(url + webhook.PATH, "notify.lua", [bodies, str(offset)], CONNECTIONS, SECONDS)
    finally:
        scraper.stopped.set()
        if scraping:
            scraper.join(15)
    webhook.drop_queued_tasks()
    return {**run, "scrapes": scraper.scrapes}


def measure(url: str, bodies: str) -> dict:
    runs = {"without": [], "with": []}
    for r in range(REPEATS):
        for label in ("without", "with"):
            run = one_run(url, bodies, 7919 * r + (1 if label == "with" else 0) * 104729, label == "with")
            runs[label].append(run)
            print(f"  {label:8} scrape: {run['rps']:7.0f} req/s  p99 {run['p99_ms']:6.1f} ms  "
                  f"scrapes {len(run['scrapes'])}  errors {run['errors']}", flush=True)
    ratios = [w["rps"] / wo["rps"] for w, wo in zip(runs["with"], runs["without"])]
    scrape_ms = [s["ms"] for run in runs["with"] for s in run["scrapes"]]
    return {"ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "rps_without_median": statistics.median(r["rps"] for r in runs["without"]),
            "rps_with_median": statistics.median(r["rps"] for r in runs["with"]),
            "scrape_ms_median": statistics.median(scrape_ms), "scrape_ms_max": max(scrape_ms), "runs": runs}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="shop-bench-metrics-"))
    fake = SlowFake()
    try:
        with fake:
            env = shop_env(DATABASE, fake.fake.url, METRICS_TOKEN=TOKEN, METRICS_DIR=str(work / "metrics"))
            recreate_database(DATABASE)
            migrate(env)
            seed_products(DATABASE)
            seed_payments(DATABASE, 1, PAYMENTS)
            bodies = str(write_lines(work / "bodies.jsonl", webhook_stream(list(range(1, PAYMENTS + 1)), SERVER_KEY)))
            clear_redis()
            _, url = procs.gunicorn("web", "wsgi:app", env, work)
            wrk(url + webhook.PATH, "notify.lua", [bodies, "0"], CONNECTIONS, 1)  # warm up
            result = measure(url, bodies)
    finally:
        procs.stop_all()
        clear_redis()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S%z")
    (RESULTS / f"metrics-{stamp}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"webhook with a scrape every second: {result['ratio_median']:.1%} of without "
          f"({result['ratio_min']:.1%}-{result['ratio_max']:.1%}); scrape p50 {result['scrape_ms_median']:.1f} ms")


if __name__ == "__main__":
    main()
