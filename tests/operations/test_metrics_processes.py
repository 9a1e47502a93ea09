"""/metrics read from the real shop: gunicorn with 2 workers and a Celery worker with 2 pool processes.

A known sequence of notifications (stored, refused by signature, unknown order, applied,
duplicate, reconciled) must give exactly the expected values: the webhook's counters are
recorded by whichever gunicorn worker answered, the processing's by Celery pool processes, and
every scrape (answered by either web worker) adds up all of them.
"""
import json
from pathlib import Path

import pytest
import requests
from celery import Celery
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from shop.payments.models import Payment, PaymentStatus
from tests.payments.helpers import URL, committed_payment, for_payment, fresh, settles, signed, wait_until
from tests.payments.processes import REDIS_URL, Processes, free_port, process_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
TIMEOUT = 45.0
TOKEN = "metrics-test-token"


def scrape(base: str) -> dict:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    answer = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def shop(tmp_path, midtrans, smtp):
    _, smtp_port = smtp
    env = {**process_env(smtp_port, midtrans.url, free_port()), "WEB_CONCURRENCY": "2",
           "METRICS_DIR": str(tmp_path / "metrics"), "METRICS_TOKEN": TOKEN,
           "METRICS_SNAPSHOT_SECONDS": "0"}  # exact values right after each change
    processes = Processes(tmp_path, env)
    yield processes
    processes.stop_all()


def test_a_known_sequence_gives_exactly_the_expected_metrics(app, clean_db, broker, midtrans, shop, tmp_path):
    paid_by_webhook, paid_by_reconciler = committed_payment(), committed_payment()
    body = for_payment(paid_by_webhook, transaction_id="tx-webhook")
    midtrans.answers_status(body, paid_by_webhook.midtrans_order_id, "tx-webhook")
    settles(midtrans, paid_by_reconciler)
    paid_by_reconciler.status = PaymentStatus.PENDING
    clean_db.session.commit()

    url = shop.web("web")
    base = url[: -len(URL)]
    shop.worker("worker", pool="prefork", concurrency=2)
    wait_until(lambda: b"ready." in (tmp_path / "worker.log").read_bytes(), "the worker", TIMEOUT)

    post = lambda b: requests.post(url, data=json.dumps(b), headers={"Content-Type": "application/json"}, timeout=10)
    assert post(body).status_code == 200  # stored, then applied
    assert post({**body, "signature_key": "0" * 128}).status_code == 400  # refused: signature
    assert post(signed(body, order_id="TK-404-1-unknown")).status_code == 404  # refused: unknown order
    wait_until(lambda: fresh(Payment, paid_by_webhook.id).status is PaymentStatus.SUCCESS, "applied", TIMEOUT)
    assert post(body).status_code == 200  # Midtrans sends it again: a duplicate
    Celery(broker=REDIS_URL, set_as_current=False).send_task(
        "payments.reconcile_payment", args=[paid_by_reconciler.id], queue="reconcile")
    wait_until(lambda: fresh(Payment, paid_by_reconciler.id).status is PaymentStatus.SUCCESS, "reconciled", TIMEOUT)
    wait_until(lambda: value(scrape(base), "shop_emails_total", kind="order.paid", result="sent") == 2
               and value(scrape(base), "shop_notifications_processed_total", outcome="duplicate") == 1,
               "the duplicate and both e-mails to be counted", TIMEOUT)

    for _ in range(6):  # whichever web worker answers the scrape, the same numbers
        samples = scrape(base)
        assert expected_values(samples) == EXPECTED
    assert counted_by(tmp_path / "metrics") >= 3  # a web worker and pool processes wrote what was summed


EXPECTED = {
    ("shop_webhook_notifications_total", "stored", "", "settlement"): 2,
    ("shop_webhook_notifications_total", "refused", "bad_signature", ""): 1,
    ("shop_webhook_notifications_total", "refused", "unknown_order", ""): 1,
    "shop_webhook_duration_seconds_count": 4,
    ("shop_notifications_processed_total", "applied"): 1,
    ("shop_notifications_processed_total", "duplicate"): 1,
    "shop_notification_lag_seconds_count": 1,
    ("shop_reconcile_checks_total", "applied"): 1,
    "shop_reconcile_settled_payments_total": 1,
    "shop_reconcile_settled_last_hour": 1,
    ("shop_emails_total", "order.paid", "sent"): 2,
    "shop_notifications_waiting": 0,
    "shop_payments_open": 0,
}


def expected_values(samples: dict) -> dict:
    found = {}
    for key in EXPECTED:
        if isinstance(key, str):
            found[key] = value(samples, key)
        elif key[0] == "shop_webhook_notifications_total":
            found[key] = value(samples, key[0], outcome=key[1], reason=key[2], transaction_status=key[3])
        elif key[0] == "shop_emails_total":
            found[key] = value(samples, key[0], kind=key[1], result=key[2])
        else:
            label = "result" if key[0] == "shop_reconcile_checks_total" else "outcome"
            found[key] = value(samples, key[0], **{label: key[1]})
    return found


def counted_by(metrics_dir: Path) -> int:
    """How many processes recorded a webhook answer or a processed notification."""
    pids = set()
    for path in metrics_dir.glob("*/counter_*.db"):
        for family in MultiProcessCollector.merge([str(path)]):
            if family.name in ("shop_webhook_notifications", "shop_notifications_processed") and \
                    any(s.value for s in family.samples if s.name.endswith("_total")):
                pids.add(path.name)
    return len(pids)


def test_metrics_refuses_without_credentials(shop, tmp_path):
    base = shop.web("web")[: -len(URL)]
    assert requests.get(base + "/metrics", timeout=10).status_code == 401
    assert requests.get(base + "/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    assert (tmp_path / "metrics" / "web").is_dir()  # gunicorn's start made its own directory there
