"""`bin/dev` as a developer runs it on another port: the README's commands from another terminal
with only PORT exported, and a payment whose notification never arrived settled by the in-process
reconciliation, with no worker and no beat."""
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from shop.config import EMULATOR_SERVER_KEY
from shop.emulator import notifications as shapes
from shop.emulator.store import EmulatorStore
from tests.browser.server import free_port, stop, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration
SETTLED_WITHIN = 60  # seconds, what bin/dev promises


@pytest.fixture
def dev(tmp_path):
    """`PORT=<free> bin/dev` on files of its own under tmp_path; yields (url, the other terminal's env)."""
    port = free_port()
    own = {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
           "MIDTRANS_EMULATOR_DB": str(tmp_path / "emulator.sqlite3"), "DEV_MAIL_DIR": str(tmp_path / "mail")}
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TEST_", "MIDTRANS_", "REDIS", "CELERY", "BASE_URL", "DATABASE_URL", "MAIL_"))}
    log_path = tmp_path / "dev.log"
    process = subprocess.Popen(["bin/dev"], cwd=ROOT, env=dict(clean, DEV_SKIP_SETUP="1", **own),
                               stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process, log_path)
        yield f"http://127.0.0.1:{port}", dict(clean, FLASK_APP="wsgi", **own), log_path, tmp_path
    finally:
        stop(process)


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def order_status(tmp_path: Path, order_id: int) -> str:
    with sqlite3.connect(tmp_path / "dev.db") as db:
        return db.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()[0]


def test_a_payment_whose_notification_failed_is_settled_within_a_minute(dev):
    url, terminal, log_path, tmp_path = dev
    placed = flask(terminal, "shop", "place-order", "--email", "pembeli@contoh.id", "--sku", "KOPI-GAYO-250",
                   "--qty", "1")
    assert placed.returncode == 0, placed.stderr
    order = json.loads(placed.stdout)
    assert order["redirect_url"].startswith(url)  # the emulator of the shop on PORT, not :5000
    pending = flask(terminal, "midtrans", "trigger", order["midtrans_order_id"], "pending", "--payment-type", "bca_va")
    assert pending.returncode == 0 and f"> POST {url}/api/midtrans/notification" in pending.stdout, pending.stderr
    # The emulator says settlement, but its notification never reached the shop.
    store = EmulatorStore(str(tmp_path / "emulator.sqlite3"))
    record = store.find_transaction(order["midtrans_order_id"])
    assert store.record_status(shapes.build_notification(record.txn, "settlement", EMULATOR_SERVER_KEY))
    assert order_status(tmp_path, order["order_id"]) == "PENDING"
    started = time.monotonic()
    while order_status(tmp_path, order["order_id"]) != "SUCCESS":
        assert time.monotonic() - started < SETTLED_WITHIN, log_path.read_text()[-3000:]
        time.sleep(0.5)
    print(f"settled {time.monotonic() - started:.1f} s after the lost notification")  # shown with -s
    assert "in-process periodic jobs every 20.0s" in log_path.read_text()
    assert "reconciled" in log_path.read_text()
    # ...and its e-mails are in the development inbox.
    inbox = requests.get(url + "/_dev/mail/", timeout=10).text
    assert f"Pembayaran pesanan #{order['order_id']} sudah diterima" in inbox
