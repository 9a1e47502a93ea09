"""Every Midtrans sample notification, re-signed with the test key, through the endpoint and the task."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from shop.extensions import db, mail
from shop.orders.models import OrderStatus
from shop.payments.models import Notification, NotificationOutcome, PaymentStatus as P
from shop.payments.states import parse_rupiah
from tests.factories import OrderFactory, PaymentFactory, ProductFactory
from tests.payments.helpers import notification_samples, post, sample, signed

# sample -> (payment status before, payment status after, order status after)
EXPECTED = {
    "bank_transfer_bca_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "bank_transfer_bni_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "bank_transfer_bri_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "bank_transfer_permata_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "credit_card_cancel.json": (P.SUCCESS, P.CANCELLED, OrderStatus.CANCELLED),  # void of a capture
    "credit_card_capture.json": (P.CREATED, P.SUCCESS, OrderStatus.SUCCESS),
    "credit_card_capture_challenge.json": (P.CREATED, P.CHALLENGE, OrderStatus.REVIEW),
    "credit_card_deny.json": (P.CHALLENGE, P.DENIED, OrderStatus.FAILED),
    "credit_card_settlement.json": (P.CHALLENGE, P.SUCCESS, OrderStatus.SUCCESS),
    "cstore_alfamart_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "cstore_indomaret_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "echannel_mandiri_bill_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "fixture_bank_transfer_pending_sbtest.json": (P.CREATED, P.PENDING, OrderStatus.PENDING),
    "fixture_credit_card_refund_sbtest.json": (P.SUCCESS, P.REFUNDED, OrderStatus.REFUNDED),
    "fixture_credit_card_settlement_sbtest.json": (P.CREATED, P.SUCCESS, OrderStatus.SUCCESS),
    "fixture_gopay_partial_refund_sbtest.json": (P.SUCCESS, P.PARTIALLY_REFUNDED, OrderStatus.PARTIALLY_REFUNDED),
    "fixture_qris_expire_sbtest.json": (P.PENDING, P.EXPIRED, OrderStatus.EXPIRED),
    "gopay_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "qris_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
    "shopeepay_settlement.json": (P.PENDING, P.SUCCESS, OrderStatus.SUCCESS),
}
ORDER_BEFORE = {P.SUCCESS: OrderStatus.SUCCESS, P.CHALLENGE: OrderStatus.REVIEW}


def test_every_sample_notification_is_covered():
    assert sorted(EXPECTED) == notification_samples()
    assert len(EXPECTED) == 20


def _payment_for(body: dict, before: P):
    amount = parse_rupiah(body["gross_amount"])
    product = ProductFactory(price=amount, stock=5)
    order = OrderFactory(total=amount, lines=None, status=ORDER_BEFORE.get(before, OrderStatus.PENDING),
                         user__password_hash="not-used-here")
    order.lines[0].product.stock = 5
    same_transaction = {"transaction_id": body["transaction_id"]} if before is not P.CREATED else {}
    payment = PaymentFactory(order=order, midtrans_order_id=body["order_id"], gross_amount=amount,
                             status=before, payment_type=body["payment_type"], **same_transaction)
    db.session.commit()
    return payment, product


@pytest.mark.parametrize("verify", [True, False], ids=["verified-by-GET-status", "signature-only"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_reaches_its_final_state(app, client, midtrans, monkeypatch, name, verify):
    before, after, order_after = EXPECTED[name]
    body = signed(sample(name))
    payment, _ = _payment_for(body, before)
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", verify)
    midtrans.answers_status(body)
    with mail.record_messages() as outbox:
        assert post(client, body).status_code == 200
    db.session.expire_all()
    notification = db.session.scalars(select(Notification)).one()
    assert notification.outcome is NotificationOutcome.APPLIED, notification.error
    assert (payment.status, payment.order.status) == (after, order_after)
    assert len(midtrans.calls("GET", "/v2/")) == (1 if verify else 0)
    paid_now = order_after is OrderStatus.SUCCESS and before is not P.SUCCESS
    receipts = [message for message in outbox if message.subject.endswith("sudah diterima")]
    assert len(receipts) == (1 if paid_now else 0)
    refunded_now = after in (P.REFUNDED, P.PARTIALLY_REFUNDED)  # these samples are bank-confirmed refunds
    refund_emails = [message for message in outbox if message.subject.endswith("sudah dikembalikan")]
    assert len(refund_emails) == (1 if refunded_now else 0)
    stock = payment.order.lines[0].product.stock
    assert stock == (5 + 2 if order_after in (OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED) else 5)


def test_sample_details_are_kept_with_midtrans_times_in_utc(client, midtrans):
    body = signed(sample("bank_transfer_bca_settlement.json"))
    payment, _ = _payment_for(body, P.PENDING)
    post(client, body)
    db.session.expire_all()
    assert payment.va_numbers == [{"va_number": "333333333333333", "bank": "bca"}]
    # "2021-06-23 11:27:50" in Jakarta (UTC+7) is 04:27:50 UTC.
    assert payment.settlement_time == datetime(2021, 6, 23, 4, 27, 50, tzinfo=timezone.utc)
    assert payment.transaction_time == datetime(2021, 6, 23, 4, 27, 20, tzinfo=timezone.utc)
    assert payment.order.paid_at == payment.settlement_time


@pytest.mark.parametrize("name,fields", [
    ("bank_transfer_permata_settlement.json", {"va_numbers": [{"bank": "permata", "va_number": "8562000087926752"}]}),
    ("echannel_mandiri_bill_settlement.json", {"bill_key": "990000000260", "biller_code": "70012"}),
    ("cstore_indomaret_settlement.json", {"payment_code": "300063000630006300", "store": "indomaret"}),
    ("fixture_credit_card_refund_sbtest.json", {"refund_amount": 150000}),
    ("fixture_gopay_partial_refund_sbtest.json", {"refund_amount": 50000}),
])
def test_payment_method_details(client, name, fields):
    body = signed(sample(name))
    payment, _ = _payment_for(body, EXPECTED[name][0])
    post(client, body)
    db.session.expire_all()
    assert {key: getattr(payment, key) for key in fields} == fields
