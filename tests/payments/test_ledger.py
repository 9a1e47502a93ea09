"""The order's money (shop.payments.ledger): paid, refunds requested and confirmed, chargebacks, fees.

Statuses are applied as GET-status answers through applying.apply_midtrans_status, as the task,
reconciliation and replays do; the ledger is read back from the recorded movements.
"""
import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from shop import jakarta
from shop.extensions import db
from shop.models import utcnow
from shop.payments import applying, ledger, receiving
from shop.payments.models import (MoneyEventKind as K, Notification, NotificationOutcome as Out, NotificationSource,
                                  PaymentStatus as P)
from shop.payments.timeline import order_timeline
from tests.factories import OrderFactory, PaymentFactory

AMOUNT = 150000


def new_payment(payment_type="gopay"):
    return PaymentFactory(order=OrderFactory(total=AMOUNT), payment_type=payment_type)


def status(payment, transaction_status, **fields) -> dict:
    return {"order_id": payment.midtrans_order_id, "transaction_id": f"txn-{payment.id}",
            "transaction_status": transaction_status, "status_code": "200", "gross_amount": f"{AMOUNT}.00",
            "payment_type": payment.payment_type, "transaction_time": "2026-12-01 10:00:00",
            "settlement_time": "2026-12-01 10:00:05", "fraud_status": "accept", **fields}


def refund(refund_id: str, amount: int, confirmed: bool, reason: str = "barang rusak") -> dict:
    entry = {"refund_chargeback_id": refund_id, "refund_amount": f"{amount}.00", "created_at": "2026-12-02 09:00:00",
             "reason": reason, "refund_key": f"key-{refund_id}"}
    return {**entry, "bank_confirmed_at": "2026-12-02 12:00:00"} if confirmed else entry


def refunded(payment, *entries, total: bool = False) -> dict:
    cumulative = sum(int(entry["refund_amount"][:-3]) for entry in entries)
    return status(payment, "refund" if total else "partial_refund", refund_amount=f"{cumulative}.00",
                  refunds=list(entries))


def apply(payment, body: dict, source=NotificationSource.WEBHOOK):
    notification = Notification(payment=payment, source=source, body=json.dumps(body),
                                **receiving.summary_columns(body))
    db.session.add(notification)
    return applying.apply_midtrans_status(payment, body, notification)


def amounts(payment) -> dict:
    return ledger.order_ledger(payment.order_id).as_dict()


def test_a_settlement_records_the_payment_once():
    payment = new_payment()
    assert apply(payment, status(payment, "settlement")).money_moved
    assert not apply(payment, status(payment, "settlement")).money_moved  # a duplicate
    assert amounts(payment) == {"paid_amount": AMOUNT, "refunded_amount": 0, "refund_pending_amount": 0,
                                "refundable_amount": AMOUNT}
    [event] = ledger.money_events(payment.order_id)
    assert (event.kind, event.actor, event.amount) == (K.PAID, "webhook", AMOUNT)


def test_a_payment_paid_again_by_another_path_is_still_recorded_once():
    # The bench sets settled payments back to pending between rounds; no Midtrans path does, but the
    # ledger must not depend on it: the second settlement is applied, and nothing fails or doubles.
    payment = new_payment()
    apply(payment, status(payment, "settlement"))
    payment.status = P.PENDING
    change = apply(payment, status(payment, "settlement"))
    assert change.outcome is Out.APPLIED and not change.money_moved
    assert [event.kind for event in ledger.money_events(payment.order_id)] == [K.PAID]
    assert amounts(payment)["paid_amount"] == AMOUNT


def test_a_refund_is_pending_until_the_bank_confirms_it():
    payment = new_payment()
    apply(payment, status(payment, "settlement"))
    apply(payment, refunded(payment, refund("r1", 50000, confirmed=False)))
    assert amounts(payment) == {"paid_amount": AMOUNT, "refunded_amount": 0, "refund_pending_amount": 50000,
                                "refundable_amount": 100000}
    change = apply(payment, refunded(payment, refund("r1", 50000, confirmed=True)))
    assert change.outcome is Out.DUPLICATE and change.money_moved and change.pages_changed
    assert amounts(payment) == {"paid_amount": AMOUNT, "refunded_amount": 50000, "refund_pending_amount": 0,
                                "refundable_amount": 100000}


