"""/healthz: database and broker reachability for the platform's health check."""
import os

from sqlalchemy.exc import OperationalError

from shop import health


def test_healthy_embedded_default_has_no_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "broker": "not used"}


def test_database_down_is_503(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(health.db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "down"


def test_unreachable_broker_is_503(app, client, monkeypatch):
    celery = app.extensions["celery"]
    monkeypatch.setattr(celery.conf, "task_always_eager", False)
    monkeypatch.setattr(celery.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["broker"] == "down"


def test_reachable_redis_broker_is_ok(app, client, monkeypatch):
    celery = app.extensions["celery"]
    monkeypatch.setattr(celery.conf, "task_always_eager", False)
    monkeypatch.setattr(celery.conf, "broker_url", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["broker"] == "ok"
