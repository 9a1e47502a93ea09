"""The `web` process's gunicorn worker: gevent, with a deadline on reading each request and a cap
on the connections one source address holds at once (gunicorn.conf.py names it).

gunicorn bounds the wait for a request's headers (`keepalive` seconds, on gevent) but not for
its body: 1,000 connections sending a byte every 10 s held every connection of a worker, and
whether a platform's router buffers bodies first is not ours to know. Here a body that is not
in after GUNICORN_REQUEST_READ_SECONDS gets 408 and its connection is closed; the worker serves
the other connections meanwhile (each connection is its own greenlet).
"""
import ipaddress
import os
import time
from collections import Counter

import gevent
from gunicorn.workers.ggevent import GeventWorker
from werkzeug.exceptions import RequestTimeout

TOO_MANY = b"HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class DeadlineBody:
    """A request body (wsgi.input) whose reads all end by one deadline."""

    def __init__(self, body, seconds: float) -> None:
        self._body, self._deadline, self.timed_out = body, time.monotonic() + seconds, False

    def read(self, size=None):
        return self._within(self._body.read, size)

    def readline(self, size=None):
        return self._within(self._body.readline, size)

    def readlines(self, hint=None):
        return self._within(self._body.readlines, hint)

    def __iter__(self):
        return iter(self.readline, b"")

    def _within(self, read, *args):
        remaining = self._deadline - time.monotonic()
        if remaining > 0:
            with gevent.Timeout(remaining, False):  # False: leave the block quietly when it fires
                return read(*args)
        self.timed_out = True
        raise RequestTimeout("Permintaan dikirim terlalu lambat.")


class ShopGeventWorker(GeventWorker):
    """gunicorn's gevent worker, plus the read deadline and the per-source cap."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read_seconds = float(os.environ.get("GUNICORN_REQUEST_READ_SECONDS", "10"))
        self.per_source = int(os.environ.get("GUNICORN_CONNECTIONS_PER_SOURCE", "100"))
        self.open_by_source: Counter[str] = Counter()

    def handle(self, listener, client, addr) -> None:
        source = addr[0] if isinstance(addr, tuple) else ""
        if self._over_limit(source):
            refuse(client)
            return
        self.open_by_source[source] += 1
        try:
            super().handle(listener, client, addr)
        finally:
            self.open_by_source[source] -= 1
            if self.open_by_source[source] <= 0:
                del self.open_by_source[source]

    def handle_request(self, listener_name, req, sock, addr):
        body = req.body = DeadlineBody(req.body, self.read_seconds)
        super().handle_request(listener_name, req, sock, addr)
        if body.timed_out:
            raise StopIteration  # the unread rest of the body cannot be skipped: close the connection

    def _over_limit(self, source: str) -> bool:
        """Over the cap, unless `source` is a proxy gunicorn trusts (FORWARDED_ALLOW_IPS): a router
        sends every client from its own few addresses, and must never be starved."""
        if not self.per_source or self.open_by_source[source] < self.per_source:
            return False
        return not trusted_proxy(source, self.cfg.forwarded_allow_ips)


def trusted_proxy(source: str, allowed) -> bool:
    if "*" in allowed:
        return True
    try:
        ip = ipaddress.ip_address(source)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry.strip(), strict=False) for entry in allowed if entry.strip())


def refuse(client) -> None:
    try:
        client.sendall(TOO_MANY)
    except OSError:
        pass
    finally:
        client.close()
