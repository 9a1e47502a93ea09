"""A real gunicorn (the shop's gunicorn.conf.py: gevent workers) and Debian's Chromium.

The test process plays the Celery worker: it commits a status change, clears the pages and sends
`order_status_changed`, which its own app publishes on Redis for the server's listener.
"""
import os

import pytest
from playwright.sync_api import sync_playwright

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import cache, db
from tests.browser.server import REDIS_URL, SECRET_KEY, database_uri, start_gunicorn, stop
from tests.orders.helpers import ensure_user_loader

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
    ensure_user_loader()
    live = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=database_uri(app),
                           REDIS_URL=REDIS_URL, SECRET_KEY=SECRET_KEY))
    with live.app_context():
        cache.clear()
    return live


@pytest.fixture(scope="module")
def push_server(app, live_app, tmp_path_factory):
    process, url = start_gunicorn(database_uri(app), tmp_path_factory.mktemp("gunicorn") / "push.log", push=True)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def poll_server(app, live_app, tmp_path_factory):
    process, url = start_gunicorn(database_uri(app), tmp_path_factory.mktemp("gunicorn") / "poll.log", push=False)
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
