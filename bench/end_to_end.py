"""Measurement 3: from the notification POST to the new status visible, through the real worker.

For each order: its page's status stream (Server-Sent Events, read by a Python client: a raw
socket, as an open order page holds it) is open and has shown PENDING; a poller asks the status
endpoint every POLL_MS; the clock starts just before the settlement notification is POSTed and
stops for push when the stream delivers SUCCESS, for poll when the endpoint first answers SUCCESS.
The worker confirms each notification with the (fake) Midtrans status API, as in production.
"""
import json
import random
import socket
import threading
import time
from urllib.parse import urlsplit

import requests
from flask import Flask

from bench.bodies import transaction
from bench.seed import order_id, reset_payments, user_id_of
from bench.shape import SECRET_KEY, SERVER_KEY
from bench.stats import percentile
from shop.emulator.notifications import build_notification, status_response

POLL_MS = 10
TIMEOUT = 10  # seconds, for each order


def session_cookie(user_id: int) -> str:
    """The signed Flask session of a logged-in shopper, as the login form would leave it."""
    app = Flask("bench")
    app.secret_key = SECRET_KEY
    return app.session_interface.get_signing_serializer(app).dumps({"_user_id": f"{user_id}:1", "_fresh": True})


class Stream:
    def __init__(self, base: str, order: int, cookie: str):
        parts = urlsplit(base)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
        self.sock.sendall((f"GET /orders/{order}/events HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                           f"Cookie: session={cookie}\r\nAccept: text/event-stream\r\n\r\n").encode())
        self.seen = b""

    def until(self, marker: bytes) -> float:
        while marker not in self.seen:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream closed")
            self.seen += chunk
        return time.perf_counter()

    def close(self) -> None:
        self.sock.close()


def poll_until_success(session: requests.Session, url: str, result: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        if session.get(url, timeout=TIMEOUT).json()["status"] == "SUCCESS":
            result["at"] = time.perf_counter()
            return
        time.sleep(POLL_MS / 1000)


def one_order(base: str, n: int, fake, rng: random.Random) -> tuple[float, float]:
    cookie = session_cookie(user_id_of(n))
    body = build_notification(transaction(n, rng), "settlement", SERVER_KEY)
    fake.fake.statuses[body["transaction_id"]] = status_response(body)
    stream = Stream(base, order_id(n), cookie)
    poller = requests.Session()
    poller.cookies.set("session", cookie)
    try:
        stream.until(b'"status": "PENDING"')
        result, stop = {}, threading.Event()
        thread = threading.Thread(target=poll_until_success,
                                  args=(poller, f"{base}/orders/{order_id(n)}/status", result, stop))
        thread.start()
        started = time.perf_counter()
        answer = requests.post(f"{base}/api/midtrans/notification", data=json.dumps(body),
                               headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
        answer.raise_for_status()
        pushed = stream.until(b'"status": "SUCCESS"')
        thread.join(TIMEOUT)
        stop.set()
        if "at" not in result:
            raise TimeoutError(f"status endpoint of order {order_id(n)} never showed SUCCESS")
        return (pushed - started) * 1000, (result["at"] - started) * 1000
    finally:
        stream.close()
        poller.close()


def measure(base: str, database_url: str, numbers: list[int], fake, seed: int) -> dict:
    reset_payments(database_url, numbers)
    rng = random.Random(seed)
    push, poll, failures = [], [], 0
    for n in numbers:
        try:
            pushed, polled = one_order(base, n, fake, rng)
        except (OSError, requests.RequestException, TimeoutError) as error:
            failures += 1
            print(f"  order {order_id(n)}: {error}", flush=True)
            continue
        push.append(pushed)
        poll.append(polled)
    result = {"orders": len(numbers), "failures": failures, "push": describe(push), "poll_endpoint": describe(poll),
              "poll_interval_ms": POLL_MS}
    print(f"  push p50 {result['push']['p50_ms']:.0f} ms p95 {result['push']['p95_ms']:.0f} ms; "
          f"status endpoint p50 {result['poll_endpoint']['p50_ms']:.0f} ms p95 "
          f"{result['poll_endpoint']['p95_ms']:.0f} ms; {failures} failed", flush=True)
    return result


def describe(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "min_ms": float("nan"), "max_ms": float("nan")}
    return {"n": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "min_ms": min(values), "max_ms": max(values)}
