"""A real gunicorn (the shop's gunicorn.conf.py: gevent workers) and Debian's Chromium.

Notifications go to the server over HTTP, signed like Midtrans's; a real Celery worker applies
them from Redis, clears the cached pages and publishes the change the page's stream is waiting for.
"""
import os

import pytest
from playwright.sync_api import sync_playwright

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import cache
from tests.factories import PASSWORD
from tests.browser.server import REDIS_URL, SECRET_KEY, database_uri, start_gunicorn, start_worker, stop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def live_app(app):
    """An app like the server's (same database, Redis cache and push) for the test to act with."""
    live = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=database_uri(app),
                           REDIS_URL=REDIS_URL, SECRET_KEY=SECRET_KEY))
    with live.app_context():
        cache.clear()
    return live


@pytest.fixture(scope="module")
def worker(app, live_app, tmp_path_factory):
    process = start_worker(database_uri(app), tmp_path_factory.mktemp("celery") / "worker.log")
    yield process
    stop(process)


@pytest.fixture(scope="module")
def push_server(app, live_app, worker, tmp_path_factory):
    process, url = start_gunicorn(database_uri(app), tmp_path_factory.mktemp("gunicorn") / "push.log", push=True)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def poll_server(app, live_app, worker, tmp_path_factory):
    process, url = start_gunicorn(database_uri(app), tmp_path_factory.mktemp("gunicorn") / "poll.log", push=False)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def fake_midtrans_server(app, live_app, _midtrans_server, tmp_path_factory):
    """The shop under gunicorn, talking to the test's fake Midtrans."""
    process, url = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"],
                                  tmp_path_factory.mktemp("gunicorn") / "fake-midtrans.log", push=False,
                                  midtrans_url=_midtrans_server.url)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """A page in a fresh browser context, logged in through the login form when `user` is given."""
    contexts = []

    def open_page(base_url: str, user=None, viewport=(1000, 900)):
        context = browser.new_context(base_url=base_url, viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        if user is not None:
            log_in(page, user.email)
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk").click()


def pytest_terminal_summary(terminalreporter):
    """The width and axe-core result of every page the run measured (tests/browser/test_every_page.py)."""
    from tests.browser.layout import RESULTS, report
    if RESULTS:
        terminalreporter.section("page widths and axe-core")
        terminalreporter.write(report())
