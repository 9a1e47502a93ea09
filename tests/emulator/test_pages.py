"""The payment page a person uses, and the emulator's transactions page."""
import pytest

from shop.emulator import notifications as shapes
from tests.emulator.helpers import PREFIX, choose, create, finish_query, snap_payload, status, token_of


def test_the_payment_page_offers_every_method_and_outcome(emulator):
    page = emulator.get(f"{PREFIX}/snap/v3/redirection/{token_of(create(emulator))}").get_data(as_text=True)
    assert [key for key in shapes.METHODS if f'value="{key}"' in page] == list(shapes.METHODS)
    assert [key for key in shapes.OUTCOMES if f'name="outcome" value="{key}"' in page] == list(shapes.OUTCOMES)
    assert "Rp 150.000" in page


def test_enabled_payments_limits_the_methods_offered_and_accepted(emulator):
    token = token_of(create(emulator, snap_payload(enabled_payments=["bank_transfer"])))
    page = emulator.get(f"{PREFIX}/snap/v3/redirection/{token}").get_data(as_text=True)
    assert [key for key in shapes.METHODS if f'value="{key}"' in page] == ["bca_va", "bni_va", "bri_va", "permata_va"]
    assert choose(emulator, token, "gopay", "pay").status_code == 400


def test_an_unknown_token_has_no_page(emulator):
    assert emulator.get(f"{PREFIX}/snap/v3/redirection/not-a-token").status_code == 404


@pytest.mark.parametrize("method,outcome", [
    ("bitcoin", "pay"), ("bca_va", "refund"), ("bca_va", "challenge"), ("", ""),
])
def test_an_impossible_choice_is_refused_and_changes_nothing(emulator, method, outcome):
    token = token_of(create(emulator))
    response = choose(emulator, token, method, outcome)
    assert response.status_code == 400
    assert status(emulator, "TK-000001-1").get_json()["status_code"] == "404"
    assert choose(emulator, token, "bca_va", "pay").status_code == 302  # the token still works


@pytest.mark.parametrize("method,outcome,code,last", [
    ("credit_card", "pay", "200", "settlement"),
    ("bri_va", "pay", "200", "settlement"),
    ("alfamart", "pending", "201", "pending"),
    ("credit_card", "deny", "202", "deny"),
    ("gopay", "expire", "202", "expire"),
    ("credit_card", "challenge", "201", "capture"),
])
def test_the_choice_returns_to_the_finish_url_like_midtrans(emulator, receiver, method, outcome, code, last):
    response = choose(emulator, token_of(create(emulator)), method, outcome)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("http://shop.test/orders/finish?")
    assert finish_query(response) == {"order_id": "TK-000001-1", "status_code": code, "transaction_status": last}


def test_a_finish_url_with_a_query_keeps_it(emulator, receiver):
    payload = snap_payload(callbacks={"finish": "http://shop.test/finish?lang=id"})
    response = choose(emulator, token_of(create(emulator, payload)), "gopay", "pending")
    assert response.headers["Location"].startswith("http://shop.test/finish?lang=id&order_id=TK-000001-1&")


def test_choosing_twice_is_refused(emulator, receiver):
    token = token_of(create(emulator))
    assert choose(emulator, token, "bca_va", "pending").status_code == 302
    assert choose(emulator, token, "credit_card", "pay").status_code == 409
    assert receiver.wait_for(1)
    assert status(emulator, "TK-000001-1").get_json()["payment_type"] == "bank_transfer"


def test_pay_later_settles_a_pending_transaction_from_the_transactions_page(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "permata_va", "pending")
    assert receiver.wait_for(1)
    page = emulator.get(f"{PREFIX}/transactions").get_data(as_text=True)
    assert "TK-000001-1" in page and "/transactions/TK-000001-1/settle" in page
    assert emulator.post(f"{PREFIX}/transactions/TK-000001-1/settle").status_code == 302
    assert receiver.wait_for(2)
    assert [b["transaction_status"] for b in receiver.bodies()] == ["pending", "settlement"]
    assert status(emulator, "TK-000001-1").get_json()["transaction_status"] == "settlement"


