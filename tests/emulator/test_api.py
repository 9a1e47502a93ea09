"""The emulator's Snap and Core API: status codes and bodies shaped like Midtrans's."""
import pytest

from shop.emulator.store import EmulatorStore
from shop.payments.gateway import signature_is_valid
from tests.emulator.conftest import SERVER_KEY, basic_auth, sample
from tests.emulator.helpers import PREFIX, choose, create, json_shape, snap_payload, status, token_of


def same_fields(real: dict, ours: dict) -> dict:
    """The sample's fields that ours lacks or types differently (empty when they agree)."""
    return {k: json_shape(v) for k, v in real.items() if k not in ours or json_shape(ours[k]) != json_shape(v)}


def tokens_stored(app) -> int:
    with EmulatorStore(app.config["MIDTRANS_EMULATOR_DB"]).connect() as conn:
        return conn.execute("SELECT count(*) FROM snap_tokens").fetchone()[0]


# --- Snap create ----------------------------------------------------------------------------

def test_snap_create_answers_201_with_a_token_and_the_payment_page(emulator):
    response = create(emulator)
    body = response.get_json()
    assert response.status_code == 201
    assert json_shape(body) == json_shape(sample("api_snap_create_201.json"))
    assert len(body["token"]) == 36
    assert body["redirect_url"] == f"http://emulator.test{PREFIX}/snap/v3/redirection/{body['token']}"


@pytest.mark.parametrize("headers", [{}, basic_auth("SB-Mid-server-wrong"), {"Authorization": "Bearer x"}])
def test_snap_create_refuses_a_missing_or_wrong_server_key_like_midtrans(emulator, emulator_app, headers):
    response = emulator.post(f"{PREFIX}/snap/v1/transactions", json=snap_payload(), headers=headers)
    assert response.status_code == 401
    assert response.get_json() == sample("api_snap_create_401.json")
    assert tokens_stored(emulator_app) == 0


def test_snap_create_refuses_items_that_do_not_add_up_with_midtrans_message(emulator, emulator_app):
    payload = snap_payload(amount=150000)
    payload["item_details"][0]["price"] = 70000
    response = create(emulator, payload)
    assert response.status_code == 400
    assert response.get_json() == sample("api_snap_create_400_validation.json")
    assert tokens_stored(emulator_app) == 0


def _with_details(**details) -> dict:
    payload = snap_payload()
    payload["transaction_details"].update(details)
    payload.pop("item_details")
    return payload


@pytest.mark.parametrize("payload,message", [
    (_with_details(gross_amount=150000.0), "gross_amount must be an integer"),
    (_with_details(gross_amount=1500.5), "gross_amount must be an integer"),
    (_with_details(gross_amount="150000"), "gross_amount must be an integer"),
    (_with_details(gross_amount=True), "gross_amount must be an integer"),
    (_with_details(gross_amount=0), "greater than or equal to 1"),
    (_with_details(order_id=""), "order_id is required"),
    (_with_details(order_id="TK#1"), "order_id must be at most 50 characters"),
    (_with_details(order_id="T" * 51), "order_id must be at most 50 characters"),
    ({"transaction_details": "x"}, "transaction_details is required"),
    ([1, 2], "must be a JSON object"),
    (snap_payload() | {"item_details": [{"price": 75000, "quantity": 0, "name": "x"}]}, "quantity must be"),
    (snap_payload() | {"item_details": [{"price": 75000, "quantity": 2}]}, "name is required"),
    (snap_payload() | {"callbacks": {"finish": 5}}, "callbacks.finish"),
])
def test_snap_create_rejects_bad_requests_with_error_messages_and_stores_nothing(emulator, emulator_app,
                                                                                  payload, message):
    response = create(emulator, payload)
    assert response.status_code == 400
    messages = response.get_json()["error_messages"]
    assert any(message in m for m in messages), messages
    assert tokens_stored(emulator_app) == 0


def test_snap_create_rejects_a_body_that_is_not_json(emulator):
    response = emulator.post(f"{PREFIX}/snap/v1/transactions", data="order=1", headers=basic_auth())
    assert response.status_code == 400
    assert response.get_json()["error_messages"] == ["Request body must be a JSON object"]


def test_an_order_id_can_get_a_new_token_until_a_method_is_chosen(emulator, receiver):
    first = token_of(create(emulator))
    second = token_of(create(emulator))
    assert first != second
    assert choose(emulator, first, "bca_va", "pending").status_code == 409  # the old token stopped working
    assert choose(emulator, second, "bca_va", "pending").status_code == 302
    again = create(emulator)
    assert again.status_code == 400
    assert again.get_json() == {"error_messages": ["transaction_details.order_id has already been taken"]}


def close(client, token: str, headers: dict | None = None):
    return client.post(f"{PREFIX}/snap/v1/transactions/{token}/cancel", headers=headers or basic_auth())


def test_a_snap_page_closed_before_a_method_is_chosen_takes_none_after(emulator, receiver):
    token = token_of(create(emulator))

    closed = close(emulator, token)

    assert closed.status_code == 200 and json_shape(closed.get_json()) == json_shape(
        sample("api_snap_session_cancel_200.json"))
    page = emulator.get(f"{PREFIX}/snap/v3/redirection/{token}").get_data(as_text=True)
    assert "sudah ditutup oleh toko" in page and 'name="method"' not in page
    assert choose(emulator, token, "bca_va", "pending").status_code == 409
    assert status(emulator, "TK-000001-1").get_json()["status_code"] == "404"  # no transaction, no notification
    assert receiver.bodies() == []
    assert (close(emulator, token).status_code, close(emulator, token).get_json()) == (
        409, {"error_messages": ["token already canceled"]})


