"""What scraping /metrics costs the webhook: req/s with a scrape every second vs without, in turns.

`python -m bench.metrics_scrape` (PostgreSQL and Redis running, wrk installed): a database of its
own (`shop_bench_metrics`, dropped and made anew) with 2,000 pending payments, the shop under the
Procfile's web command with METRICS_TOKEN set, then:

1. what one scrape costs the web processes: their CPU seconds (utime + stime of gunicorn's
   master and workers, from /proc) over SCRAPES_ALONE scrapes with no other traffic, less the same
   span idle; at one scrape a second that is a share of the host's cores the webhook cannot use;
2. wrk at 16 connections for 3 s on the webhook, without and with a scraper thread that GETs
   /metrics once a second (as Prometheus would, at a much shorter interval than its usual 15 s),
   PAIRS pairs in ABBA order (without, with, with, without, ...) so a drift of the host's speed
   falls on both sides; the median of the pairs' ratios, with a 95 % bootstrap interval.

Prints and writes bench/results/metrics-<time>.json; the target is a median ratio within 5 %.
"""
import json
import os
import random
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
PAYMENTS, CONNECTIONS, SECONDS, PAIRS, SCRAPES_ALONE = 2_000, 16, 3, 16, 30
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
    for r in range(PAIRS):
        order = ("without", "with") if r % 2 == 0 else ("with", "without")  # ABBA: drift falls on both
        for label in order:
            run = one_run(url, bodies, 7919 * r + (1 if label == "with" else 0) * 104729, label == "with")
            runs[label].append(run)
            print(f"  {label:8} scrape: {run['rps']:7.0f} req/s  p99 {run['p99_ms']:6.1f} ms  "
                  f"scrapes {len(run['scrapes'])}  errors {run['errors']}", flush=True)
    ratios = [w["rps"] / wo["rps"] for w, wo in zip(runs["with"], runs["without"])]
    scrape_ms = [s["ms"] for run in runs["with"] for s in run["scrapes"]]
    low, high = bootstrap_interval(ratios)
    return {"ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "ratio_median_95ci": [low, high], "pairs": len(ratios),
            "rps_without_median": statistics.median(r["rps"] for r in runs["without"]),
            "rps_with_median": statistics.median(r["rps"] for r in runs["with"]),
            "scrape_ms_median": statistics.median(scrape_ms), "scrape_ms_max": max(scrape_ms), "runs": runs}


def bootstrap_interval(values: list[float], rounds: int = 10_000) -> tuple[float, float]:
    """A 95 % interval of the median of `values` (percentile bootstrap, fixed seed)."""
    rng = random.Random(17)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds) - 1]


def cpu_seconds(proc: procs.Proc) -> float:
    """utime + stime of the process and its children (gunicorn's master and workers), in seconds."""
    total = 0
    for pid in proc.group_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cost_of_a_scrape(web: procs.Proc, url: str) -> dict:
    """The web processes' CPU per scrape, without other traffic: SCRAPES_ALONE scrapes a second apart
    against the same span idle; and the share of the host's cores that one scrape a second takes."""
    idle_before = cpu_seconds(web)
    time.sleep(SCRAPES_ALONE)
    idle = cpu_seconds(web) - idle_before
    scraper = Scraper(url + "/metrics")
    before = cpu_seconds(web)
    scraper.start()
    time.sleep(SCRAPES_ALONE)
    scraper.stopped.set()
    scraper.join(15)
    busy = cpu_seconds(web) - before
    per_scrape = max(busy - idle, 0.0) / len(scraper.scrapes)
    return {"scrapes": len(scraper.scrapes), "cpu_s_idle_span": idle, "cpu_s_scraping_span": busy,
            "cpu_ms_per_scrape": per_scrape * 1000, "share_of_cores_at_1_per_s": per_scrape / os.cpu_count(),
            "scrape_ms_median": statistics.median(s["ms"] for s in scraper.scrapes)}


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
            web, url = procs.gunicorn("web", "wsgi:app", env, work)
            wrk(url + webhook.PATH, "notify.lua", [bodies, "0"], CONNECTIONS, 1)  # warm up
            webhook.drop_queued_tasks()
            cost = cost_of_a_scrape(web, url)
            print(f"  one scrape: {cost['cpu_ms_per_scrape']:.1f} ms of the web processes' CPU "
                  f"({cost['share_of_cores_at_1_per_s']:.2%} of the host's cores at one a second)", flush=True)
            result = {**measure(url, bodies), "cost_alone": cost}
    finally:
        procs.stop_all()
        clear_redis()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S%z")
    (RESULTS / f"metrics-{stamp}.json").write_text(json.dumps(result, indent=1) + "\n")
    low, high = result["ratio_median_95ci"]
    print(f"webhook with a scrape every second: median {result['ratio_median']:.1%} of without over "
          f"{result['pairs']} pairs (95 % interval {low:.1%}-{high:.1%}, range {result['ratio_min']:.1%}-"
          f"{result['ratio_max']:.1%}); scrape p50 {result['scrape_ms_median']:.1f} ms; one scrape costs "
          f"{result['cost_alone']['cpu_ms_per_scrape']:.1f} ms of CPU")


if __name__ == "__main__":
    main()
