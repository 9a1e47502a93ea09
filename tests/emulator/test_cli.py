"""`flask midtrans trigger` and `flask midtrans sign`."""
import json

import pytest

from shop.emulator import make_emulator_app
from shop.payments.gateway import signature_is_valid
from tests.emulator.conftest import FIXTURES, SERVER_KEY, sample
from tests.emulator.helpers import status
from tests.factories import PaymentFactory

pytestmark = pytest.mark.loopback


@pytest.fixture
def payment():
    return PaymentFactory(midtrans_order_id="TK-000077-1", gross_amount=125000)


@pytest.fixture
def emulator_on(app, tmp_path, monkeypatch):
    """The shop as with the embedded emulator: trigger keeps the emulator's record in step."""
    path = str(tmp_path / "emulator.sqlite3")
    monkeypatch.setitem(app.config, "MIDTRANS_EMULATOR", True)
    monkeypatch.setitem(app.config, "MIDTRANS_EMULATOR_DB", path)
    return make_emulator_app({"MIDTRANS_SERVER_KEY": SERVER_KEY, "MIDTRANS_EMULATOR_DB": path}).test_client()


def trigger(runner, receiver, *args):
    return runner.invoke(args=["midtrans", "trigger", *args, "--url", receiver.url + "/hook"])


def test_trigger_posts_signed_notifications_in_order_and_prints_both_sides(runner, receiver, payment):
    result = trigger(runner, receiver, "TK-000077-1", "pending,settlement", "--payment-type", "bni_va")
    assert result.exit_code == 0, result.output
    bodies = receiver.bodies()
    assert [(b["transaction_status"], b["status_code"]) for b in bodies] == [("pending", "201"), ("settlement", "200")]
    assert all(signature_is_valid(b, SERVER_KEY) for b in bodies)
    assert {b["gross_amount"] for b in bodies} == {"125000.00"}
    assert bodies[0]["transaction_id"] == bodies[1]["transaction_id"]
    assert bodies[0]["va_numbers"][0]["bank"] == "bni"
    assert result.output.count(f"> POST {receiver.url}/hook") == 2
    assert result.output.count("< 200 OK") == 2


def test_duplicate_sends_every_notification_n_times(runner, receiver, payment):
    assert trigger(runner, receiver, "TK-000077-1", "pending,settlement", "--duplicate", "3").exit_code == 0
    assert [b["transaction_status"] for b in receiver.bodies()] == ["pending"] * 3 + ["settlement"] * 3


def test_out_of_order_delivery_is_sent_as_given(runner, receiver, payment):
    assert trigger(runner, receiver, "TK-000077-1", "settlement,pending", "--delay", "0").exit_code == 0
    assert [b["transaction_status"] for b in receiver.bodies()] == ["settlement", "pending"]


def test_the_method_defaults_to_what_the_payment_already_shows(runner, receiver):
    PaymentFactory(midtrans_order_id="TK-000078-1", payment_type="cstore", store="alfamart")
    assert trigger(runner, receiver, "TK-000078-1", "settlement").exit_code == 0
    assert receiver.bodies()[0]["store"] == "alfamart"


def test_a_card_challenge_is_capture_with_201(runner, receiver, payment):
    trigger(runner, receiver, "TK-000077-1", "challenge", "--payment-type", "credit_card")
    body = receiver.bodies()[0]
    assert (body["transaction_status"], body["fraud_status"], body["status_code"]) == ("capture", "challenge", "201")


