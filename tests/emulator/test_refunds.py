"""The emulator's refund, approve and deny: Midtrans's answers, error codes and notifications."""
import pytest

from shop.emulator import refunds, services
from tests.emulator.conftest import basic_auth
from tests.emulator.helpers import PREFIX, choose, create, status, token_of

ORDER = "TK-000001-1"


@pytest.fixture(autouse=True)
def quick_confirmation(emulator_app):
    emulator_app.config["MIDTRANS_EMULATOR_REFUND_DELAY"] = 0.05


def paid(emulator, receiver, method="gopay"):
    choose(emulator, token_of(create(emulator)), method, "pay")
    assert receiver.wait_for(2)


def ask_refund(emulator, key, amount=None, reason="rusak"):
    body = {"refund_key": key, "reason": reason} | ({"amount": amount} if amount is not None else {})
    return emulator.post(f"{PREFIX}/v2/{ORDER}/refund", json=body, headers=basic_auth()).get_json()


def test_a_refund_is_answered_then_notified_requested_then_bank_confirmed(emulator, emulator_app, receiver):
    paid(emulator, receiver)
    answer = ask_refund(emulator, "key-0001", 50000)
    assert (answer["status_code"], answer["transaction_status"], answer["refund_amount"]) == \
        ("200", "partial_refund", "50000.00")
    assert receiver.wait_for(4)
    requested, confirmed = receiver.bodies()[2:4]
    assert requested["refunds"][0]["bank_confirmed_at"] is None and requested["refund_amount"] == "50000.00"
    assert confirmed["refunds"][0]["bank_confirmed_at"] and confirmed["refunds"][0]["refund_key"] == "key-0001"
    assert status(emulator, ORDER).get_json()["refunds"][0]["bank_confirmed_at"]


def test_the_same_refund_key_is_refunded_once_406(emulator, emulator_app, receiver):
    paid(emulator, receiver)
    ask_refund(emulator, "key-0001", 50000)
    assert ask_refund(emulator, "key-0001", 50000)["status_code"] == "406"
    with emulator_app.app_context():
        assert len(refunds.stored_refunds(services.settings().store, ORDER)) == 1


def test_a_refund_over_the_balance_is_414_and_a_pending_one_412(emulator, receiver):
    paid(emulator, receiver)
    assert ask_refund(emulator, "key-0001", 150001)["status_code"] == "414"
    assert ask_refund(emulator, "key-0002")["transaction_status"] == "refund"  # all of it
    assert ask_refund(emulator, "key-0003", 1)["status_code"] in ("412", "414")
    choose(emulator, token_of(create(emulator, {"transaction_details": {"order_id": "TK-2", "gross_amount": 10},
                                                 "callbacks": {}})), "bca_va", "pending")
    answer = emulator.post(f"{PREFIX}/v2/TK-2/refund", json={"refund_key": "key-0004"}, headers=basic_auth())
    assert answer.get_json()["status_code"] == "412"


@pytest.mark.parametrize("action, notified", [("approve", ["capture", "settlement"]), ("deny", ["deny"])])
def test_a_challenged_card_is_approved_or_denied(emulator, receiver, action, notified):
    choose(emulator, token_of(create(emulator)), "credit_card", "challenge")
    assert receiver.wait_for(1)
    answer = emulator.post(f"{PREFIX}/v2/{ORDER}/{action}", headers=basic_auth()).get_json()
    assert answer["status_code"] == "200"
    assert receiver.wait_for(1 + len(notified))
    assert [b["transaction_status"] for b in receiver.bodies()[1:]] == notified
    again = emulator.post(f"{PREFIX}/v2/{ORDER}/{action}", headers=basic_auth()).get_json()
    assert again["status_code"] == "412"