def test_the_confirmation_first_then_the_request_counts_the_refund_once():
    payment = new_payment()
    apply(payment, refunded(payment, refund("r1", 50000, confirmed=True)))
    apply(payment, refunded(payment, refund("r1", 50000, confirmed=False)))
    apply(payment, status(payment, "settlement"))  # late: stale for the payment, nothing new for the ledger
    assert payment.status is P.PARTIALLY_REFUNDED
    assert amounts(payment)["refunded_amount"] == 50000 and amounts(payment)["refund_pending_amount"] == 0
    assert amounts(payment)["paid_amount"] == AMOUNT  # a refund implies the payment before it


def test_a_second_partial_refund_is_new_money_though_the_status_stays():
    payment = new_payment()
    apply(payment, status(payment, "settlement"))
    apply(payment, refunded(payment, refund("r1", 50000, confirmed=True)))
    change = apply(payment, refunded(payment, refund("r1", 50000, True), refund("r2", 30000, True)))
    assert change.outcome is Out.DUPLICATE and change.money_moved
    assert amounts(payment)["refunded_amount"] == 80000 and amounts(payment)["refundable_amount"] == 70000


def test_a_refund_made_in_the_midtrans_dashboard_without_a_refund_list_is_recorded_once():
    # The sandbox shape: refund_key and the cumulative refund_amount, no refunds[].
    payment = new_payment("credit_card")
    apply(payment, status(payment, "settlement"))
    body = status(payment, "refund", refund_amount=f"{AMOUNT}.00", refund_key="merchant-refund-1")
    apply(payment, body)
    apply(payment, body)
    assert payment.status is P.REFUNDED
    assert amounts(payment) == {"paid_amount": AMOUNT, "refunded_amount": AMOUNT, "refund_pending_amount": 0,
                                "refundable_amount": 0}


def test_a_chargeback_takes_money_back():
    payment = new_payment("credit_card")
    apply(payment, status(payment, "settlement"))
    apply(payment, status(payment, "partial_chargeback", refund_amount="20000.00",
                          refunds=[refund("cb1", 20000, confirmed=False, reason="dispute")]))
    assert [e.kind for e in ledger.money_events(payment.order_id)] == [K.PAID, K.CHARGEBACK]
    assert amounts(payment)["refunded_amount"] == 20000


def test_a_reversed_settlement_takes_the_payment_back_out():
    payment = new_payment("bank_transfer")
    payment.va_numbers = [{"bank": "permata", "va_number": "8778001234567890"}]
    apply(payment, status(payment, "settlement"))
    apply(payment, status(payment, "deny", status_message="reversal"))
    assert payment.status is P.DENIED and amounts(payment)["paid_amount"] == 0


def fee_imposed(payment, original) -> dict:
    return status(payment, "settlement", gross_amount=f"{AMOUNT + 2000}.00",
                  metadata={"extra_info": {"gross_amount_info": {"original_amount": original}}})


def test_a_fee_paid_on_top_is_paid_with_the_fee_recorded():
    payment = new_payment("qris")
    change = apply(payment, fee_imposed(payment, f"{AMOUNT}.00"))
    assert change.outcome is Out.APPLIED and not payment.amount_mismatch
    [event] = ledger.money_events(payment.order_id)
    assert (event.amount, event.fee) == (AMOUNT, 2000)


def test_a_larger_amount_without_our_original_amount_is_a_mismatch():
    payment = new_payment("qris")
    assert apply(payment, fee_imposed(payment, "149000.00")).outcome is Out.AMOUNT_MISMATCH
    other = new_payment("qris")
    assert apply(other, status(other, "settlement", gross_amount=f"{AMOUNT + 2000}.00",
                               metadata={"extra_info": "x"})).outcome is Out.AMOUNT_MISMATCH
    assert ledger.money_events(payment.order_id) == [] and payment.amount_mismatch and other.amount_mismatch


