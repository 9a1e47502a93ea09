"""The emulator's bodies against the real Midtrans samples in tests/fixtures/midtrans/."""
import re

import pytest

from shop.emulator import notifications as shapes
from shop.payments.gateway import signature_is_valid
from tests.emulator.conftest import FIXTURES, SERVER_KEY, sample
from tests.emulator.helpers import json_shape

# (emulator method, status) -> the real sample(s) of the same payment method and status
SAMPLES = {
    ("credit_card", "capture"): ["credit_card_capture.json"],
    ("credit_card", "challenge"): ["credit_card_capture_challenge.json"],
    ("credit_card", "deny"): ["credit_card_deny.json"],
    ("credit_card", "settlement"): ["credit_card_settlement.json", "fixture_credit_card_settlement_sbtest.json"],
    ("credit_card", "cancel"): ["credit_card_cancel.json"],
    ("bca_va", "pending"): ["fixture_bank_transfer_pending_sbtest.json"],
    ("bca_va", "settlement"): ["bank_transfer_bca_settlement.json"],
    ("bni_va", "settlement"): ["bank_transfer_bni_settlement.json"],
    ("bri_va", "settlement"): ["bank_transfer_bri_settlement.json"],
    ("permata_va", "settlement"): ["bank_transfer_permata_settlement.json"],
    ("echannel", "settlement"): ["echannel_mandiri_bill_settlement.json"],
    ("gopay", "settlement"): ["gopay_settlement.json"],
    ("qris", "settlement"): ["qris_settlement.json"],
    ("qris", "expire"): ["fixture_qris_expire_sbtest.json"],
    ("indomaret", "settlement"): ["cstore_indomaret_settlement.json"],
    ("alfamart", "settlement"): ["cstore_alfamart_settlement.json"],
}
PAIRS = [(method, status, name) for (method, status), names in SAMPLES.items() for name in names]
NOTIFICATION_SAMPLES = [p.name for p in FIXTURES.glob("*.json") if not p.name.startswith("api_")]
ALL_COMBINATIONS = [(m, s) for m in shapes.METHODS for s in shapes.STATUSES
                    if m == "credit_card" or s not in shapes.CARD_ONLY]
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def notification(method: str, status: str, amount: int = 145000) -> dict:
    txn = shapes.Transaction("TK-000042-1", "0b6f1c1e-8a3e-4c2a-9a57-3f0f2a1d9e10", amount, method,
                             "2026-11-27 10:00:00")
    return shapes.build_notification(txn, status, SERVER_KEY)


def vocabulary(payment_type: str) -> set:
    """Every field name any real notification sample of this payment type carries."""
    bodies = [sample(name) for name in NOTIFICATION_SAMPLES]
    return {key for body in bodies if body["payment_type"] == payment_type for key in body}


@pytest.mark.parametrize("method,status,name", PAIRS)
def test_every_field_of_the_sample_is_there_with_its_json_type(method, status, name):
    real, ours = sample(name), notification(method, status)
    missing = {key: json_shape(value) for key, value in real.items() if key not in ours}
    assert missing == {}
    # An empty list in the sample (payment_amounts for BCA) says nothing about its items.
    differ = {key: (json_shape(ours[key]), json_shape(value)) for key, value in real.items()
              if json_shape(value) != json_shape(ours[key])}
    assert differ == {}


@pytest.mark.parametrize("method,status,name", PAIRS)
def test_status_code_status_and_fraud_status_match_the_sample(method, status, name):
    real, ours = sample(name), notification(method, status)
    assert ours.get("fraud_status") == real.get("fraud_status")
    meaningful = ("payment_type", "transaction_status", "status_code", "status_message", "currency",
                  "store", "transaction_type", "biller_code", "channel_response_code")
    assert {k: ours[k] for k in meaningful if k in real} == {k: real[k] for k in meaningful if k in real}
    if "va_numbers" in real:
        assert [v["bank"] for v in ours["va_numbers"]] == [v["bank"] for v in real["va_numbers"]]


@pytest.mark.parametrize("method,status", ALL_COMBINATIONS)
def test_every_body_uses_only_field_names_real_samples_use(method, status):
    ours = notification(method, status)
    assert set(ours) - vocabulary(ours["payment_type"]) == set()


@pytest.mark.parametrize("method,status", ALL_COMBINATIONS)
def test_every_body_is_signed_and_formatted_like_midtrans(method, status):
    ours = notification(method, status, amount=10000)
    assert signature_is_valid(ours, SERVER_KEY)
    assert not signature_is_valid(ours, "SB-Mid-server-other")
    assert ours["gross_amount"] == "10000.00"
    assert ours["status_code"] == {"pending": "201", "challenge": "201", "capture": "200",
                                   "settlement": "200"}.get(status, "202")
    assert TIME.match(ours["transaction_time"])
    assert ("settlement_time" in ours) == (status == "settlement")
    assert all(value is not None for value in ours.values())  # Midtrans leaves fields out, never null


def test_the_sbtest_fixture_signature_is_reproduced_exactly():
    real = sample("fixture_credit_card_settlement_sbtest.json")
    txn = shapes.Transaction(real["order_id"], real["transaction_id"], 150000, "credit_card", real["transaction_time"])
    assert shapes.build_notification(txn, "settlement", SERVER_KEY)["signature_key"] == real["signature_key"]


def test_bni_alone_fills_payment_amounts_and_only_once_paid():
    assert notification("bni_va", "settlement")["payment_amounts"][0]["amount"] == "145000.00"
    assert notification("bni_va", "pending")["payment_amounts"] == []
    assert notification("bca_va", "settlement")["payment_amounts"] == []


def test_references_are_stable_for_one_transaction_and_sized_like_the_samples():
    first, again = notification("permata_va", "pending"), notification("permata_va", "settlement")
    assert first["permata_va_number"] == again["permata_va_number"]
    assert len(first["permata_va_number"]) == len(sample("bank_transfer_permata_settlement.json")["permata_va_number"])
    assert re.fullmatch(r"\d{12}", notification("echannel", "pending")["bill_key"])


@pytest.mark.parametrize("method,status", [("gopay", "capture"), ("bca_va", "challenge"), ("gopay", "refund")])
def test_impossible_combinations_are_refused(method, status):
    with pytest.raises(shapes.UnsupportedNotification):
        notification(method, status)


@pytest.mark.parametrize("method,outcome,statuses", [
    ("credit_card", "pay", ["capture", "settlement"]),
    ("bca_va", "pay", ["pending", "settlement"]),
    ("gopay", "pending", ["pending"]),
    ("credit_card", "deny", ["deny"]),
    ("qris", "deny", ["pending", "deny"]),
    ("indomaret", "expire", ["pending", "expire"]),
    ("credit_card", "challenge", ["challenge"]),
])
def test_each_outcome_sends_its_statuses_in_order(method, outcome, statuses):
    assert shapes.outcome_statuses(method, outcome) == statuses


def test_only_a_card_can_be_challenged():
    with pytest.raises(shapes.UnsupportedNotification, match="hanya pembayaran kartu"):
        shapes.outcome_statuses("bca_va", "challenge")