def test_a_refusing_shop_makes_the_command_fail_after_sending_all(runner, receiver, payment):
    receiver.answer("/hook", 500)
    result = trigger(runner, receiver, "TK-000077-1", "pending,settlement")
    assert result.exit_code == 1
    assert "1 of 2 notifications were not accepted" in result.output
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("args,message", [
    (["TK-NOPE-1", "settlement"], "no payment has the Midtrans order id 'TK-NOPE-1'"),
    (["TK-000077-1", "paid"], "unknown status 'paid'"),
    (["TK-000077-1", "pending,,settlement"], "unknown status ''"),
    (["TK-000077-1", "capture", "--payment-type", "gopay"], "only to card payments"),
])
def test_bad_input_is_refused_and_nothing_is_sent(runner, receiver, payment, args, message):
    result = trigger(runner, receiver, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert receiver.requests == []


def test_with_the_emulator_on_get_status_agrees_with_what_was_triggered(runner, receiver, payment, emulator_on):
    assert trigger(runner, receiver, "TK-000077-1", "pending,settlement", "--payment-type", "qris").exit_code == 0
    answer = status(emulator_on, "TK-000077-1").get_json()
    assert answer == dict(receiver.bodies()[-1], status_message="Success, transaction is found")


def test_with_the_emulator_on_a_late_pending_does_not_undo_the_settlement(runner, receiver, payment, emulator_on):
    trigger(runner, receiver, "TK-000077-1", "settlement,pending")
    assert status(emulator_on, "TK-000077-1").get_json()["transaction_status"] == "settlement"


def test_a_notification_the_shop_did_not_take_leaves_the_emulator_as_it_was(runner, receiver, payment,
                                                                            emulator_on):
    assert trigger(runner, receiver, "TK-000077-1", "pending", "--payment-type", "bca_va").exit_code == 0
    receiver.answer("/hook", 503)
    result = trigger(runner, receiver, "TK-000077-1", "settlement")
    assert result.exit_code == 1 and "back as it was before this notification" in result.output
    assert status(emulator_on, "TK-000077-1").get_json()["transaction_status"] == "pending"
    receiver.answer("/hook", 200)
    assert trigger(runner, receiver, "TK-000077-1", "settlement").exit_code == 0
    assert status(emulator_on, "TK-000077-1").get_json()["transaction_status"] == "settlement"


def test_an_unreachable_shop_leaves_the_emulator_as_it_was(runner, payment, emulator_on):
    assert runner.invoke(args=["midtrans", "trigger", "TK-000077-1", "pending", "--payment-type", "bca_va",
                               "--url", "http://127.0.0.1:9/hook"]).exit_code == 1
    answer = status(emulator_on, "TK-000077-1").get_json()
    assert answer["status_code"] == "404" and "transaction_status" not in answer, answer


def test_with_the_emulator_on_the_method_it_recorded_wins(runner, receiver, payment, emulator_on):
    trigger(runner, receiver, "TK-000077-1", "pending", "--payment-type", "gopay")
    result = trigger(runner, receiver, "TK-000077-1", "settlement", "--payment-type", "bca_va")
    assert result.exit_code != 0 and "paid by gopay" in result.output
    assert trigger(runner, receiver, "TK-000077-1", "settlement").exit_code == 0
    assert receiver.bodies()[-1]["payment_type"] == "gopay"


# --- sign ---------------------------------------------------------------------------------------

def test_sign_reproduces_the_published_signature_of_a_tampered_body(runner, tmp_path):
    real = json.loads((FIXTURES / "fixture_credit_card_settlement_sbtest.json").read_text())
    tampered = dict(real, signature_key="0" * 128)
    path = tmp_path / "body.json"
    path.write_text(json.dumps(tampered))
    result = runner.invoke(args=["midtrans", "sign", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == real


def test_sign_reads_stdin(runner):
    body = sample("fixture_qris_expire_sbtest.json")
    result = runner.invoke(args=["midtrans", "sign", "-"], input=json.dumps(dict(body, signature_key="x")))
    assert json.loads(result.output)["signature_key"] == body["signature_key"]


@pytest.mark.parametrize("text,message", [
    ("not json", "is not JSON"),
    ("[1, 2]", "must hold one JSON object"),
    ('{"order_id": "A", "status_code": "200", "gross_amount": 10000}', "gross_amount must be present as strings"),
    ('{"order_id": "A", "gross_amount": "10000.00"}', "status_code must be present as strings"),
])
def test_sign_refuses_what_it_cannot_sign(runner, text, message):
    result = runner.invoke(args=["midtrans", "sign", "-"], input=text)
    assert result.exit_code == 1
    assert message in result.output


def test_trigger_sends_a_refunds_two_notifications_and_a_chargeback(runner, receiver, payment):
    result = trigger(runner, receiver, "TK-000077-1", "settlement,partial_refund,chargeback", "--payment-type", "gopay")
    assert result.exit_code == 0, result.output
    settled, requested, confirmed, chargeback = receiver.bodies()
    assert (requested["transaction_status"], requested["refund_amount"]) == ("partial_refund", "62500.00")
    assert requested["refunds"][0]["bank_confirmed_at"] is None and confirmed["refunds"][0]["bank_confirmed_at"]
    assert requested["refunds"][0]["refund_key"] == confirmed["refunds"][0]["refund_key"]
    assert chargeback["transaction_status"] == "chargeback" and chargeback["refund_amount"] == "125000.00"
    assert all(signature_is_valid(b, SERVER_KEY) for b in receiver.bodies())
