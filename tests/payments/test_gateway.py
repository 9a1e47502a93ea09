"""The gateway against a fake Midtrans over real HTTP: what it sends, retries, error categories."""
import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shop.payments import gateway
from shop.payments.gateway import MidtransAuthError, MidtransNotFound, MidtransRejected, MidtransUnavailable
from tests.midtrans_samples import sample

SNAP_PATH = "/snap/v1/transactions"
PAYLOAD = {
    "transaction_details": {"order_id": "TK-1-1-abc123", "gross_amount": 170000},
    "item_details": [{"id": "KOPI-1", "price": 85000, "quantity": 2, "name": "Kopi Gayo"}],
}


def test_snap_request_carries_basic_auth_json_and_our_notification_url(app, midtrans):
    result = gateway.create_snap_transaction(PAYLOAD)
    (call,) = midtrans.calls("POST", SNAP_PATH)
    expected = base64.b64encode(b"SB-Mid-server-test:").decode()
    assert call.headers["Authorization"] == f"Basic {expected}"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["X-Override-Notification"] == "http://shop.test/api/midtrans/notification"
    assert call.json() == PAYLOAD
    assert result.redirect_url.endswith(result.token)


@pytest.mark.parametrize("status, body, raw", [
    (500, sample("api_snap_create_500"), False),
    (503, {"error_messages": ["Service Unavailable"]}, False),
    (429, {"status_code": "429", "status_message": "Rate limit exceeded"}, False),
    (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", True),
])
def test_transient_failures_are_retried(midtrans, status, body, raw):
    midtrans.script("POST", SNAP_PATH, status, body, raw=raw)
    result = gateway.create_snap_transaction(PAYLOAD)
    assert len(midtrans.calls("POST", SNAP_PATH)) == 2
    assert result.token


def test_read_timeout_is_retried(app, midtrans, monkeypatch):
    monkeypatch.setitem(app.config, "MIDTRANS_READ_TIMEOUT", 0.2)
    midtrans.script("POST", SNAP_PATH, 201, sample("api_snap_create_201"), delay=0.6)
    result = gateway.create_snap_transaction(PAYLOAD)
    assert len(midtrans.calls("POST", SNAP_PATH)) == 2
    assert result.token != sample("api_snap_create_201")["token"]  # the late answer was not used


def test_gives_up_after_the_configured_retries(app, midtrans):
    for _ in range(3):
        midtrans.script("POST", SNAP_PATH, 503, {"error_messages": ["down"]})
    with pytest.raises(MidtransUnavailable):
        gateway.create_snap_transaction(PAYLOAD)
    assert len(midtrans.calls("POST", SNAP_PATH)) == 1 + app.config["MIDTRANS_MAX_RETRIES"]


def test_nothing_listening_is_unavailable(app):
    # TEST_SETTINGS point at 127.0.0.1:9, where nothing answers.
    with pytest.raises(MidtransUnavailable):
        gateway.create_snap_transaction(PAYLOAD)


@pytest.mark.parametrize("status, fixture, category", [
    (400, "api_snap_create_400_validation", MidtransRejected),
    (400, "api_snap_create_400_order_id_used", MidtransRejected),
    (401, "api_snap_create_401", MidtransAuthError),
])
def test_client_errors_are_not_retried_and_keep_midtrans_messages(midtrans, status, fixture, category):
    midtrans.script("POST", SNAP_PATH, status, sample(fixture))
    with pytest.raises(category) as raised:
        gateway.create_snap_transaction(PAYLOAD)
    assert len(midtrans.calls("POST", SNAP_PATH)) == 1
    assert raised.value.messages == sample(fixture)["error_messages"]
    assert raised.value.http_status == status


def test_auth_error_is_not_mistaken_for_plain_rejection(midtrans):
    midtrans.script("POST", SNAP_PATH, 401, sample("api_snap_create_401"))
    with pytest.raises(MidtransRejected) as raised:
        gateway.create_snap_transaction(PAYLOAD)
    assert raised.value.category == "auth"


@pytest.mark.parametrize("http_status", [404, 200])
def test_status_of_unknown_order_is_not_found_without_retry(midtrans, http_status):
    midtrans.script("GET", "/v2/TK-9-1-abc/status", http_status, sample("api_status_404_current_docs"))
    with pytest.raises(MidtransNotFound):
        gateway.get_status("TK-9-1-abc")
    assert len(midtrans.calls("GET", "/v2/")) == 1


def test_status_with_a_refused_key_is_an_auth_error(midtrans):
    midtrans.script("GET", "/v2/TK-9-1-abc/status", 401, sample("api_status_401"))
    with pytest.raises(MidtransAuthError):
        gateway.get_status("TK-9-1-abc")
    assert len(midtrans.calls("GET", "/v2/")) == 1


def test_status_sends_no_notification_header_and_returns_the_body(midtrans):
    midtrans.statuses["TK-9-1-abc"] = sample("api_status_credit_card_settlement")
    assert gateway.get_status("TK-9-1-abc") == sample("api_status_credit_card_settlement")
    (call,) = midtrans.calls("GET", "/v2/")
    assert "X-Override-Notification" not in call.headers


@pytest.mark.parametrize("production, base", [(False, "https://api.sandbox.midtrans.com"),
                                              (True, "https://api.midtrans.com")])
def test_the_qr_image_url_is_midtrans_core_api_unless_another_base_is_set(app, monkeypatch, production, base):
    monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", "")
    monkeypatch.setitem(app.config, "MIDTRANS_IS_PRODUCTION", production)
    assert gateway.qr_code_url("qris", "tx-1") == f"{base}/v2/qris/tx-1/qr-code"
    monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", "http://127.0.0.1:5000/_emulator/midtrans")
    assert gateway.qr_code_url("gopay", "tx-2") == "http://127.0.0.1:5000/_emulator/midtrans/v2/gopay/tx-2/qr-code"


def test_status_calls_in_flight_are_bounded_per_process(app, midtrans, monkeypatch):
    """Six threads ask at once with a bound of two: the fake holds each call until a second one has
    arrived (and a little longer, as Midtrans's latency would), so two are in flight together, and
    never a third (without the bound, all six would be)."""
    monkeypatch.setitem(app.config, "MIDTRANS_STATUS_CONCURRENCY", 2)
    together, answer = threading.Barrier(2), midtrans.default

    def default(method, path, body):
        together.wait(10)
        time.sleep(0.05)
        return answer(method, path, body)

    monkeypatch.setattr(midtrans, "default", default)
    for n in range(6):
        midtrans.answers_status({"order_id": f"TK-{n}", "transaction_id": f"tx-{n}", "transaction_status": "pending"})

    def ask(n: int) -> dict:
        with app.app_context():
            return gateway.get_status(f"tx-{n}")

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(ask, range(6)))

    assert [a["order_id"] for a in answers] == [f"TK-{n}" for n in range(6)]
    assert midtrans.most_in_flight == 2