def test_closing_a_page_with_a_method_chosen_or_an_unknown_token_is_refused(emulator, receiver):
    token = token_of(create(emulator))
    assert choose(emulator, token, "bca_va", "pending").status_code == 302
    in_progress = close(emulator, token)
    assert (in_progress.status_code, in_progress.get_json()) == (409, {"error_messages": ["Transaction is in progress"]})
    unknown = close(emulator, "no-such-token")
    assert (unknown.status_code, unknown.get_json()) == (404, {"error_messages": ["token not found"]})
    assert close(emulator, token, headers=basic_auth("SB-Mid-server-wrong")).status_code == 401


def test_a_paid_order_id_is_refused_with_midtrans_paid_message(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "gopay", "pay")
    assert receiver.wait_for(2)
    response = create(emulator)
    assert response.status_code == 400
    assert response.get_json() == sample("api_snap_create_400_order_id_used.json")


def test_override_header_replaces_the_default_notification_url(emulator, receiver):
    headers = {"X-Override-Notification": f"{receiver.url}/a, {receiver.url}/b"}
    choose(emulator, token_of(create(emulator, headers=headers)), "qris", "pending")
    assert receiver.wait_for(2)
    assert sorted(r["path"] for r in receiver.requests) == ["/a", "/b"]


def test_append_header_adds_to_the_default_notification_url(emulator, receiver):
    choose(emulator, token_of(create(emulator, headers={"X-Append-Notification": f"{receiver.url}/extra"})),
           "qris", "pending")
    assert receiver.wait_for(2)
    assert sorted(r["path"] for r in receiver.requests) == ["/extra", "/notify"]


# --- GET status -------------------------------------------------------------------------------

def test_status_of_an_unknown_order_is_the_body_404_with_http_200(emulator):
    response = status(emulator, "NOPE-1")
    assert response.status_code == 200
    assert json_shape(response.get_json()) == json_shape(sample("api_status_404_current_docs.json"))
    assert response.get_json()["status_code"] == "404"


def test_status_is_404_until_the_shopper_chooses_a_method(emulator):
    token_of(create(emulator))
    assert status(emulator, "TK-000001-1").get_json()["status_code"] == "404"


def test_status_with_a_wrong_key_is_401(emulator):
    token_of(create(emulator))
    response = status(emulator, "TK-000001-1", headers=basic_auth("SB-Mid-server-wrong"))
    assert response.status_code == 401
    assert json_shape(response.get_json()) == json_shape(sample("api_status_401.json"))


def test_status_answers_what_was_notified_by_order_id_and_transaction_id(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "credit_card", "pay")
    assert receiver.wait_for(2)
    last = receiver.bodies()[-1]
    by_order = status(emulator, "TK-000001-1").get_json()
    by_transaction = status(emulator, last["transaction_id"]).get_json()
    assert by_order == by_transaction == dict(last, status_message="Success, transaction is found")
    assert same_fields(sample("api_status_credit_card_settlement.json"), by_order) == {}
    assert signature_is_valid(by_order, SERVER_KEY)


# --- cancel and expire ------------------------------------------------------------------------

def test_cancel_voids_a_challenged_card_and_notifies_cancel(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "credit_card", "challenge")
    assert receiver.wait_for(1)
    response = emulator.post(f"{PREFIX}/v2/TK-000001-1/cancel", headers=basic_auth())
    body = response.get_json()
    assert (response.status_code, body["status_code"], body["transaction_status"]) == (200, "200", "cancel")
    assert same_fields(sample("api_cancel_200.json"), body) == {}
    assert receiver.wait_for(2)
    notified = receiver.bodies()[-1]
    assert (notified["transaction_status"], notified["status_code"]) == ("cancel", "202")
    assert status(emulator, "TK-000001-1").get_json()["transaction_status"] == "cancel"


def test_cancel_of_a_settled_transaction_is_refused_with_412(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "bca_va", "pay")
    assert receiver.wait_for(2)
    response = emulator.post(f"{PREFIX}/v2/TK-000001-1/cancel", headers=basic_auth())
    assert response.get_json() == sample("api_cancel_412.json")
    assert status(emulator, "TK-000001-1").get_json()["transaction_status"] == "settlement"


def test_expire_of_a_pending_bill_answers_407_and_notifies_expire(emulator, receiver):
    choose(emulator, token_of(create(emulator)), "echannel", "pending")
    assert receiver.wait_for(1)
    response = emulator.post(f"{PREFIX}/v2/TK-000001-1/expire", headers=basic_auth())
    body = response.get_json()
    assert (body["status_code"], body["transaction_status"]) == ("407", "expire")
    assert same_fields(sample("api_expire_407.json"), body) == {}
    assert receiver.wait_for(2)
    assert receiver.bodies()[-1]["status_code"] == "202"


@pytest.mark.parametrize("action", ["cancel", "expire"])
def test_cancel_and_expire_of_an_unknown_order_are_body_404(emulator, action):
    response = emulator.post(f"{PREFIX}/v2/NOPE-1/{action}", headers=basic_auth())
    assert response.get_json()["status_code"] == "404"


@pytest.mark.parametrize("action", ["cancel", "expire"])
def test_cancel_and_expire_need_the_server_key(emulator, receiver, action):
    choose(emulator, token_of(create(emulator)), "bca_va", "pending")
    assert receiver.wait_for(1)
    response = emulator.post(f"{PREFIX}/v2/TK-000001-1/{action}", headers=basic_auth("SB-Mid-server-wrong"))
    assert response.status_code == 401
    assert status(emulator, "TK-000001-1").get_json()["transaction_status"] == "pending"
