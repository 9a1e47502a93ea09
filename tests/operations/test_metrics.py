"""/metrics in the test process: credentials, production, and what the webhook counts."""
import base64

import pytest

from prometheus_client import REGISTRY

from shop import metrics
from tests.payments.helpers import for_payment, post


def _registry_value(name: str, labels: dict) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token")
    return "s3cret-token"


def test_metrics_refuses_without_credentials_or_with_wrong_ones(client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert b"shop_payments_open " in answer.data and b"shop_webhook_duration_seconds_count" in answer.data


def test_metrics_takes_basic_auth_from_the_environment(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    monkeypatch.setitem(app.config, "METRICS_BASIC_AUTH", "prom:pa55")
    good = "Basic " + base64.b64encode(b"prom:pa55").decode()
    bad = "Basic " + base64.b64encode(b"prom:wrong").decode()
    assert client.get("/metrics", headers={"Authorization": good}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": bad}).status_code == 401


def test_metrics_is_not_found_in_production_without_credentials(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    monkeypatch.setitem(app.config, "SHOP_PRODUCTION", True)
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "SHOP_PRODUCTION", False)
    assert client.get("/metrics").status_code == 200  # development: open


def test_the_webhook_counts_each_answer_by_outcome_and_status(client, payment):
    stored = {"outcome": "stored", "reason": "", "transaction_status": "settlement"}
    refused = {"outcome": "refused", "reason": "bad_signature", "transaction_status": ""}
    before = [_registry_value("shop_webhook_notifications_total", labels) for labels in (stored, refused)]
    timed = _registry_value("shop_webhook_duration_seconds_count", {})
    body = for_payment(payment)
    assert post(client, body).status_code == 200
    assert post(client, {**body, "signature_key": "0" * 128}).status_code == 400
    after = [_registry_value("shop_webhook_notifications_total", labels) for labels in (stored, refused)]
    assert [a - b for a, b in zip(after, before)] == [1, 1]
    assert _registry_value("shop_webhook_duration_seconds_count", {}) - timed == 2


@pytest.mark.parametrize("given, label", [("settlement", "settlement"), ("SETTLEMENT", "settlement"),
                                          ("made-up", "other"), (None, ""), ("", "")])
def test_a_midtrans_status_label_is_one_of_a_few(given, label):
    assert metrics.midtrans_status(given) == label
