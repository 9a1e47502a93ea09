"""A real Prometheus scraping the shop under load, and pictures of the dashboard's main queries.

`python -m bench.monitoring_run` (PostgreSQL, Redis, Debian's `prometheus`, /usr/bin/chromium):
a database of its own (`shop_bench_monitoring`, dropped and made anew) with PAYMENTS fresh
pending payments and STALE ones six hours old that Midtrans (the fake) knows as paid but never
notified; the Procfile's web command with METRICS_TOKEN, the beat process, and Prometheus on a
free loopback port scraping the web process's /metrics every second with that token. Then, for
SECONDS: signed notifications at RATE a second (pending then settlement or expire, with refused
ones among them: a bad signature, an unknown order), the worker started only after WORKER_AFTER
seconds (notifications wait, then drain: the lag shows), and the reconciler settling the stale
payments in small batches. Afterwards headless Chromium opens Prometheus's own graph page for
the queries of the dashboard's main panels, read from deploy/grafana/shop.json, checks through
Prometheus's API that each has data, and saves docs/img/monitoring-<panel>.png. Writes
bench/results/monitoring-<time>.json (what each query reached) and keeps Prometheus's data:
`--pictures-from <its data dir>` takes the pictures again from it, without any load. Grafana
itself is not run.
"""
import argparse
import json
import math
import random
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import requests

from bench import procs
from bench.alone import run_alone
from bench.bodies import lifecycle, transaction
from bench.seed import seed_payments
from bench.shape import SERVER_KEY
from shop.emulator.notifications import build_notification, status_response

DATABASE = "postgresql://postgres@127.0.0.1:5432/shop_bench_monitoring"
TOKEN = "bench-monitoring-token"
PAYMENTS, STALE = 1_500, 60
SECONDS, RATE, WORKER_AFTER = 75, 20, 20
SCRAPE_SECONDS = 1
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "shop.json"
IMAGES = ROOT / "docs" / "img"
# Picture name -> the dashboard panel (by title) whose queries it shows.
PANELS = {
    "webhook-outcomes": "Webhook: notifikasi per detik menurut hasil",
    "processing-lag": "Jeda disimpan -> diterapkan p50 / p95",
    "waiting": "Belum diproses",
    "open-payments": "Pembayaran terbuka",
    "reconciled": "Dilunasi rekonsiliasi (1 jam)",
}
# The jobs at a pace that shows in a minute: reconcile every 5 s, a few payments each time.
JOBS = {"RECONCILE_INTERVAL_SECONDS": "5", "RECONCILE_BATCH_SIZE": "5", "METRICS_SNAPSHOT_SECONDS": "1",
        "STATUS_PUSH": "0", "WEB_CONCURRENCY": "2"}


def panel_queries() -> dict[str, list[str]]:
    """Picture name -> the expressions of its dashboard panel, as the dashboard has them."""
    by_title = {panel["title"]: [t["expr"] for t in panel["targets"]]
                for panel in json.loads(DASHBOARD.read_text())["panels"]}
    return {name: by_title[title] for name, title in PANELS.items()}


def notification_bodies(fake) -> list[str]:
    """Each payment's pending then its final body, twenty payments at a time; Midtrans (the fake)
    answers each status check with the final one. One in ten is refused: a bad signature, or a
    signed body for an order the shop does not have."""
    rng, bodies = random.Random(17), []
    for first in range(1, PAYMENTS + 1, 20):
        lives = [lifecycle(n, SERVER_KEY, rng) for n in range(first, min(first + 20, PAYMENTS + 1))]
        for _, final in lives:
            fake.fake.statuses[final["order_id"]] = fake.fake.statuses[final["transaction_id"]] = status_response(final)
        bodies += [life[0] for life in lives] + [life[1] for life in lives]
    with_refused = []
    for i, body in enumerate(bodies):
        if i % 20 == 10:
            with_refused.append(dict(body, signature_key="0" * 128))
        elif i % 20 == 0:
            with_refused.append(build_notification(transaction(900_000 + i, rng), "settlement", SERVER_KEY))
        with_refused.append(body)
    bodies = with_refused
    return [json.dumps(body) for body in bodies]


def paid_but_not_notified(fake) -> None:
    """STALE payments six hours old that Midtrans has as settled: only the reconciler finds them."""
    seed_payments(DATABASE, PAYMENTS + 1, PAYMENTS + STALE, updated_ago="6 hours")
    rng = random.Random(5)
    for n in range(PAYMENTS + 1, PAYMENTS + STALE + 1):
        status = status_response(build_notification(transaction(n, rng), "settlement", SERVER_KEY))
        fake.fake.statuses[status["order_id"]] = fake.fake.statuses[status["transaction_id"]] = status


def prometheus_config(work: Path, shop_url: str | None) -> Path:
    """Scrape the shop at `shop_url` every SCRAPE_SECONDS with its token (None: scrape nothing)."""
    jobs = [{"job_name": "shop", "metrics_path": "/metrics",
             "authorization": {"type": "Bearer", "credentials": TOKEN},
             "static_configs": [{"targets": [shop_url.removeprefix("http://")]}]}] if shop_url else []
    config = {"global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "scrape_timeout": f"{SCRAPE_SECONDS}s"},
              "scrape_configs": jobs}
    path = work / "prometheus.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def post_notifications(url: str, bodies: list[str], stop: threading.Event, sent: list) -> None:
    """POST `bodies` to the webhook at RATE a second until they run out or `stop` is set."""
    session, started = requests.Session(), time.monotonic()
    for i, body in enumerate(bodies):
        if stop.is_set():
            break
        stop.wait(max(started + i / RATE - time.monotonic(), 0))
        answer = session.post(url + "/api/midtrans/notification", data=body,
                              headers={"Content-Type": "application/json"}, timeout=10)
        sent.append(answer.status_code)


