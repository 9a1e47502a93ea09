"""A whole payment through the emulator on a real loopback server, driven by the shop's gateway."""
import pytest
import requests

from shop.emulator import notifications as shapes
from shop.payments import gateway, ledger, money_workflow
from shop.payments.refunding import RefundRequest
from tests.factories import OrderFactory, PaymentFactory
from tests.payments.test_ledger import apply
from tests.emulator.helpers import PREFIX, snap_payload

pytestmark = pytest.mark.loopback
NOTIFICATION = "/api/midtrans/notification"


def pay(redirect_url: str, method: str, outcome: str) -> requests.Response:
    """What a person does: open the page, pick a method and an outcome, get sent back."""
    page = requests.get(redirect_url, timeout=5)
    assert page.status_code == 200 and f'value="{method}"' in page.text
    return requests.post(redirect_url, data={"method": method, "outcome": outcome}, allow_redirects=False, timeout=5)


@pytest.mark.parametrize("method", list(shapes.METHODS))
def test_pay_now_with_each_method_notifies_the_shop_and_status_agrees(live_emulator, receiver, method):
    snap = gateway.create_snap_transaction(snap_payload(order_id=f"TK-{method}-1"))
    assert snap.redirect_url.startswith(live_emulator.url + PREFIX + "/snap/v3/redirection/")
    finish = pay(snap.redirect_url, method, "pay")
    assert finish.status_code == 302 and "transaction_status=settlement" in finish.headers["Location"]
    assert receiver.wait_for(2)
    bodies = receiver.bodies(NOTIFICATION)
    first = "capture" if method == "credit_card" else "pending"
    assert [b["transaction_status"] for b in bodies] == [first, "settlement"]
    assert all(gateway.signature_is_valid(b) for b in bodies)
    assert {b["gross_amount"] for b in bodies} == {"150000.00"}
    assert gateway.get_status(f"TK-{method}-1") == dict(bodies[-1], status_message="Success, transaction is found")


@pytest.mark.parametrize("method,outcome,last", [
    ("credit_card", "deny", "deny"), ("bni_va", "deny", "deny"),
    ("credit_card", "expire", "expire"), ("qris", "expire", "expire"),
])
def test_deny_and_expire_end_in_failure(live_emulator, receiver, method, outcome, last):
    snap = gateway.create_snap_transaction(snap_payload())
    pay(snap.redirect_url, method, outcome)
    assert receiver.wait_for(len(shapes.outcome_statuses(method, outcome)))
    assert receiver.bodies()[-1]["status_code"] == "202"
    assert gateway.get_status("TK-000001-1")["transaction_status"] == last


def test_status_is_not_found_until_a_method_is_chosen(live_emulator):
    gateway.create_snap_transaction(snap_payload())
    with pytest.raises(gateway.MidtransNotFound):
        gateway.get_status("TK-000001-1")


def test_the_gateway_cancels_and_expires_through_the_emulator(live_emulator, receiver):
    pay(gateway.create_snap_transaction(snap_payload(order_id="TK-A-1")).redirect_url, "bca_va", "pending")
    pay(gateway.create_snap_transaction(snap_payload(order_id="TK-B-1")).redirect_url, "gopay", "pending")
    assert gateway.cancel("TK-A-1")["transaction_status"] == "cancel"
    assert gateway.expire("TK-B-1")["status_code"] == "407"
    with pytest.raises(gateway.MidtransRejected):
        gateway.cancel("TK-A-1")
    assert receiver.wait_for(4)
    assert sorted(b["transaction_status"] for b in receiver.bodies()) == ["cancel", "expire", "pending", "pending"]


def test_a_wrong_server_key_is_an_auth_error(live_emulator, app, monkeypatch):
    monkeypatch.setitem(app.config, "MIDTRANS_SERVER_KEY", "SB-Mid-server-wrong")
    with pytest.raises(gateway.MidtransAuthError):
        gateway.create_snap_transaction(snap_payload())


def test_a_bad_request_is_rejected_with_midtrans_messages(live_emulator):
    payload = snap_payload()
    payload["item_details"][0]["quantity"] = 3
    with pytest.raises(gateway.MidtransRejected) as raised:
        gateway.create_snap_transaction(payload)
    assert raised.value.messages == ["transaction_details.gross_amount is not equal to the sum of item_details"]


def test_the_shop_refunds_through_the_emulator_once_and_its_notifications_fill_the_ledger(live_emulator, receiver):
    payment = PaymentFactory(order=OrderFactory(total=150000), midtrans_order_id="TK-R-1", gross_amount=150000)
    pay(gateway.create_snap_transaction(snap_payload(order_id="TK-R-1")).redirect_url, "gopay", "pay")
    assert receiver.wait_for(2)
    for body in receiver.bodies():
        apply(payment, body)
    result = money_workflow.refund(RefundRequest(payment.order_id, 50000, "rusak", "admin@contoh.id"))
    assert result.ok
    assert gateway.refund(payment.transaction_id, result.refund_key, 50000, "rusak")["duplicate"]  # no second refund
    assert receiver.wait_for(4)
    requested, confirmed = receiver.bodies()[2:]
    for body in (confirmed, requested, confirmed):  # in any order, duplicated
        apply(payment, body)
    assert ledger.order_ledger(payment.order_id).as_dict() == {
        "paid_amount": 150000, "refunded_amount": 50000, "refund_pending_amount": 0, "refundable_amount": 100000}
