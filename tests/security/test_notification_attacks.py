"""Attacks on POST /api/midtrans/notification: forged bodies, replays and amount tricks.

Tasks run eagerly here (as in development), so an accepted notification is applied at once and
a refused one can be seen to have changed nothing.
"""
import json

import pytest
from sqlalchemy import select

from shop.extensions import db, mail
from shop.orders.models import OrderStatus
from shop.payments.gateway import compute_signature, sign
from shop.payments.models import Notification, NotificationOutcome, PaymentStatus
from tests.payments.helpers import TEST_KEY, for_payment, post
from tests.security.helpers import assert_refused_as_json, shop_state


def outcomes() -> list:
    return [n.outcome for n in db.session.scalars(select(Notification).order_by(Notification.id))]


# --- forged or altered bodies: 400, nothing stored, nothing moved --------------------------

def _altered(body: dict, field: str, value) -> dict:
    return {**body, field: value}


FORGERIES = {
    "order_id changed": lambda b: _altered(b, "order_id", b["order_id"][:-1] + "2"),
    "status_code changed": lambda b: _altered(b, "status_code", "201"),
    "gross_amount changed": lambda b: _altered(b, "gross_amount", "1.00"),
    "gross_amount reformatted": lambda b: _altered(b, "gross_amount", b["gross_amount"][:-3]),
    "signature of another key": lambda b: sign(b, "SB-Mid-server-attacker"),
    "signature of the production key": lambda b: sign(b, TEST_KEY.replace("SB-", "")),
    "signature truncated": lambda b: _altered(b, "signature_key", b["signature_key"][:64]),
    "signature one char short": lambda b: _altered(b, "signature_key", b["signature_key"][:-1]),
    "signature upper case": lambda b: _altered(b, "signature_key", b["signature_key"].upper()),
    "signature with a space": lambda b: _altered(b, "signature_key", b["signature_key"] + " "),
    "signature empty": lambda b: _altered(b, "signature_key", ""),
    "signature null": lambda b: _altered(b, "signature_key", None),
    "signature as a number": lambda b: _altered(b, "signature_key", 0),
    "signature missing": lambda b: {k: v for k, v in b.items() if k != "signature_key"},
    "signature of the SHA-256 kind": lambda b: _altered(b, "signature_key", b["signature_key"][:64] * 2),
    "signature over the fields without the key": lambda b: _altered(b, "signature_key", compute_signature(
        b["order_id"], b["status_code"], b["gross_amount"], "")),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_or_altered_bodies_get_400_and_change_nothing(client, payment, forge):
    genuine = for_payment(payment)
    before = shop_state()
    response = post(client, forge(genuine))
    assert response.status_code == 400
    assert response.get_json()["error"] in ("bad_signature", "invalid_notification")
    assert shop_state() == before
    assert post(client, genuine).status_code == 200  # the genuine one still goes through


def test_unsigned_fields_cannot_turn_a_pending_body_into_a_payment(client, payment):
    """transaction_status is not signed: a captured pending body edited to settlement must not pay."""
    pending = for_payment(payment, "fixture_bank_transfer_pending_sbtest.json")
    assert pending["status_code"] == "201"
    assert post(client, {**pending, "transaction_status": "settlement", "fraud_status": "accept"}).status_code == 200
    db.session.expire_all()
    assert payment.status is PaymentStatus.CREATED
    assert payment.order.status is OrderStatus.PENDING and payment.order.needs_review
    assert outcomes() == [NotificationOutcome.REJECTED]


# --- replays: a genuine old notification later ---------------------------------------------

def test_a_replayed_settlement_pays_once_mails_once(client, payment):
    settlement = for_payment(payment)
    with mail.record_messages() as outbox:
        for _ in range(5):
            assert post(client, settlement).status_code == 200
    db.session.expire_all()
    assert payment.order.status is OrderStatus.SUCCESS
    assert len(outbox) == 1 and len(payment.order.user.inbox) == 1
    assert outcomes() == [NotificationOutcome.APPLIED] + [NotificationOutcome.DUPLICATE] * 4


def test_a_replayed_pending_cannot_move_a_paid_order_back(client, payment, product):
    pending = for_payment(payment, "fixture_bank_transfer_pending_sbtest.json")
    settlement = for_payment(payment, "fixture_bank_transfer_pending_sbtest.json", transaction_status="settlement",
                             status_code="200", settlement_time="2026-05-01 10:05:00")
    for body in (pending, settlement, pending, pending):
        assert post(client, body).status_code == 200
    db.session.expire_all()
    assert payment.status is PaymentStatus.SUCCESS and payment.order.status is OrderStatus.SUCCESS
    assert product.stock == 3
    assert outcomes() == [NotificationOutcome.APPLIED, NotificationOutcome.APPLIED,
                          NotificationOutcome.STALE, NotificationOutcome.STALE]


def test_a_replayed_expiry_of_another_transaction_cannot_undo_a_payment(client, payment, product):
    """Snap keeps one order id across attempts (QRIS expired, then a card paid): the old expiry comes late."""
    card_settlement, qris_expiry = for_payment(payment), for_payment(payment, "fixture_qris_expire_sbtest.json")
    assert card_settlement["transaction_id"] != qris_expiry["transaction_id"]
    for body in (card_settlement, qris_expiry, qris_expiry):
        assert post(client, body).status_code == 200
    db.session.expire_all()
    assert payment.status is PaymentStatus.SUCCESS and payment.order.status is OrderStatus.SUCCESS
    assert product.stock == 3 and not payment.order.stock_released
    assert outcomes()[1:] == [NotificationOutcome.STALE, NotificationOutcome.STALE]


def test_a_settlement_of_one_attempt_cannot_pay_another(client, payment):
    from tests.factories import PaymentFactory

    second = PaymentFactory(order=payment.order, attempt=2, midtrans_order_id=payment.midtrans_order_id + "b",
                            gross_amount=payment.gross_amount)
    db.session.commit()
    body = for_payment(payment)
    assert post(client, {**body, "order_id": second.midtrans_order_id}).status_code == 400
    db.session.expire_all()
    assert second.status is PaymentStatus.CREATED


# --- amount tricks ----------------------------------------------------------------------------

# Signed (as if Midtrans said so) with an amount that is not exactly the 150.000 we asked for.
NOT_THE_AMOUNT = ["1.5e5", "1e4", "150000e0", "-150000.00", "-0", "0", "0150000.00", "+150000.00", "150_000",
                  " 150000.00", "150000.00 ", "150000.00\n", "150000,00", "150.000", "150000.001", "150000.01",
                  "150000.50", "15000000", "1500000.00", "9" * 40, "1" + "0" * 400, "NaN", "Infinity", "0x249F0",
                  "１５００００.00", "150000.00\u0000", "abc", "15O000.00"]


@pytest.mark.parametrize("amount", NOT_THE_AMOUNT)
def test_an_amount_that_is_not_exactly_ours_never_pays(client, payment, product, amount):
    response = post(client, for_payment(payment, gross_amount=amount))
    db.session.expire_all()
    assert payment.status is PaymentStatus.CREATED and payment.order.status is OrderStatus.PENDING
    assert product.stock == 3
    if response.status_code == 200:  # stored, then flagged for an admin
        assert outcomes() == [NotificationOutcome.AMOUNT_MISMATCH]
        assert payment.amount_mismatch and payment.order.needs_review
    else:
        assert_refused_as_json(response)


@pytest.mark.parametrize("amount", ["150000", "150000.0", "150000.00"])
def test_the_same_amount_written_as_midtrans_may_write_it_pays(client, payment, amount):
    assert post(client, for_payment(payment, gross_amount=amount)).status_code == 200
    db.session.expire_all()
    assert payment.order.status is OrderStatus.SUCCESS and not payment.amount_mismatch


@pytest.mark.parametrize("amount", [150000, 150000.0, 1.5e5, None, ["150000.00"], {"value": "150000.00"}, True])
def test_an_amount_that_is_not_a_string_is_refused_before_anything(client, payment, amount):
    body = {**for_payment(payment), "gross_amount": amount}
    before = shop_state()
    response = post(client, body)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_notification"
    assert shop_state() == before


# --- bodies that used to answer 503 (Midtrans retries those) or parse ambiguously ------------

def _raw_genuine(payment) -> str:
    return json.dumps(for_payment(payment))


@pytest.mark.parametrize("make_body", [
    lambda p: '{"order_id": "\\ud800", "status_code": "200", "gross_amount": "1.00", "signature_key": "ab"}',
    lambda p: _raw_genuine(p)[:-1] + ', "transaction_status": "settlement\\u0000"}',
    lambda p: _raw_genuine(p)[:-1] + ', "note": {"\\udfff": 1}}',
    lambda p: "[" * 30_000 + "]" * 30_000,  # within the 64 KiB limit, past Python's recursion limit
    lambda p: '{"a": ' * 8_000 + "1" + "}" * 8_000,
    lambda p: _raw_genuine(p)[:-1] + ', "gross_amount": "1.00"}',
    lambda p: _raw_genuine(p)[:-1] + ', "transaction_status": "settlement"}',
    lambda p: _raw_genuine(p).encode("utf-16"),
], ids=["lone surrogate", "NUL in a signed body", "surrogate key", "deep list", "deep object",
        "signed field repeated", "unsigned field repeated", "UTF-16"])
def test_bodies_that_cannot_be_stored_or_read_one_way_get_400(client, payment, make_body):
    before = shop_state()
    response = post(client, make_body(payment))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_notification"
    assert shop_state() == before
