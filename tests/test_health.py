"""/healthz: database and broker reachability for the platform's health check."""
import os

import pytest
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


@pytest.mark.parametrize("broker_url, status, reading", [
    ("redis://127.0.0.1:1/0", 503, "down"),  # nothing listens on port 1
    (os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), 200, "ok"),
])
def test_broker_reachability_decides(app, client, monkeypatch, broker_url, status, reading):
    celery = app.extensions["celery"]
    monkeypatch.setattr(celery.conf, "task_always_eager", False)
    monkeypatch.setattr(celery.conf, "broker_url", broker_url)
    response = client.get("/healthz")
    assert response.status_code == status
    assert response.json["broker"] == reading
