"""Time from a status change (commit + clear + signal, as the notification task does it) to the
order page in Chromium showing the paid thank-you (its status area fetched and swapped in): with
push (SSE over Redis) and with the 10-second poll only.

    .venv/bin/python bench/status_latency.py [push_runs] [poll_runs]

Runs gunicorn with the shop's gunicorn.conf.py (gevent, 2 workers) on loopback. Needs Redis
(TEST_REDIS_URL, default db 14) and /usr/bin/chromium. BENCH_DATABASE_URL is emptied; default is a
new SQLite file.
"""
import random
import sys
import time
from pathlib import Path
from tempfile import mkdtemp

from common import bench_app, database_url, empty_tables, session_cookie, summary

from playwright.sync_api import sync_playwright
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.helpers import pending_va_order
from tests.browser.server import start_gunicorn, stop
from tests.orders.helpers import record_status_change

# The page swaps in its whole status area on a change: watch for the paid thank-you to appear.
WATCH_PAID_PANEL = """() => {
  const root = document.querySelector('[data-order-status]');
  window.shownAt = new Promise(resolve => new MutationObserver(() => {
    if (root.querySelector('[data-thanks]')) resolve(performance.timeOrigin + performance.now());
  }).observe(root, {childList: true, subtree: true}));
}"""


def measure(app, browser, url: str, runs: int) -> list[float]:
    latencies = []
    for _ in range(runs):
        with app.app_context():
            order = pending_va_order()
            context = browser.new_context(base_url=url)
            context.add_cookies([{"name": "session", "value": session_cookie(app, order.user), "url": url}])
            page = context.new_page()
            page.goto(f"/orders/{order.id}")
            page.evaluate(WATCH_PAID_PANEL)
            # The change lands at a random moment of the 10-second poll cycle, as a real one does.
            page.wait_for_timeout(random.uniform(300, 10_000))
            started = time.time() * 1000
            record_status_change(order, OrderStatus.SUCCESS, PaymentStatus.SUCCESS)
            latencies.append(page.evaluate("window.shownAt") - started)
            context.close()
            db.session.remove()
    return latencies


def main(push_runs: int, poll_runs: int) -> None:
    url = database_url()
    app = bench_app(url)
    logs = Path(mkdtemp(prefix="shop-bench-logs-"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for label, push, runs in (("push (SSE)", True, push_runs), ("poll only", False, poll_runs)):
            process, server = start_gunicorn(url, logs / f"{label[:4]}.log", push=push, workers=2)
            try:
                print(f"{label:11} {summary(measure(app, browser, server, runs))}", flush=True)
            finally:
                stop(process)
        browser.close()
    with app.app_context():
        empty_tables()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3])) if len(sys.argv) > 2 else main(20, 6)
