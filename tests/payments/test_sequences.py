"""Property: whatever the order and duplication of deliveries, the payment ends where Midtrans does.

Each example takes one realistic Midtrans lifecycle for one Snap order, delivers every one of its
notifications at least once, some several times, in any order, through the signature check, the
notifications table and the task. With GET status on, Midtrans answers with its truth at the time
of each delivery (never behind what was already delivered); with it off, only the signed bodies
count and the transition table alone must keep the payment right.

The expected end (payment and order status, stock given back, flagged for an admin) comes from
`expected_end`, a small model of Midtrans's rules written without the shop's code: within one
transaction only a later status counts; a failed first transaction counts only until the second
one is heard of; money reported for a payment the shop holds as failed, or after the stock went
back, and a challenged card are for an admin.
"""
import itertools
import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from shop.accounts.models import InboxMessage
from shop.extensions import db, mail
from shop.orders.models import OrderStatus
from shop.payments import receiving
from shop.payments.models import MoneyEvent, MoneyEventKind, PaymentStatus as P
from shop.payments.states import OPEN, PAID
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
# What each (transaction_status, fraud_status) of the lifecycles means, from Midtrans's documentation.
MEANS = {
    ("pending", None): P.PENDING, ("capture", "challenge"): P.CHALLENGE, ("capture", "accept"): P.SUCCESS,
    ("settlement", "accept"): P.SUCCESS, ("settlement", None): P.SUCCESS,
    ("deny", None): P.DENIED, ("deny", "accept"): P.DENIED, ("deny", "deny"): P.DENIED,
    ("expire", None): P.EXPIRED, ("cancel", "accept"): P.CANCELLED,
    ("partial_refund", "accept"): P.PARTIALLY_REFUNDED, ("refund", "accept"): P.REFUNDED,
}
MONEY = (P.SUCCESS, P.PARTIALLY_REFUNDED, P.REFUNDED)
FAILURES = (P.DENIED, P.EXPIRED, P.CANCELLED)
ORDER_FOR = {P.SUCCESS: OrderStatus.SUCCESS, P.EXPIRED: OrderStatus.EXPIRED, P.DENIED: OrderStatus.FAILED,
             P.CANCELLED: OrderStatus.CANCELLED, P.REFUNDED: OrderStatus.REFUNDED}
_ids = itertools.count(1)


@dataclass(frozen=True)
class End:
    payment: P
    order: OrderStatus
    stock_released: bool
    needs_review: bool


def expected_end(events, order, verified: bool) -> End:
    """Where the shop must end after delivering `events` in `order` (see the module's docstring)."""
    latest, status, released, review = {}, P.CREATED, False, False
    for seen, transaction, new in learned(events, order, verified):
        if seen <= latest.get(transaction, -1) or (transaction == "A" and "B" in latest):
            review = review or (new in MONEY and status in FAILURES)  # money for a payment held as failed
            continue
        latest[transaction] = seen
        review = review or new is P.CHALLENGE or (new in MONEY and released)  # paid after the stock went back
        status = new
        released = released or status in FAILURES
    return End(status, ORDER_FOR[status], released, review)


def closes_the_open_second_transaction(events, order, verified: bool) -> bool:
    """The delivery the shop once got wrong (test_a_first_transaction_failing_late_leaves_the_second_open):
    when the payment kept naming the transaction of its last status *change*, the second transaction's
    pending found it already pending from the first, and the first's late failure was applied as its own."""
    latest, status, named = {}, P.CREATED, None
    for seen, transaction, new in learned(events, order, verified):
        if transaction == "A" and "B" in latest and named == "A" and new in FAILURES:
            return True
        if seen <= latest.get(transaction, -1) or (transaction == "A" and "B" in latest):
            continue
        named = transaction if named is None or new is not status else named
        latest[transaction], status = seen, new
    return False


def learned(events, order, verified: bool):
    """For each delivery: the index, transaction and meaning of what the shop learns from it (with
    GET status on, Midtrans's truth for that transaction by then; off, the delivered body)."""
    furthest = -1
    for index in order:
        furthest = max(furthest, index)
        seen = truth_index(events, furthest, events[index][0]) if verified else index
        yield seen, events[seen][0], MEANS[events[seen][1:3]]


def truth_index(events, delivered_up_to: int, transaction: str) -> int:
    """The event GET status reports for `transaction` once Midtrans got to `delivered_up_to`."""
    return max(i for i in range(delivered_up_to + 1) if events[i][0] == transaction)


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


def run_sequence(midtrans, process, name, order, verified: bool):
    run = next(_ids)
    events = LIFECYCLES[name]
    payment = committed_payment()
    product = payment.order.lines[0].product
    bodies = [body_for(payment, event, run) for event in events]
    furthest, seen_paid = -1, False
    with mail.record_messages() as outbox:
        for index in order:
            furthest = max(furthest, index)
            for transaction in {event[0] for event in events[:furthest + 1]}:
                midtrans.answers_status(bodies[truth_index(events, furthest, transaction)])
            notification = receiving.record_notification(json.dumps(bodies[index]).encode())
            db.session.commit()
            process(notification.id)
            seen_paid = check_invariants(payment, product, outbox, seen_paid)
    end = End(payment.status, payment.order.status, payment.order.stock_released, payment.order.needs_review)
    assert end == expected_end(events, order, verified), (name, order)


def check_invariants(payment, product, outbox, seen_paid: bool) -> bool:
    if seen_paid:
        assert payment.status not in OPEN, "paid, then pending again"
    inbox = db.session.scalar(select(func.count()).select_from(InboxMessage)
                              .where(InboxMessage.order_id == payment.order_id))
    receipts = [message for message in outbox if message.subject.endswith("sudah diterima")]
    assert len(receipts) <= 1 and inbox <= 1, "the shopper was told twice"
    assert len({message.msgId for message in outbox}) == len(outbox), "one e-mail sent twice"
    refunds = db.session.scalar(select(func.count()).select_from(MoneyEvent).where(
        MoneyEvent.order_id == payment.order_id, MoneyEvent.kind == MoneyEventKind.REFUNDED))
    refund_emails = [message for message in outbox if message.subject.endswith("sudah dikembalikan")]
    assert len(refund_emails) == refunds, "not one e-mail per confirmed refund"
    assert product.stock == (5 if payment.order.stock_released else 3), "stock released twice or not at all"
    return seen_paid or payment.status in PAID


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case, verified: bool) -> None:
    name, order = case
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", verified)
    run_sequence(midtrans, process, name, order, verified)


@SETTINGS
@given(case=deliveries())
def test_verified_by_get_status_ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case):
    ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case, verified=True)


@SETTINGS
@given(case=deliveries())
def test_signature_only_still_ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case):
    ends_at_midtrans_truth(app, midtrans, process, monkeypatch, case, verified=False)


@pytest.mark.parametrize("verified", [True, False], ids=["GET status", "signature only"])
def test_a_first_transaction_failing_late_leaves_the_second_open(app, midtrans, process, monkeypatch, verified):
    monkeypatch.setitem(app.config, "MIDTRANS_VERIFY_STATUS", verified)
    events, order = LIFECYCLES["qr expired then va paid"], [0, 2, 1, 3]
    assert closes_the_open_second_transaction(events, order, verified)
    assert expected_end(events, order, verified) == End(P.SUCCESS, OrderStatus.SUCCESS, False, False)
    run_sequence(midtrans, process, "qr expired then va paid", order, verified)