def test_the_timeline_tells_who_did_what_oldest_first():
    payment = new_payment()
    now = jakarta.to_midtrans(utcnow() + timedelta(seconds=5))
    apply(payment, status(payment, "settlement", transaction_time=now, settlement_time=now))
    apply(payment, refunded(payment, {**refund("r1", 50000, confirmed=False), "created_at": now}),
          source=NotificationSource.RECONCILE)
    entries = order_timeline(payment.order, ledger.money_events(payment.order_id))
    assert [(e.kind, e.actor) for e in entries][:2] == [("order_placed", "shopper"), ("attempt_opened", "shopper")]
    money = [(e.kind, e.actor, e.amount) for e in entries if e.amount is not None]
    assert money == [("paid", "webhook", AMOUNT), ("refund_requested", "reconciler", 50000)]
    assert [e.actor_label for e in entries if e.amount is not None] == ["notifikasi Midtrans", "rekonsiliasi"]
    assert entries[0].actor_label == "pembeli"
    assert [e.kind for e in entries] == ["order_placed", "attempt_opened", "notification", "notification", "paid",
                                         "refund_requested"]
    assert any("Pengembalian dana diajukan: barang rusak" == e.description for e in entries)


# --- any order, any duplicates: the ledger is always the truth --------------------------------

# What Midtrans sends, in the order it happened: each body lists every refund as it stood then.
HISTORY = ("settle", "r1 requested", "r1 confirmed", "r2 requested", "r2 confirmed")
REFUNDS = {"r1": 50000, "r2": 100000}


def history_body(payment, step: str) -> dict:
    if step == "settle":
        return status(payment, "settlement")
    position = HISTORY.index(step)
    entries = [refund(rid, REFUNDS[rid], confirmed=f"{rid} confirmed" in HISTORY[:position + 1])
               for rid in REFUNDS if f"{rid} requested" in HISTORY[:position + 1]]
    return refunded(payment, *entries, total=len(entries) == 2)


def truth(delivered: list[str]) -> dict:
    """What the delivered notifications together say, worked out from HISTORY alone."""
    latest = max((HISTORY.index(step) for step in delivered), default=-1)
    known = HISTORY[:latest + 1]
    confirmed = sum(REFUNDS[rid] for rid in REFUNDS if f"{rid} confirmed" in known)
    pending = sum(REFUNDS[rid] for rid in REFUNDS if f"{rid} requested" in known and f"{rid} confirmed" not in known)
    paid = AMOUNT if delivered else 0
    return {"paid_amount": paid, "refunded_amount": confirmed, "refund_pending_amount": pending,
            "refundable_amount": max(0, paid - confirmed - pending)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(HISTORY), max_size=8))
def test_the_ledger_equals_the_truth_whatever_arrives_in_whatever_order(delivered):
    payment = new_payment()
    for step in delivered:
        apply(payment, history_body(payment, step))
        assert all(value >= 0 for value in amounts(payment).values())
    assert amounts(payment) == truth(delivered)


def test_show_order_prints_the_ledger_and_the_timeline(runner):
    payment = new_payment()
    apply(payment, status(payment, "settlement"))
    apply(payment, refunded(payment, refund("r1", 50000, confirmed=True)))
    db.session.flush()
    result = runner.invoke(args=["shop", "show-order", str(payment.order_id)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {key: data[key] for key in ("paid_amount", "refunded_amount", "refund_pending_amount",
                                       "refundable_amount")} == amounts(payment)
    assert data["refundable_amount"] == 100000
    assert {(e["kind"], e["actor"], e["amount"]) for e in data["timeline"]} >= {
        ("order_placed", "shopper", None), ("paid", "webhook", AMOUNT), ("refunded", "webhook", 50000)}
    assert all(set(e) == {"at", "kind", "actor", "amount", "description"} for e in data["timeline"])



def test_a_payment_dated_by_midtrans_comes_after_the_notification_that_told_of_it():
    # Midtrans dates to the second; the notification arrived later within that same second.
    payment = new_payment()
    now = utcnow()
    body = status(payment, "settlement", transaction_time=jakarta.to_midtrans(now), settlement_time=jakarta.to_midtrans(now))
    apply(payment, body)
    entries = order_timeline(payment.order, ledger.money_events(payment.order_id))
    assert [e.kind for e in entries][-2:] == ["notification", "paid"]
