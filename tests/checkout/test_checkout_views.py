"""The checkout page end to end, with the fake Midtrans over real HTTP."""
import base64
import logging
from datetime import datetime, timedelta

import pytest

from shop.catalog.models import Product
from shop.checkout import workflow
from shop.extensions import db
from shop.orders.models import Order, OrderLine
from shop.payments.models import Payment
from tests.factories import UserFactory
from tests.midtrans_samples import sample

SHIPPING = {"name": "Budi Santoso", "phone": "0812-3456-7890", "address": "Jl. Merdeka No. 1, Jakarta Pusat"}
SNAP_PATH = "/snap/v1/transactions"


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(model))
                 for model in (Order, OrderLine, Payment))


def stock_of(*products) -> list[int]:
    db.session.expire_all()
    return [db.session.get(Product, p.id).stock for p in products]


def cart_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("cart", {}))


def test_checkout_page_shows_the_cart_and_prefills_the_name(client, shopper):
    page = client.get("/checkout").get_data(as_text=True)
    assert "Total: Rp 215.000" in page and 'value="Budi"' in page


def test_empty_cart_cannot_check_out(client, auth):
    UserFactory(email="budi@example.com")
    auth.login()
    response = client.get("/checkout", follow_redirects=True)
    assert "Keranjang Anda masih kosong." in response.get_data(as_text=True)


def test_happy_path_reserves_stock_and_sends_the_shopper_to_snap(app, client, shopper, midtrans):
    user, kopi, sambal = shopper
    response = client.post("/checkout", data=SHIPPING)

    assert response.status_code == 303
    payment = db.session.scalar(db.select(Payment))
    assert response.headers["Location"] == payment.redirect_url
    assert payment.redirect_url.startswith(midtrans.url + "/snap/v3/redirection/")
    order = payment.order
    assert (order.user_id, order.total, payment.gross_amount) == (user.id, 215000, 215000)
    assert stock_of(kopi, sambal) == [3, 0]
    assert cart_of(client) == {}

    (call,) = midtrans.calls("POST", SNAP_PATH)
    body = call.json()
    assert call.headers["Authorization"] == "Basic " + base64.b64encode(b"SB-Mid-server-test:").decode()
    assert call.headers["X-Override-Notification"] == "http://shop.test/api/midtrans/notification"
    assert body["transaction_details"] == {"order_id": payment.midtrans_order_id, "gross_amount": 215000}
    assert isinstance(body["transaction_details"]["gross_amount"], int)
    assert body["item_details"] == [
        {"id": "KOPI-1", "name": "Kopi Arabika Gayo", "price": 85000, "quantity": 2},
        {"id": "SAMBAL-1", "name": "Sambal Bawang", "price": 45000, "quantity": 1}]
    assert sum(i["price"] * i["quantity"] for i in body["item_details"]) == body["transaction_details"]["gross_amount"]
    assert body["callbacks"] == {"finish": f"http://shop.test/orders/{order.id}"}
    assert body["customer_details"]["email"] == "budi@example.com"
    assert body["customer_details"]["shipping_address"]["address"] == SHIPPING["address"]
    started = datetime.strptime(body["expiry"]["start_time"], "%Y-%m-%d %H:%M:%S %z")
    assert body["expiry"]["start_time"].endswith(" +0700")
    assert payment.expires_at == started + timedelta(minutes=app.config["PAYMENT_EXPIRY_MINUTES"])


@pytest.mark.parametrize("scripts, message, level, logged", [
    ([(401, sample("api_snap_create_401"))], workflow.MESSAGE_AUTH, logging.CRITICAL, "MIDTRANS_SERVER_KEY"),
    ([(400, sample("api_snap_create_400_validation"))], workflow.MESSAGE_REJECTED, logging.ERROR,
     "gross_amount is not equal to the sum of item_details"),
    ([(503, {"error_messages": ["down"]})] * 3, workflow.MESSAGE_UNAVAILABLE, logging.ERROR, "unavailable"),
], ids=["auth", "rejected", "unavailable"])
def test_snap_failure_leaves_nothing_behind_and_tells_the_shopper(client, shopper, midtrans, caplog,
                                                                    scripts, message, level, logged):
    _, kopi, sambal = shopper
    for status, body in scripts:
        midtrans.script("POST", SNAP_PATH, status, body)
    response = client.post("/checkout", data=SHIPPING)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)
    assert stock_of(kopi, sambal) == [5, 1]
    assert cart_of(client) == {str(kopi.id): 2, str(sambal.id): 1}  # kept, to try again
    assert any(r.levelno == level and logged in r.getMessage() for r in caplog.records)


def test_the_rejected_message_does_not_leak_midtrans_text(client, shopper, midtrans):
    midtrans.script("POST", SNAP_PATH, 400, sample("api_snap_create_400_validation"))
    page = client.post("/checkout", data=SHIPPING).get_data(as_text=True)
    assert "gross_amount" not in page


def test_an_unexpected_error_after_reserving_is_compensated_too(client, shopper, midtrans, monkeypatch):
    _, kopi, sambal = shopper

    def broken(order):
        raise RuntimeError("disk full")

    monkeypatch.setattr("shop.checkout.services.start_payment_attempt", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        client.post("/checkout", data=SHIPPING)
    assert counts() == (0, 0, 0)
    assert stock_of(kopi, sambal) == [5, 1]


def test_stock_gone_since_the_cart_was_filled(client, shopper, midtrans):
    _, kopi, sambal = shopper
    sambal.stock = 0
    db.session.commit()
    response = client.post("/checkout", data=SHIPPING, follow_redirects=True)
    assert "Stok Sambal Bawang tidak cukup: tersisa 0." in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)
    assert stock_of(kopi, sambal) == [5, 0]
    assert midtrans.calls() == []


@pytest.mark.parametrize("field, value, message", [
    ("phone", "nomor saya", "Nomor telepon tidak valid"),
    ("address", "Jl. A", "Alamat 10 sampai 500 karakter."),
    ("name", "   ", "Wajib diisi."),
])
def test_bad_shipping_details_are_refused(client, shopper, midtrans, field, value, message):
    response = client.post("/checkout", data=dict(SHIPPING, **{field: value}))
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)
    assert midtrans.calls() == []
