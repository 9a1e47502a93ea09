"""The server key never reaches a page, an error page, an e-mail or a log; the client key is the only one shown.

The keys are set to distinctive values for these tests. Pages are every route of the walk as every
role, error pages are forced, and e-mails and logs (at DEBUG) are captured over a whole
checkout + notification flow against the fake Midtrans.
"""
import base64
import io
import logging
import re

import pytest
from flask import abort

from shop.extensions import db, mail
from shop.orders.models import OrderStatus
from shop.payments.gateway import sign
from shop.payments.models import Payment
from tests.factories import ProductFactory, UserFactory
from tests.payments.helpers import for_payment, post
from tests.security.walk import walk

SERVER_KEY = "SB-Mid-server-Zq7DoNotLeak4f1e"
CLIENT_KEY = "SB-Mid-client-visible9c2b"
ANY_MIDTRANS_KEY = re.compile(r"(?:SB-)?Mid-(?:server|client)-[A-Za-z0-9_-]+")
SERVER_KEY_FORMS = (SERVER_KEY, base64.b64encode(f"{SERVER_KEY}:".encode()).decode(), SERVER_KEY[len("SB-Mid-server-"):])


@pytest.fixture
def keys(app, monkeypatch):
    monkeypatch.setitem(app.config, "MIDTRANS_SERVER_KEY", SERVER_KEY)
    monkeypatch.setitem(app.config, "MIDTRANS_CLIENT_KEY", CLIENT_KEY)


def assert_no_secret(where: str, text: str) -> None:
    for form in SERVER_KEY_FORMS:
        assert form not in text, f"the server key is in {where}"
    assert set(ANY_MIDTRANS_KEY.findall(text)) <= {CLIENT_KEY}, f"a Midtrans key other than the client key in {where}"


def test_no_page_any_role_sees_holds_the_server_key(app, keys, world):
    visits = walk(app, world)
    read = [v for v in visits if v.body is not None]
    assert len(read) >= 40
    for v in read:
        assert_no_secret(f"{v.method} {v.path} as {v.role}", v.body + repr(v.headers))


@pytest.mark.parametrize("code", [403, 404, 413, 500])
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_error_pages_hold_no_key(app, client, keys, monkeypatch, code, accept):
    def fail():
        if code == 500:
            raise RuntimeError("boom while the server key was in use")
        abort(code)

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answer 500 as in production
    monkeypatch.setitem(app.view_functions, "catalog.index", fail)
    response = client.get("/", headers={"Accept": accept})
    assert response.status_code == code
    assert_no_secret(f"the {code} page ({accept})", response.get_data(as_text=True))


@pytest.mark.parametrize("data", [
    {"product_id": "1", "x": "y" * (1024 * 1024)},
    {"product_id": "1", "upload": (io.BytesIO(b"y" * (1536 * 1024)), "big.bin")},  # a file part is not held in memory
], ids=["form field", "file part"])
def test_a_body_over_one_megabyte_gets_the_413_page_without_a_key(client, keys, data):
    response = client.post("/keranjang/tambah", data=data)
    assert response.status_code == 413
    assert_no_secret("the 413 page", response.get_data(as_text=True))


def test_checkout_and_notification_flow_leaks_no_key_to_pages_mails_or_logs(app, client, keys, midtrans, caplog):
    product = ProductFactory(name="Kopi Gayo", price=75000, stock=5)
    shopper = UserFactory(email="budi@example.com")
    db.session.commit()
    pages = []
    with caplog.at_level(logging.DEBUG), mail.record_messages() as outbox:
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = shopper.get_id(), True
        pages.append(client.post("/keranjang/tambah", data={"product_id": product.id, "quantity": 2},
                                         follow_redirects=True))
        pages.append(client.get("/checkout"))
        checkout = client.post("/checkout", data={"name": "Budi", "phone": "081234567890",
                                                          "address": "Jl. Merdeka No. 1, Jakarta"})
        assert checkout.status_code == 303 and checkout.headers["Location"].startswith(midtrans.url)
        payment = db.session.scalars(db.select(Payment)).one()
        body = sign(for_payment(payment), SERVER_KEY)
        # The forgery first: its rollback in this test's shared session would undo what came before.
        pages.append(post(client, {**body, "signature_key": "0" * 128}))
        pages.append(post(client, body))
    db.session.expire_all()
    assert payment.order.status is OrderStatus.SUCCESS and len(outbox) == 1  # the flow really ran
    # The key was in use all along: it went to Midtrans, and only there.
    assert midtrans.snap_creates()[0].headers["Authorization"] == \
        "Basic " + SERVER_KEY_FORMS[1]
    for response in pages + [checkout]:
        assert_no_secret(f"the page of {response.request.path}", response.get_data(as_text=True) + repr(response.headers))
    for message in outbox:
        assert_no_secret("the payment e-mail", f"{message.subject}\n{message.body}\n{message.html}")
    assert caplog.records, "the flow logged nothing"
    assert_no_secret("the log", caplog.text)
    assert body["signature_key"] not in caplog.text and "0" * 128 not in caplog.text
