"""/metrics in the test process: credentials, production, and what the webhook counts."""
import base64

import pytest
from flask_mail import Message
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


def test_open_streams_and_pushes_are_counted():
    from shop.orders.push import StatusHub

    hub, open_before = StatusHub(), metrics.PUSH_STREAMS._value.get()
    pushes = _registry_value("shop_pushes_sent_total", {})
    first, second = hub.open(7), hub.open(7)
    assert metrics.PUSH_STREAMS._value.get() - open_before == 2
    hub.deliver(7, "SUCCESS")
    assert _registry_value("shop_pushes_sent_total", {}) - pushes == 2  # one per open page
    hub.close(7, first)
    hub.close(7, first)  # closed twice (a disconnect and a timeout): counted once
    hub.close(7, second)
    assert metrics.PUSH_STREAMS._value.get() == open_before


def test_outbox_emails_are_counted_sent_and_failed_by_kind(app, monkeypatch):
    from shop.extensions import mail
    from shop.outbox import services as outbox
    from shop.outbox.tasks import send_email

    monkeypatch.setitem(outbox.RENDERERS, "order.paid", lambda key: Message("Lunas", recipients=["a@example.com"]))
    monkeypatch.setattr(outbox, "claim", lambda email_id: outbox.Claim(email_id, "order.paid", "k", 1))
    monkeypatch.setattr(outbox, "record", lambda *args, **kwargs: True)
    monkeypatch.setattr(outbox, "release", lambda *args: None)
    sent, failed = ({"kind": "order.paid", "result": r} for r in ("sent", "failed"))
    before = [_registry_value("shop_emails_total", labels) for labels in (sent, failed)]
    send_email.run(1)
    monkeypatch.setattr(mail, "send", _refuse)
    with pytest.raises(ConnectionRefusedError):
        send_email.run(2)
    after = [_registry_value("shop_emails_total", labels) for labels in (sent, failed)]
    assert [a - b for a, b in zip(after, before)] == [1, 1]


def _refuse(message):
    raise ConnectionRefusedError("the mail server refused")


@pytest.mark.parametrize("argv, role", [
    (["celery", "-A", "celery_worker", "worker", "--concurrency=4"], "worker"),  # the Procfile's worker
    (["celery", "-A", "celery_worker", "worker", "--beat", "--hostname=beat@%h"], "beat"),  # the Procfile's beat
    (["celery", "-A", "celery_worker", "worker", "-n", "worker2@%h"], "worker2"),
    (["celery", "-A", "celery_worker", "flower", "--port=5555"], None),  # records nothing of its own
])
def test_each_celery_node_gets_a_metrics_directory_named_after_it(argv, role):
    from metrics_dir import celery_role

    assert celery_role(argv) == role


def test_a_web_process_reuses_its_database_read_for_a_few_seconds(monkeypatch):
    from shop.operations import collector

    reads, now = [], [100.0]
    monkeypatch.setattr(collector, "_last", [])
    monkeypatch.setattr(collector, "take_snapshot", lambda moment: reads.append(moment) or len(reads))
    clock = lambda: now[0]  # noqa: E731

    assert collector.recent_snapshot(5, clock) == 1
    now[0] = 104.9
    assert collector.recent_snapshot(5, clock) == 1  # within 5 s: the same read
    now[0] = 105.0
    assert collector.recent_snapshot(5, clock) == 2  # 5 s old: read again
    assert collector.recent_snapshot(0, clock) == 3  # 0: every scrape reads
    assert len(reads) == 3
