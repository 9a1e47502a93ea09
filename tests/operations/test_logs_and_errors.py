"""Structured logs (LOG_FORMAT=json) and Sentry's scrubber: no server key, signature or shopper e-mail leaves."""
import base64
import gzip
import io
import json
import logging
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from shop import logs
from tests.payments.processes import ROOT
from shop.error_reporting import init_error_reporting, scrub
from shop.extensions import db
from shop.payments import receiving
from shop.payments.models import Payment, PaymentStatus
from tests.payments.helpers import TEST_KEY, for_payment, post

SIGNATURE = "a" * 64 + "0123456789abcdef" * 4


@pytest.fixture
def json_lines(app, caplog):
    """A handler prepared as create_app prepares the shop's (LOG_FORMAT=json), writing into a buffer."""
    caplog.set_level(logging.INFO)  # as create_app sets it (the migrations' logging config lowered it)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logs.prepare_handler(handler, "json", logs.secrets_of(app.config))
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def test_a_notification_flow_logs_json_lines_with_its_ids_and_never_a_secret(app, client, payment, verify_status,
                                                                          process, json_lines):
    body = for_payment(payment, transaction_id="tx-logs")
    verify_status.answers_status(body)
    logging.getLogger("shop.test").warning("body was %s", json.dumps(body))  # as a careless log line would
    assert post(client, {**body, "signature_key": "f" * 128}).status_code == 400
    stored = receiving.record_notification(json.dumps(body).encode())  # as the webhook stores it
    db.session.commit()
    assert process(stored.id) == "APPLIED"  # GET status with the server key, then applied
    assert db.session.get(Payment, payment.id).status is PaymentStatus.SUCCESS
    text = json_lines.getvalue()
    assert TEST_KEY not in text and body["signature_key"] not in text and "f" * 128 not in text
    assert base64.b64encode(f"{TEST_KEY}:".encode()).decode() not in text
    events = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    [applied] = [e for e in events if e.get("outcome") == "APPLIED"]
    assert applied["order_id"] == payment.order_id and applied["midtrans_order_id"] == payment.midtrans_order_id
    assert isinstance(applied["notification_id"], int) and applied["duration_ms"] >= 0


def test_the_text_format_is_redacted_too(app):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s sig %s", (TEST_KEY, SIGNATURE), None)
    logs.Redact(logs.secrets_of(app.config)).filter(record)
    assert record.getMessage() == "key [disaring] sig [disaring]"


def test_sentrys_scrubber_blanks_the_server_key_signatures_and_emails(app):
    event = {"message": f"failed with key {TEST_KEY}",
             "exception": {"values": [{"value": f"budi@example.com paid; signature {SIGNATURE}"}]},
             "request": {"headers": {"Authorization": "Basic abc", "User-Agent": "Veritrans"},
                         "data": json.dumps({"order_id": "TK-1-1", "signature_key": SIGNATURE})},
             "breadcrumbs": {"values": [{"message": "mail to siti.nur+toko@mail.co.id"}]},
             "user": {"email": "budi@example.com", "id": 7}}
    clean = json.dumps(scrub(event, logs.secrets_of(app.config)))
    for secret in (TEST_KEY, SIGNATURE, "budi@example.com", "siti.nur+toko@mail.co.id", "Basic abc"):
        assert secret not in clean
    assert "TK-1-1" in clean and "Veritrans" in clean and '"id": 7' in clean


def test_nothing_starts_without_a_dsn(app):
    assert init_error_reporting({**app.config, "SENTRY_DSN": ""}) is False


SENTRY_SCRIPT = """
import sentry_sdk
from shop.error_reporting import init_error_reporting
assert init_error_reporting({{"SENTRY_DSN": "{dsn}", "SHOP_PRODUCTION": False, "MIDTRANS_SERVER_KEY": "{key}"}})
try:
    raise RuntimeError("Midtrans refused {key} for budi@example.com, signature {signature}")
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(5)
"""


def test_an_error_reaches_sentry_scrubbed():
    received, server = [], HTTPServer(("127.0.0.1", 0), None)

    class Envelope(BaseHTTPRequestHandler):
        def do_POST(self):
            data = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(gzip.decompress(data) if self.headers.get("Content-Encoding") == "gzip" else data)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Envelope
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # In a process of its own: sentry-sdk patches Celery for good once started.
    script = SENTRY_SCRIPT.format(dsn=f"http://public@127.0.0.1:{server.server_port}/1", key=TEST_KEY, signature=SIGNATURE)
    try:
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
    finally:
        server.shutdown()
    sent = b"".join(received).decode()
    assert "Midtrans refused [disaring] for [disaring], signature [disaring]" in sent
    assert TEST_KEY not in sent and "budi@example.com" not in sent and SIGNATURE not in sent