# --- closing a Snap page (Snap's session cancel) ---------------------------------------------

TOKEN = "6f3ff1ae-1d3f-4bcb-8f3a-ea3e5d4a7e0c"
CANCEL_PATH = f"{SNAP_PATH}/{TOKEN}/cancel"


def test_closing_a_snap_page_posts_to_its_token_with_basic_auth(midtrans):
    midtrans.script("POST", CANCEL_PATH, 200, sample("api_snap_session_cancel_200"))
    assert gateway.close_snap_page(TOKEN, "TK-1-1-abc123") is True
    (call,) = midtrans.calls("POST", CANCEL_PATH)
    assert call.headers["Authorization"] == "Basic " + base64.b64encode(b"SB-Mid-server-test:").decode()
    assert "X-Override-Notification" not in call.headers


@pytest.mark.parametrize("status, message, closed", [
    (409, "token already canceled", True),  # an earlier try closed it and its answer was lost
    (404, "token not found", False),  # expired: nobody can use it any more either
    (400, "token not found", False),
    (200, "token not found", False),  # Midtrans documents the bodies, not the HTTP statuses
    (200, "token already canceled", True),
])
def test_a_page_closed_before_or_gone_is_an_answer_not_an_error(midtrans, status, message, closed):
    midtrans.script("POST", CANCEL_PATH, status, {"error_messages": [message]})
    assert gateway.close_snap_page(TOKEN, "TK-1-1-abc123") is closed
    assert len(midtrans.calls("POST", CANCEL_PATH)) == 1


@pytest.mark.parametrize("status", [409, 200])
@pytest.mark.parametrize("message", ["Transaction is in progress", "Transaction is on progress"])
def test_a_page_with_a_method_chosen_cannot_be_closed(midtrans, message, status):
    midtrans.script("POST", CANCEL_PATH, status, {"error_messages": [message]})
    with pytest.raises(gateway.SnapPageInUse) as raised:
        gateway.close_snap_page(TOKEN, "TK-1-1-abc123")
    assert raised.value.messages == [message] and isinstance(raised.value, MidtransRejected)


def test_closing_a_page_is_retried_on_trouble_and_refused_keys_are_raised(midtrans):
    midtrans.script("POST", CANCEL_PATH, 503, {"error_messages": ["Service Unavailable"]})
    midtrans.script("POST", CANCEL_PATH, 200, sample("api_snap_session_cancel_200"))
    assert gateway.close_snap_page(TOKEN, "TK-1-1-abc123") is True
    assert len(midtrans.calls("POST", CANCEL_PATH)) == 2
    midtrans.script("POST", CANCEL_PATH, 401, {"error_messages": ["Access denied due to unauthorized transaction"]})
    with pytest.raises(MidtransAuthError):
        gateway.close_snap_page(TOKEN, "TK-1-1-abc123")
    midtrans.script("POST", CANCEL_PATH, 200, {"error_messages": ["something else"]})
    with pytest.raises(MidtransRejected, match="refused to close"):
        gateway.close_snap_page(TOKEN, "TK-1-1-abc123")
