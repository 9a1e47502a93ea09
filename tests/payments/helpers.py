"""Midtrans notification bodies for the payments tests: real sample shapes, signed with the test key."""
import json
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderLine
from shop.payments.gateway import sign
from shop.payments.models import Notification, Payment, PaymentStatus
from tests.factories import OrderFactory, PaymentFactory, ProductFactory

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "midtrans"
TEST_KEY = "SB-Mid-server-test"
URL = "/api/midtrans/notification"


def sample(name: str) -> dict:
    """A sample body from tests/fixtures/midtrans, without the fixtures' `_comment` key."""
    body = json.loads((SAMPLES / name).read_text())
    body.pop("_comment", None)
    return body


def notification_samples() -> list[str]:
    """Every webhook body among the samples (the api_* files are API answers, not notifications)."""
    return sorted(p.name for p in SAMPLES.glob("*.json") if not p.name.startswith("api_"))


def signed(body: dict, **changes) -> dict:
    """`body` with `changes`, re-signed with the test server key."""
    return sign({**body, **changes}, TEST_KEY)


def for_payment(payment, name: str = "fixture_credit_card_settlement_sbtest.json", **changes) -> dict:
    """A signed sample notification for `payment` (its order id and amount)."""
    return signed(sample(name), **{"order_id": payment.midtrans_order_id,
                                   "gross_amount": f"{payment.gross_amount}.00", **changes})


def post(client, body, path: str = URL):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json")


def committed_payment():
    """A payment of 150.000 for two reserved units of a product with 3 left, really committed."""
    product = ProductFactory(price=75000, stock=3)
    order = OrderFactory(total=150000, lines=[], user__password_hash="not-used-here")
    order.lines.append(OrderLine(product=product, sku=product.sku, name=product.name, unit_price=75000, quantity=2))
    payment = PaymentFactory(order=order, gross_amount=150000)
    db.session.commit()
    return payment


def ago(**delta):
    return utcnow() - timedelta(**delta)


def stale(status=PaymentStatus.PENDING, created=None, **columns) -> Payment:
    """A committed payment of 150.000 (2 units reserved, 3 left), two hours old unless told."""
    payment = committed_payment()
    payment.status = status
    payment.created_at = created or ago(hours=2)
    payment.expires_at = columns.pop("expires_at", utcnow() + timedelta(hours=20))
    for name, value in columns.items():
        setattr(payment, name, value)
    db.session.commit()
    return payment


def settles(midtrans, payment, key=None, **changes) -> dict:
    """A signed BCA VA settlement for `payment`; the fake's GET status answers the same, by the order id
    and the transaction id (or by `key` alone). `changes` go into the body (transaction_status="expire")."""
    changes.setdefault("transaction_id", f"tx-{payment.midtrans_order_id}")
    body = for_payment(payment, "bank_transfer_bca_settlement.json", **changes)
    midtrans.answers_status(body, *([key] if key else [payment.midtrans_order_id, body["transaction_id"]]))
    return body


def status_calls(midtrans) -> list[str]:
    return [call.path for call in midtrans.calls("GET", "/v2/")]


def fresh(model, ident):
    """The row as the database holds it now (what another process committed included)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def history(payment_id: int) -> list[Notification]:
    """The payment's notifications, oldest first, as the database holds them now."""
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(Notification.payment_id == payment_id)
                              .order_by(Notification.id)).all()


def run_now(app, name: str):
    """Run the task `name` now, retries included, as a worker would (eagerly); returns its result."""
    task = app.extensions["celery"].tasks[name]

    def run(*args):
        result = task.apply(args=list(args))
        db.session.expire_all()
        return result

    return run


def wait_until(condition, what: str, timeout: float = 30.0):
    """Poll `condition` until it returns something true, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
