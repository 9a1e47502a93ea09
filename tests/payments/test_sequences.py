"""Property: whatever the order and duplication of deliveries, the payment ends where Midtrans does.

Each example takes one realistic Midtrans lifecycle for one Snap order, delivers every one of its
notifications at least once, some several times, in any order, through the signature check, the
notifications table and the task. With GET status on, Midtrans answers with its truth at the time
of each delivery (never behind what was already delivered); with it off, only the signed bodies
count and the transition table alone must keep the payment right.
"""
import itertools
import json

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from shop.accounts.models import InboxMessage
from shop.extensions import db, mail
from shop.orders.models import OrderStatus
from shop.payments import receiving
from shop.payments.models import PaymentStatus as P
from shop.payments.states import OPEN, PAID, status_for
from tests.payments.helpers import committed_payment, signed

EXAMPLES = 120
TIME = {"A": "2026-05-27 14:00:00", "B": "2026-05-27 14:30:00"}
CODE = {"pending": "201", "deny": "202", "expire": "202", "cancel": "202"}
VA = {"payment_type": "bank_transfer", "va_numbers": [{"bank": "bca", "va_number": "12345678901"}]}
PERMATA = {"payment_type": "bank_transfer", "permata_va_number": "8562000087926752"}
MANDIRI = {"payment_type": "echannel", "bill_key": "990000000260", "biller_code": "70012"}
INDOMARET = {"payment_type": "cstore", "store": "indomaret", "payment_code": "300063000630006300"}
CARD = {"payment_type": "credit_card", "masked_card": "48111111-1114"}

# name -> [(transaction, transaction_status, fraud_status, method fields, extra fields)]
LIFECYCLES = {
    "va paid": [("A", "pending", None, VA, {}), ("A", "settlement", "accept", VA, {})],
    "va expired": [("A", "pending", None, VA, {}), ("A", "expire", None, VA, {})],
    "card challenge accepted": [("A", "capture", "challenge", CARD, {}), ("A", "settlement", "accept", CARD, {})],
    "card challenge denied": [("A", "capture", "challenge", CARD, {}), ("A", "deny", "deny", CARD, {})],
    "card capture settled": [("A", "capture", "accept", CARD, {}), ("A", "settlement", "accept", CARD, {})],
    "card voided": [("A", "capture", "accept", CARD, {}), ("A", "cancel", "accept", CARD, {})],
    "refunded in two steps": [
        ("A", "pending", None, VA, {}), ("A", "settlement", "accept", VA, {}),
        ("A", "partial_refund", "accept", VA, {"refund_amount": "50000.00"}),
        ("A", "refund", "accept", VA, {"refund_amount": "150000.00"})],
    "permata reversed": [("A", "pending", None, PERMATA, {}), ("A", "settlement", None, PERMATA, {}),
                         ("A", "deny", None, PERMATA, {})],
    "mandiri bill reversed": [("A", "pending", None, MANDIRI, {}), ("A", "settlement", "accept", MANDIRI, {}),
                              ("A", "deny", None, MANDIRI, {})],
    "indomaret reversed": [("A", "pending", None, INDOMARET, {}), ("A", "settlement", None, INDOMARET, {}),
                           ("A", "deny", None, INDOMARET, {})],
    "card declined then va paid": [("A", "deny", "accept", CARD, {}), ("B", "pending", None, VA, {}),
                                   ("B", "settlement", "accept", VA, {})],
    "qr expired then va paid": [("A", "pending", None, {"payment_type": "qris"}, {}),
                                ("A", "expire", None, {"payment_type": "qris"}, {}),
                                ("B", "pending", None, VA, {}), ("B", "settlement", "accept", VA, {})],
}
ORDER_FOR = {P.SUCCESS: OrderStatus.SUCCESS, P.EXPIRED: OrderStatus.EXPIRED, P.DENIED: OrderStatus.FAILED,
             P.CANCELLED: OrderStatus.CANCELLED, P.REFUNDED: OrderStatus.REFUNDED}
RELEASED = (OrderStatus.EXPIRED, OrderStatus.FAILED, OrderStatus.CANCELLED)
_ids = itertools.count(1)


@st.composite
def deliveries(draw):
    """A lifecycle and a delivery order: every notification at least once, some again, shuffled."""
    name = draw(st.sampled_from(sorted(LIFECYCLES)))
    events = range(len(LIFECYCLES[name]))
    again = draw(st.lists(st.sampled_from(events), max_size=4))
    return name, draw(st.permutations([*events, *again]))


def signed_code(transaction_status: str, fraud: str | None) -> str:
    """The status_code Midtrans sends with this status (a challenged capture is 201, like pending)."""
    if transaction_status == "capture" and fraud == "challenge":
        return "201"
    return CODE.get(transaction_status, "200")


def body_for(payment, event, run: int) -> dict:
    transaction, transaction_status, fraud, method, extra = event
    body = {"transaction_time": TIME[transaction], "transaction_status": transaction_status,
            "transaction_id": f"trx-{run}-{transaction}", "status_message": "midtrans payment notification",
            "status_code": signed_code(transaction_status, fraud), "order_id": payment.midtrans_order_id,
            "merchant_id": "G141532850", "gross_amount": "150000.00", "currency": "IDR", **method, **extra}
    if fraud:
        body["fraud_status"] = fraud
    if transaction_status in ("settlement", "refund", "partial_refund"):
        body["settlement_time"] = "2026-05-27 15:00:00"
    return signed(body)


def truth_at(events, bodies, delivered_up_to: int, transaction: str) -> dict | None:
    """What GET status says for `transaction` once Midtrans got at least to `delivered_up_to`."""
    known = [bodies[i] for i in range(delivered_up_to + 1) if events[i][0] == transaction]
    return {**known[-1], "status_message": "Success, transaction is found"} if known else None


def run_sequence(midtrans, process, name, order):
    run = next(_ids)
    events = LIFECYCLES[name]
    payment = committed_payment()
    product = payment.order.lines[0].product
    bodies = [body_for(payment, event, run) for event in events]
    furthest, seen_paid = -1, False
    with mail.record_messages() as outbox:
        for index in order:
            furthest = max(furthest, index)
            for transaction in "AB":
                truth = truth_at(events, bodies, furthest, transaction)
                if truth:
                    midtrans.statuses[f"trx-{run}-{transaction}"] = truth
            notification = receiving.record_notification(json.dumps(bodies[index]).encode())
            db.session.commit()
            process(notification.id)
            seen_paid = check_invariants(payment, product, outbox, seen_paid)
    expected = status_for(events[-1][1], events[-1][2])
    assert payment.status is expected, (name, order)
    assert payment.order.status is ORDER_FOR.get(expected, payment.order.status)
    assert payment.order.stock_released is (payment.order.status in RELEASED) or payment.order.needs_review


def check_invariants(payment, product, outbox, seen_paid: bool) -> bool:
    if seen_paid:
        assert payment.status not in OPEN, "paid, then pending again"
    inbox = db.session.scalar(select(func.count()).select_from(InboxMessage)
                              .where(InboxMessage.order_id == payment.order_id))
    assert len(outbox) <= 1 and inbox <= 1, "the shopper was told twice"
    assert product.stock == (5 if payment.order.stock_released else 3), "stock released twice or not at all"
    return seen_paid or payment.status in PAID


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(case=deliveries())
def test_verified_by_get_status_ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case):
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", True)
    run_sequence(midtrans, process, *case)


@SETTINGS
@given(case=deliveries())
def test_signature_only_still_ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case):
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", False)
    run_sequence(midtrans, process, *case)
