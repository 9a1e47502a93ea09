"""A real gunicorn (the shop's gunicorn.conf.py: gevent workers) and Debian's Chromium.

The test process plays the Celery worker: it commits a status change, clears the pages and sends
`order_status_changed`, which its own app publishes on Redis for the server's listener.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import cache, db
from tests.orders.helpers import ensure_user_loader

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"
SECRET_KEY = "browser-test-secret"
START_TIMEOUT = 30  # seconds; an upper bound for gunicorn to answer its first request


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_uri(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def start_gunicorn(app, log_path: Path, push: bool):
    port = free_port()
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1",
               DATABASE_URL=database_uri(app), REDIS_URL=REDIS_URL, SECRET_KEY=SECRET_KEY,
               MIDTRANS_SERVER_KEY="SB-Mid-server-test", MIDTRANS_EMULATOR="false",
               BASE_URL=f"http://127.0.0.1:{port}", STATUS_PUSH="true" if push else "false")
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "tests.browser.live_wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log_path)
    return process, url


def wait_until_serving(url: str, process, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + log_path.read_text())
        try:
            requests.get(url + "/", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer in time:\n" + log_path.read_text())


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def live_app(app):
    """An app like the server's (same database, Redis cache and push) for the test to act with."""
    ensure_user_loader()
    live = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=database_uri(app),
                           REDIS_URL=REDIS_URL, SECRET_KEY=SECRET_KEY))
    with live.app_context():
        cache.clear()
    return live


@pytest.fixture(scope="module")
def push_server(app, live_app, tmp_path_factory):
    process, url = start_gunicorn(app, tmp_path_factory.mktemp("gunicorn") / "push.log", push=True)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def poll_server(app, live_app, tmp_path_factory):
    process, url = start_gunicorn(app, tmp_path_factory.mktemp("gunicorn") / "poll.log", push=False)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_app):
    """A page in a fresh browser context, logged in as `user` when one is given."""
    contexts = []

    def open_page(base_url: str, user=None):
        context = browser.new_context(base_url=base_url, viewport={"width": 1000, "height": 900})
        contexts.append(context)
        if user is not None:
            context.add_cookies([{"name": "session", "value": session_cookie(live_app, user), "url": base_url}])
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def session_cookie(live_app, user) -> str:
    """The signed Flask session cookie of a logged-in `user` (until the login form is merged)."""
    serializer = live_app.session_interface.get_signing_serializer(live_app)
    return serializer.dumps({"_user_id": user.get_id(), "_fresh": True})
