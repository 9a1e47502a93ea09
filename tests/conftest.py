"""Shared fixtures: one app per session, one rolled-back transaction per test.

The database is TEST_DATABASE_URL (bin/test runs the suite on PostgreSQL, then on SQLite);
unset, a SQLite file in a temporary folder. The schema is built by running the migrations.
"""
import os
from contextlib import nullcontext

import pytest
from flask_migrate import upgrade
from sqlalchemy import Connection, event, text

from shop import create_app
from shop.config import TEST_SETTINGS
from shop import extensions
from shop.extensions import cache, db
from tests.midtrans_fake import FakeServer


def pytest_configure(config):
    for marker, meaning in {
        "postgres": "needs PostgreSQL (row locks, concurrency); skipped on SQLite runs",
        "integration": "starts real processes or servers (worker, broker, browser)",
        "browser": "drives Debian's Chromium",
    }.items():
        config.addinivalue_line("markers", f"{marker}: {meaning}")


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    settings = dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=database_url(tmp_path_factory))
    app = create_app(settings)
    outside_tests = extensions.autocommit_connection
    extensions.autocommit_connection = lambda: autocommit_connection_in_tests(outside_tests)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            fix_pysqlite_transactions(db.engine)
        drop_everything()
        upgrade()
    return app


def autocommit_connection_in_tests(outside_tests):
    """What the code commits on a connection of its own runs inside the test's one transaction too,
    when a test holds one (the per-test rollback below puts its connection in `db.engines`)."""
    bind = db.engines[None]
    return nullcontext(bind) if isinstance(bind, Connection) else outside_tests()


def drop_everything() -> None:
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def fix_pysqlite_transactions(engine) -> None:
    """SQLAlchemy's documented fix so SAVEPOINTs work on pysqlite."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


@pytest.fixture(autouse=True)
def _app_context(app):
    # Tests that build another app make its Celery the default; take it back for every test.
    app.extensions["celery"].set_default()
    with app.app_context():
        yield


@pytest.fixture(autouse=True)
def _rollback(app, request):
    """Run each test inside one outer transaction that is rolled back afterwards."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    engines = db.engines
    engine = engines[None]
    connection = engine.connect()
    transaction = connection.begin()
    engines[None] = connection
    db.session.remove()
    db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        db.session.remove()
        transaction.rollback()
        connection.close()
        engines[None] = engine
        cache.clear()


@pytest.fixture
def clean_db(app):
    """For tests whose other processes must see committed rows: empty every table afterwards."""
    yield db
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    cache.clear()


@pytest.fixture(autouse=True)
def _skip_postgres_only(request, app):
    if request.node.get_closest_marker("postgres") and db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL; bin/test runs this on PostgreSQL")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def _midtrans_server():
    # One server for the whole run, emptied per test by `midtrans`: stopping one costs a poll interval.
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def midtrans(app, _midtrans_server, monkeypatch):
    """A fake Midtrans over real HTTP on loopback, empty at the start of each test; the gateway is pointed at it."""
    fake = _midtrans_server
    fake.reset()
    monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", fake.url)
    monkeypatch.setitem(app.config, "MIDTRANS_SNAP_BASE_URL", fake.url + "/snap/v1")
    return fake


@pytest.fixture
def auth(client):
    """Log a user in and out through the real login form."""

    class Auth:
        def login(self, email="budi@example.com", password="rahasia123"):
            return client.post("/login", data={"email": email, "password": password})

        def logout(self):
            return client.post("/logout")

    return Auth()