def drive_load(env: dict, fake, work: Path, web_url: str) -> dict:
    bodies, stop, sent = notification_bodies(fake), threading.Event(), []
    sender = threading.Thread(target=post_notifications, args=(web_url, bodies, stop, sent), daemon=True)
    sender.start()
    print(f"  notifications at {RATE}/s; no worker for {WORKER_AFTER} s", flush=True)
    time.sleep(WORKER_AFTER)
    procs.celery_worker("worker", env, work, concurrency=4, queues="celery,reconcile")
    print("  worker started", flush=True)
    time.sleep(SECONDS - WORKER_AFTER)
    stop.set()
    sender.join(15)
    time.sleep(3 * SCRAPE_SECONDS + 2)  # the last changes scraped
    return {"posted": len(sent), "answers": {str(code): sent.count(code) for code in sorted(set(sent))}}


def reached(prometheus_url: str, expr: str, start: float, end: float) -> dict:
    """What `expr` reached between `start` and `end`, from Prometheus's API: series, points, max."""
    answer = requests.get(prometheus_url + "/api/v1/query_range", params={
        "query": expr, "start": start, "end": end, "step": SCRAPE_SECONDS}, timeout=30).json()
    series = answer["data"]["result"]
    values = [float(v) for s in series for _, v in s["values"] if v not in ("NaN", "+Inf", "-Inf")]
    return {"series": len(series), "points": len(values), "max": max(values, default=0.0)}


def pictures(prometheus_url: str, start: float, end: float) -> dict:
    """Prometheus's graph page for each main panel's queries from `start` to `end` (Unix times),
    saved as docs/img/monitoring-<panel>.png; what each query reached. Refuses empty graphs."""
    from playwright.sync_api import sync_playwright

    queries = panel_queries()
    until = math.ceil(end / 60) * 60  # the graph page takes its end to the minute (UTC)
    params = {"range_input": f"{math.ceil(until - start)}s", "tab": "0",
              "end_input": datetime.fromtimestamp(until, timezone.utc).strftime("%Y-%m-%d %H:%M")}
    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 640})
        for name, exprs in queries.items():
            graphs = {f"g{i}.{key}": value for i, expr in enumerate(exprs)
                      for key, value in {"expr": expr, **params}.items()}
            page.goto(f"{prometheus_url}/graph?{urlencode(graphs)}")
            page.wait_for_selector(".graph_area svg path", timeout=15_000)
            page.add_style_tag(content=".navbar { position: static !important; } body { padding-top: 0 !important; }")
            page.wait_for_timeout(1_000)
            page.screenshot(path=str(IMAGES / f"monitoring-{name}.png"), full_page=True)
        browser.close()
    shown = {name: [reached(prometheus_url, expr, start, end) for expr in exprs] for name, exprs in queries.items()}
    for name, lines in shown.items():
        print(f"  {name:17} " + "; ".join(f"{line['series']} series, max {line['max']:.3g}" for line in lines),
              flush=True)
    empty = [name for name, lines in shown.items() if not any(line["points"] and line["max"] > 0 for line in lines)]
    if empty:
        raise SystemExit(f"no data in {', '.join(empty)}")
    return shown


def measure(env: dict, fake, work: Path) -> dict:
    env = dict(env, METRICS_TOKEN=TOKEN, **JOBS)
    paid_but_not_notified(fake)
    _, web_url = procs.gunicorn("web", "wsgi:app", env, work)
    procs.celery_beat("beat", env, work)
    data = work / "prometheus-data"
    _, prometheus_url = procs.prometheus("prometheus", prometheus_config(work, web_url), data, work)
    started = time.time()
    load = drive_load(env, fake, work, web_url)
    ended = time.time()
    shown = pictures(prometheus_url, started, ended)
    print(f"  Prometheus's data kept in {data} (--pictures-from it takes the pictures again)", flush=True)
    return {"seconds": SECONDS, "rate": RATE, "worker_after": WORKER_AFTER, "scrape_seconds": SCRAPE_SECONDS,
            "payments": PAYMENTS, "stale": STALE, "started_at": started, "ended_at": ended, **load,
            "panels": shown, "images": [f"docs/img/monitoring-{name}.png" for name in shown]}


def pictures_from(data: Path) -> None:
    """The pictures again from a kept run's Prometheus data, without the shop or any load."""
    work = Path(tempfile.mkdtemp(prefix="shop-bench-monitoring-pictures-"))
    try:
        _, url = procs.prometheus("prometheus", prometheus_config(work, None), data, work)
        head = requests.get(url + "/api/v1/status/tsdb", timeout=10).json()["data"]["headStats"]
        pictures(url, head["minTime"] / 1000, head["maxTime"] / 1000)
    finally:
        procs.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pictures-from", type=Path, metavar="DATA_DIR",
                        help="take the pictures again from the Prometheus data a run kept (no load)")
    args = parser.parse_args()
    if shutil.which("prometheus") is None:
        raise SystemExit("prometheus is not installed: apt-get install -y --no-install-recommends prometheus")
    if args.pictures_from:
        pictures_from(args.pictures_from)
    else:
        run_alone(DATABASE, PAYMENTS, "monitoring", measure)


if __name__ == "__main__":
    main()
