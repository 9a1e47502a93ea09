"""The web process under attack by slow clients: gunicorn with the shop's gunicorn.conf.py, for real.

Before, a body sent a byte at a time held its connection for ever (1,000 of them held every
connection of a worker), and one address could open every connection there was.
"""
import json
import socket

import pytest
import requests

from tests.browser.server import database_uri, start_gunicorn, stop

pytestmark = pytest.mark.integration
READ_SECONDS, PER_SOURCE = 1, 3
WAIT = 20  # seconds; only an upper bound on waiting for an answer that should come at once


@pytest.fixture
def web(app, tmp_path, monkeypatch):
    """gunicorn on loopback with a 1-second read deadline, 3 connections per source; loopback is no proxy."""
    monkeypatch.setenv("GUNICORN_REQUEST_READ_SECONDS", str(READ_SECONDS))
    monkeypatch.setenv("GUNICORN_CONNECTIONS_PER_SOURCE", str(PER_SOURCE))
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")
    process, url = start_gunicorn(database_uri(app), tmp_path / "gunicorn.log", push=False)
    yield url
    stop(process)


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=WAIT)
    return sock


def answer(sock: socket.socket) -> bytes:
    """Whatever the server sends until it closes the connection (b"" when it closes without a word)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_slow_body_gets_408_while_others_are_served(web):
    slow = connect(web)
    slow.sendall(b"POST /api/midtrans/notification HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 2000\r\n\r\n{\"order_id\"")
    assert requests.get(web + "/static/shop.css", timeout=WAIT).status_code == 200  # the worker answers others
    reply = answer(slow)
    slow.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body)["error"] == "request_timeout"


def test_one_source_holds_a_few_connections_at_most(web):
    held = [connect(web) for _ in range(PER_SOURCE)]
    for sock in held:
        sock.sendall(b"GET /static/shop.css HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"  # each is now being served, and kept alive
    extra = connect(web)  # refused on arrival, before it sends anything (an unread request would reset)
    assert answer(extra).startswith(b"HTTP/1.1 429")
    extra.close()
    for sock in held:
        sock.close()
