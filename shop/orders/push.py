"""Push an order's new status to its open pages.

Each web process keeps ONE subscription (a Redis pub/sub listener when REDIS_URL is set, else
nothing: the signal is sent in this same process) and fans each change out to the queues of its
open streams. A stream reads the database first, on every (re)connect and after every
re-subscription, so a change published while nobody listened is never lost.
"""
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator

import redis
from flask import Flask, current_app

from shop import metrics
from shop.orders.models import OrderStatus
from shop.orders.quota import StreamQuota
from shop.signals import order_status_changed

log = logging.getLogger(__name__)

CHANNEL = "shop:order-status"
HEARTBEAT_SECONDS = 15
RECONNECT_MS = 3000  # what the browser waits before it reconnects a dropped stream
# Publishes are short and the listener holds one connection of its own. A blocking pool waits for
# a free connection instead of raising MaxConnectionsError as redis-py 8's default pool does.
REDIS_MAX_CONNECTIONS = 10
REDIS_POOL_TIMEOUT = 5
RESYNC = "resync"  # queued to every stream: re-read the database, something may have been missed


class StatusHub:
    """The open status streams of this process, by order id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[int, set[queue.Queue]] = {}
        self.quota = StreamQuota()

    def open(self, order_id: int) -> queue.Queue:
        stream: queue.Queue = queue.Queue()
        with self._lock:
            self._streams.setdefault(order_id, set()).add(stream)
        metrics.PUSH_STREAMS.inc()
        return stream

    def close(self, order_id: int, stream: queue.Queue) -> None:
        with self._lock:
            streams = self._streams.get(order_id, set())
            if stream in streams:
                metrics.PUSH_STREAMS.dec()
            streams.discard(stream)
            if not streams:
                self._streams.pop(order_id, None)

    def deliver(self, order_id: int, status: str) -> None:
        for stream in self._listeners(order_id):
            stream.put(status)
            metrics.PUSHES.inc()

    def resync_all(self) -> None:
        with self._lock:
            streams = [s for group in self._streams.values() for s in group]
        for stream in streams:
            stream.put(RESYNC)

    def count(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._streams.values())

    def _listeners(self, order_id: int) -> list[queue.Queue]:
        with self._lock:
            return list(self._streams.get(order_id, ()))


class LocalPush:
    """Embedded default (flask run, tasks in-process): the change is delivered in this process."""

    def __init__(self) -> None:
        self.hub = StatusHub()

    def publish(self, order_id: int, status: str) -> None:
        self.hub.deliver(order_id, status)

    def listen(self) -> None:
        """Nothing to listen to: publishers live in this process."""


class RedisPush:
    """Publishes to one Redis channel; one listener per process delivers to its streams."""

    def __init__(self, url: str) -> None:
        self.hub = StatusHub()
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_MAX_CONNECTIONS, timeout=REDIS_POOL_TIMEOUT)
        self.redis = redis.Redis(connection_pool=pool)
        self._lock = threading.Lock()
        self._listener_pid: int | None = None

    def publish(self, order_id: int, status: str) -> None:
        self.redis.publish(CHANNEL, json.dumps({"order_id": order_id, "status": status}))

    def listen(self) -> None:
        """Start this process's listener once (again after a fork)."""
        with self._lock:
            if self._listener_pid == os.getpid():
                return
            self._listener_pid = os.getpid()
        threading.Thread(target=self._listen_forever, name="order-status-listener", daemon=True).start()

    def _listen_forever(self) -> None:
        backoff = 0.5
        while True:
            try:
                self._listen_once()
            except (redis.RedisError, OSError) as error:
                log.warning("order status listener lost Redis (%s); retrying in %.1fs", error, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)

    def _listen_once(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            # Whatever was published before this subscription existed is read from the database.
            self.hub.resync_all()
            log.info("order status listener subscribed to %s in pid %s", CHANNEL, os.getpid())
            for message in pubsub.listen():
                self._deliver(message["data"])
        finally:
            pubsub.close()

    def _deliver(self, data: bytes) -> None:
        try:
            change = json.loads(data)
            self.hub.deliver(int(change["order_id"]), OrderStatus(change["status"]).value)
        except (ValueError, KeyError, TypeError):
            log.warning("order status listener ignored a malformed message: %r", data[:200])


def init_push(app: Flask) -> None:
    """Give `app` its push channel (unless STATUS_PUSH is off) and publish every status change."""
    if not app.config.get("STATUS_PUSH", True):
        return
    url = app.config.get("REDIS_URL")
    app.extensions["order_push"] = RedisPush(url) if url else LocalPush()
    order_status_changed.connect(publish_status_change)


def publish_status_change(sender, order_id: int, user_id: int, status, **extra) -> None:
    """Signal receiver: tell the open pages of `order_id` about its new status."""
    push = current_app.extensions.get("order_push")
    if push is None:
        return
    try:
        push.publish(int(order_id), OrderStatus(status).value)
    except redis.RedisError:
        # Push is best effort: the pages' 10-second poll still shows the change.
        log.exception("could not publish the status of order %s", order_id)


def status_events(stream: queue.Queue, read_status: Callable[[], OrderStatus]) -> Iterator[str]:
    """Server-Sent Events for one page: the stored status first, then each change, until final."""
    yield f"retry: {RECONNECT_MS}\n\n"
    sent, item = None, RESYNC
    while True:
        status = read_status() if item == RESYNC else OrderStatus(item)
        if status != sent:
            yield sse_event(status)
            sent = status
        if status.is_final:
            return
        item = _next_change(stream)
        while item is None:
            yield ": heartbeat\n\n"
            item = _next_change(stream)


def _next_change(stream: queue.Queue) -> str | None:
    try:
        return stream.get(timeout=HEARTBEAT_SECONDS)
    except queue.Empty:
        return None


def sse_event(status: OrderStatus) -> str:
    data = json.dumps({"status": status.value, "is_final": status.is_final})
    return f"event: status\ndata: {data}\n\n"
