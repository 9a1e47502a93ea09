"""The app factory, settings and the schema."""
import logging
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import OperationalError

from shop import create_app
from shop.celery_config import celery_settings
from shop.config import ConfigError, settings_from_env
from shop.extensions import db
from shop.celery_config import RETRY_CAP_SECONDS


def test_models_and_migrations_agree(app):
    diff = compare_metadata(MigrationContext.configure(db.session.connection()), db.metadata)
    assert diff == []


def test_embedded_default_needs_no_server(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MIDTRANS_SERVER_KEY", "SHOP_PRODUCTION"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["CACHE_TYPE"] == "SimpleCache"
    assert app.config["CELERY"]["task_always_eager"] is True
    assert app.config["MIDTRANS_EMULATOR"] is True
    assert app.config["MIDTRANS_API_BASE_URL"].endswith("/_emulator/midtrans")


def test_in_process_tasks_queue_without_broker_warnings(monkeypatch, tmp_path, caplog):
    # Celery still takes a producer from the broker's pool for an in-process task: on a broker
    # URL without a host, kombu logged "No hostname was supplied" at every payment in bin/dev.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    celery_app = app.extensions["celery"]
    ran = []

    @celery_app.task(name="test.in_process", shared=False)
    def in_process(value):
        ran.append(value)

    caplog.clear()  # the emulator's start-up warning
    with caplog.at_level(logging.WARNING), app.app_context():
        in_process.apply_async(("paid",))
    assert ran == ["paid"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_redis_url_switches_broker_and_cache(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["CACHE_TYPE"] == "RedisCache"
    assert app.config["CELERY"]["broker_url"] == "redis://127.0.0.1:6379/3"
    assert app.config["CELERY"]["task_always_eager"] is False


def test_rabbitmq_broker_confirms_publishes_and_keeps_the_redis_cache(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/shop")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["CACHE_TYPE"] == "RedisCache"
    assert app.config["CELERY"]["broker_url"] == "amqp://guest:guest@127.0.0.1:5672/shop"
    # visibility_timeout is Redis's alone; RabbitMQ holds unacked messages for the connection's life.
    assert app.config["CELERY"]["broker_transport_options"] == {"confirm_publish": True}


@pytest.mark.parametrize("broker, holds_unacked_for", [
    ("redis://127.0.0.1:6379/3", 2 * 60 * 60),  # the visibility timeout
    ("amqp://guest:guest@127.0.0.1:5672/shop", 30 * 60),  # RabbitMQ's default consumer_timeout
])
def test_the_broker_holds_a_waiting_retry_longer_than_its_longest_countdown(broker, holds_unacked_for):
    # A worker holds a retry unacked until its countdown is over, then runs it for up to the hard limit.
    settings = celery_settings(broker, "")
    assert settings["broker_transport_options"].get("visibility_timeout", holds_unacked_for) == holds_unacked_for
    assert RETRY_CAP_SECONDS + settings["task_time_limit"] < holds_unacked_for


def test_production_names_the_missing_secret(monkeypatch):
    monkeypatch.setenv("SHOP_PRODUCTION", "1")
    for name in ("SECRET_KEY", "MIDTRANS_SERVER_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY.*MIDTRANS_SERVER_KEY"):
        create_app()


def test_postgres_url_gets_the_psycopg_driver():
    settings = settings_from_env({"DATABASE_URL": "postgres://u:p@db:5432/shop"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/shop"


def test_postgresql_gets_a_fixed_pool_and_sqlite_keeps_its_own(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "7")
    postgres = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1/none"})
    sqlite = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    options = postgres.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"]) == (7, 0)
    assert "pool_size" not in sqlite.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})


def test_postgresql_connections_give_up_on_a_host_that_does_not_answer(monkeypatch):
    # A server that takes the TCP connection and never speaks: psycopg alone would wait 130 s.
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "1")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://u@127.0.0.1:{port}/none"})
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 1}
        outcome = []

        def connect():
            with app.app_context():
                try:
                    db.engine.connect().close()
                except OperationalError as error:
                    outcome.append(error)

        attempt = threading.Thread(target=connect, daemon=True)
        attempt.start()
        attempt.join(30)  # a bound for the test run, far above the setting
        assert not attempt.is_alive(), "still connecting: the connect timeout was not applied"
    assert len(outcome) == 1 and "timeout" in str(outcome[0]).lower()


def test_a_connect_timeout_in_the_database_url_wins():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1/none?connect_timeout=2"})
    assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_base_url_follows_port_unless_it_is_set():
    """`PORT=5100 bin/dev` in one terminal, `flask ...` with only PORT exported in another: both agree."""
    assert settings_from_env({})["BASE_URL"] == "http://127.0.0.1:5000"
    assert settings_from_env({"PORT": "5100"})["BASE_URL"] == "http://127.0.0.1:5100"
    assert settings_from_env({"PORT": "5100", "BASE_URL": "https://toko.example/"})["BASE_URL"] == "https://toko.example"


@pytest.mark.parametrize("entry", [["flask", "--app", "wsgi", "shop", "show-order", "1"],
                                   ["celery", "-A", "celery_worker", "inspect", "ping"]])
def test_a_missing_production_setting_is_one_line_and_exit_status_1(entry, tmp_path):
    root = Path(__file__).resolve().parent.parent
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SHOP_PRODUCTION": "1", "SECRET_KEY": "short"}
    done = subprocess.run([str(root / ".venv" / "bin" / entry[0]), *entry[1:]], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == ["Toko Kita cannot start: SHOP_PRODUCTION is on but these settings are "
                                        "missing: DATABASE_URL, BASE_URL, REDIS_URL, MIDTRANS_SERVER_KEY, "
                                        "MIDTRANS_CLIENT_KEY"]


def test_the_favicon_is_linked_and_served(client):
    page = client.get("/").get_data(as_text=True)
    icon = client.get("/static/favicon.svg")
    old_style = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    assert old_style.status_code == 301 and old_style.location.endswith("/static/favicon.svg")


def test_every_page_starts_with_a_skip_link_to_its_content(client):
    page = client.get("/login").get_data(as_text=True)

    assert page.index('<a class="skip-link" href="#isi">Langsung ke isi</a>') < page.index("<header")
    assert '<main id="isi" tabindex="-1">' in page and '<html lang="id">' in page


@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_the_bound_on_status_calls_in_flight_is_a_whole_number_of_at_least_one(value):
    with pytest.raises(ConfigError, match="MIDTRANS_STATUS_CONCURRENCY"):
        settings_from_env({"MIDTRANS_STATUS_CONCURRENCY": value})


def test_status_calls_in_flight_default_to_the_worker_threads():
    assert settings_from_env({})["MIDTRANS_STATUS_CONCURRENCY"] == 32
    assert settings_from_env({"MIDTRANS_STATUS_CONCURRENCY": "4"})["MIDTRANS_STATUS_CONCURRENCY"] == 4
