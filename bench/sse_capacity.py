"""How many open status streams one gunicorn web process (gevent) holds, whether plain requests
are still answered meanwhile, and how fast a change reaches every stream.

    .venv/bin/python bench/sse_capacity.py [streams ...]     (default: 100 250 500)

One worker (WEB_CONCURRENCY=1), the shop's gunicorn.conf.py, Redis pub/sub (TEST_REDIS_URL,
default db 14). Every step is bounded by timeouts. BENCH_DATABASE_URL is emptied; default SQLite.
"""
import asyncio
import sys
import time
from pathlib import Path
from tempfile import mkdtemp
from urllib.parse import urlsplit

import requests
from common import bench_app, database_url, empty_tables, percentile, session_cookie, summary

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from tests.browser.server import start_gunicorn, stop
from tests.factories import OrderFactory, UserFactory
from tests.orders.helpers import record_status_change

ORDERS = 50  # the streams are spread over this many orders of one shopper
BATCH = 50  # streams opened at a time
STEP_TIMEOUT = 60  # seconds, for each step
GET_TIMEOUT = 5  # seconds, for each plain request


class Stream:
    def __init__(self, order_id: int):
        self.order_id, self.received_at, self.held = order_id, None, False

    async def open(self, host: str, port: int, cookie: str) -> None:
        self.reader, self.writer = await asyncio.open_connection(host, port)
        self.writer.write((f"GET /orders/{self.order_id}/events HTTP/1.1\r\nHost: {host}\r\n"
                           f"Cookie: session={cookie}\r\nAccept: text/event-stream\r\n\r\n").encode())
        await self.until(b'"status": "PENDING"')
        self.held = True

    async def until(self, marker: bytes) -> None:
        seen = b""
        while marker not in seen:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionError(f"stream of order {self.order_id} closed")
            seen = seen[-200:] + chunk

    async def wait_for_success(self) -> None:
        await self.until(b'"status": "SUCCESS"')
        self.received_at = time.perf_counter()


def change_all(app, order_ids: list[int]) -> dict[int, float]:
    """Mark every order paid the way the notification task does; when each change started."""
    changed_at = {}
    with app.app_context():
        for order_id in order_ids:
            changed_at[order_id] = time.perf_counter()
            record_status_change(db.session.get(Order, order_id), OrderStatus.SUCCESS)
        db.session.remove()
    return changed_at


def plain_get_latencies(url: str, cookie: str, order_id: int, count: int = 50) -> list[float]:
    session = requests.Session()
    session.cookies.set("session", cookie)
    latencies, failures = [], 0
    for path in ("/", f"/orders/{order_id}/status") * (count // 2):
        started = time.perf_counter()
        try:
            session.get(url + path, timeout=GET_TIMEOUT).raise_for_status()
        except requests.RequestException:
            failures += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, failures


async def run_level(app, url: str, n: int) -> None:
    with app.app_context():
        user = UserFactory()
        orders = [OrderFactory(user=user) for _ in range(ORDERS)]
        db.session.commit()
        order_ids, cookie = [o.id for o in orders], session_cookie(app, user)
        db.session.remove()
    parts = urlsplit(url)
    streams = [Stream(order_ids[i % ORDERS]) for i in range(n)]
    opened = 0
    for start in range(0, n, BATCH):
        results = await asyncio.wait_for(asyncio.gather(
            *(s.open(parts.hostname, parts.port, cookie) for s in streams[start:start + BATCH]),
            return_exceptions=True), STEP_TIMEOUT)
        opened += sum(1 for r in results if r is None)
    gets, failed_gets = await asyncio.to_thread(plain_get_latencies, url, cookie, order_ids[0])
    waiting = [asyncio.create_task(s.wait_for_success()) for s in streams if s.held]
    # The changes run in a thread so this loop keeps reading the streams meanwhile.
    changed_at = await asyncio.to_thread(change_all, app, order_ids)
    await asyncio.wait(waiting, timeout=STEP_TIMEOUT)
    fanout = [(s.received_at - changed_at[s.order_id]) * 1000 for s in streams if s.received_at]
    answered = f"{summary(gets)} p99={percentile(gets, 99):.0f} ms" if gets else "none answered"
    print(f"streams {n}: held {opened}/{n}; plain GET while holding: {failed_gets} of "
          f"{len(gets) + failed_gets} timed out, {answered}; change reached {len(fanout)}/{n} "
          f"streams{', ' + summary(fanout) if fanout else ''}", flush=True)
    for s in streams:
        if hasattr(s, "writer"):
            s.writer.close()


def main(levels: list[int]) -> None:
    url = database_url()
    app = bench_app(url)
    logs = Path(mkdtemp(prefix="shop-bench-logs-"))
    process, server = start_gunicorn(url, logs / "capacity.log", push=True, workers=1)
    try:
        for n in levels:
            asyncio.run(run_level(app, server, n))
    finally:
        stop(process)
        with app.app_context():
            empty_tables()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 250, 500])