def test_pay_later_on_a_card_sends_capture_then_settlement(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "credit_card", "pending")
    assert receiver.wait_for(1)
    emulator.post(f"{PREFIX}/transactions/TK-000001-1/settle")
    assert receiver.wait_for(3)
    assert [b["transaction_status"] for b in receiver.bodies()] == ["pending", "capture", "settlement"]


def test_the_transactions_page_expires_a_pending_transaction(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "indomaret", "pending")
    assert receiver.wait_for(1)
    emulator.post(f"{PREFIX}/transactions/TK-000001-1/expire")
    assert receiver.wait_for(2)
    assert receiver.bodies()[-1]["transaction_status"] == "expire"


def test_pay_later_of_a_settled_transaction_is_refused(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "gopay", "pay")
    assert receiver.wait_for(2)
    response = emulator.post(f"{PREFIX}/transactions/TK-000001-1/settle")
    assert response.status_code == 409
    assert len(receiver.requests) == 2


def test_pay_later_of_an_unknown_order_is_404(emulator):
    assert emulator.post(f"{PREFIX}/transactions/NOPE/settle").status_code == 404


def test_the_transactions_page_lists_each_delivery(emulator, receiver):
    receiver.answer("/notify", 503)
    choose(emulator, token_of(create(emulator)), "bca_va", "pending")
    assert receiver.wait_for(2)
    page = emulator.get(f"{PREFIX}/transactions").get_data(as_text=True)
    assert "pending #1 &rarr; 503" in page


def test_status_knows_the_transaction_as_soon_as_the_browser_is_sent_back(emulator, receiver):
    receiver.answer("/notify", *[503] * 10)  # however the shop's endpoint is doing
    choose(emulator, token_of(create(emulator)), "bca_va", "pending")
    assert status(emulator, "TK-000001-1").get_json()["transaction_status"] == "pending"


@pytest.mark.parametrize("method, payment_type", [("qris", "qris"), ("gopay", "gopay")])
def test_a_qris_or_gopay_transaction_has_a_qr_image(emulator, method, payment_type):
    choose(emulator, token_of(create(emulator)), method, "pending")
    transaction_id = status(emulator, "TK-000001-1").get_json()["transaction_id"]

    response = emulator.get(f"{PREFIX}/v2/{payment_type}/{transaction_id}/qr-code")

    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n") and len(response.data) > 200
    other = "gopay" if payment_type == "qris" else "qris"
    assert emulator.get(f"{PREFIX}/v2/{other}/{transaction_id}/qr-code").status_code == 404


def test_a_va_transaction_or_an_unknown_one_has_no_qr_image(emulator):
    choose(emulator, token_of(create(emulator)), "bca_va", "pending")
    transaction_id = status(emulator, "TK-000001-1").get_json()["transaction_id"]

    assert emulator.get(f"{PREFIX}/v2/qris/{transaction_id}/qr-code").status_code == 404
    assert emulator.get(f"{PREFIX}/v2/qris/no-such-transaction/qr-code").status_code == 404


def test_the_pages_speak_indonesian(emulator, receiver):
    token = token_of(create(emulator))
    fresh = emulator.get(f"{PREFIX}/snap/v3/redirection/{token}").get_data(as_text=True)
    choose(emulator, token, "permata_va", "pending")
    chosen = emulator.get(f"{PREFIX}/snap/v3/redirection/{token}").get_data(as_text=True)
    listed = emulator.get(f"{PREFIX}/transactions").get_data(as_text=True)
    again = choose(emulator, token, "bca_va", "pay").get_data(as_text=True)

    assert "Metode pembayaran" in fresh and "Bayar sekarang" in fresh and "Notifikasi dikirim ke" in fresh
    assert "Metode untuk order ini sudah dipilih (Permata Virtual Account)" in chosen
    assert "Permata Virtual Account" in listed and "Rp 150.000" in listed and "Buat kedaluwarsa" in listed
    assert "sudah tidak berlaku" in again
    for english in ("Payment method", "Outcome", "pay now", "Notifications go to", "Expire<", "Transactions"):
        assert english not in fresh + chosen + listed + again
