"""Refunds from the shop, over HTTP against the fake Midtrans: once per refund_key, within the balance."""
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from shop.catalog.models import Product
from shop.extensions import db, mail
from shop.orders.models import Order, OrderStatus
from shop.outbox import services as outbox
from shop.outbox.models import OutboxEmail
from shop.payments import announcing, emails, ledger, money_workflow
from shop.payments.models import MoneyEventKind as K, PaymentAction, PaymentActionState as State, PaymentStatus as P
from shop.payments.manual_refunds import ManualRefund
from shop.payments.refunding import ActionRefused
from shop.payments.timeline import order_timeline
from shop import jakarta
from tests.payments.helpers import run_now
from tests.payments.money_helpers import ADMIN, paid, refund_of, refund_path, waiting
from tests.midtrans_samples import sample
from tests.payments.test_ledger import AMOUNT, apply, refund, refunded, status


def amounts(payment) -> dict:
    db.session.expire_all()
    return ledger.order_ledger(payment.order_id).as_dict()


def confirm(payment, *entries, total=False):
    """The bank-confirmed refund notification(s) Midtrans sends for the fake's refunds."""
    apply(payment, refunded(payment, *entries, total=total))
    db.session.commit()


def fake_entry(midtrans, key, confirmed=True) -> dict:
    done = midtrans.refunds[key]
    entry = refund(str(done["id"]), done["amount"], confirmed=confirmed, reason=done["reason"])
    return {**entry, "refund_key": key}


def test_a_full_refund_is_asked_once_then_confirmed_by_its_notifications(midtrans):
    payment = paid(midtrans)
    result = refund_of(payment)
    assert result.ok and result.amount == AMOUNT and "diterima Midtrans" in result.message
    [call] = midtrans.calls("POST", refund_path(payment))
    assert call.json() == {"refund_key": result.refund_key, "amount": AMOUNT, "reason": "barang rusak"}
    assert amounts(payment)["refund_pending_amount"] == AMOUNT and amounts(payment)["refundable_amount"] == 0
    entry = fake_entry(midtrans, result.refund_key)
    confirm(payment, {**entry, "bank_confirmed_at": None})  # the first notification: requested
    confirm(payment, entry, total=True)  # the second: bank-confirmed
    confirm(payment, entry, total=True)  # duplicated
    assert amounts(payment) == {"paid_amount": AMOUNT, "refunded_amount": AMOUNT, "refund_pending_amount": 0,
                                "refundable_amount": 0}
    order = db.session.get(Order, payment.order_id)
    assert order.status is OrderStatus.REFUNDED and not order.stock_released  # stock stays unless asked


def test_an_admin_may_return_the_stock_with_a_refund_once_midtrans_accepts_it(midtrans):
    payment = paid(midtrans)
    product_id = payment.order.lines[0].product_id
    midtrans.script("POST", refund_path(payment), 200, {"status_code": "412", "status_message": "no"})
    assert not refund_of(payment, 10000, return_stock=True).ok
    assert db.session.get(Product, product_id).stock == 3  # refused: nothing goes back
    assert refund_of(payment, 10000, return_stock=True).ok
    db.session.expire_all()
    assert db.session.get(Product, product_id).stock == 5


def test_partial_refunds_add_up_to_the_balance_and_no_further(midtrans):
    payment = paid(midtrans)
    assert refund_of(payment, 50000).ok
    assert refund_of(payment, 100000).ok
    with pytest.raises(ActionRefused, match="melebihi sisa"):
        refund_of(payment, 1)
    assert sorted(r["amount"] for r in midtrans.refunds.values()) == [50000, 100000]
    assert amounts(payment)["refundable_amount"] == 0


def test_a_refund_that_times_out_is_retried_with_the_same_key_and_refunded_once(midtrans):
    payment = paid(midtrans)
    midtrans.answer_late_once("POST", refund_path(payment), delay=3.0)  # longer than the read timeout
    result = refund_of(payment, 40000)
    calls = midtrans.calls("POST", refund_path(payment))
    assert len(calls) == 2 and {c.json()["refund_key"] for c in calls} == {result.refund_key}
    assert result.ok and len(midtrans.refunds) == 1  # the retry got 406 for our own key: done
    assert amounts(payment)["refundable_amount"] == AMOUNT - 40000


def test_a_refund_answered_5xx_once_is_retried_and_done_once(midtrans):
    payment = paid(midtrans)
    midtrans.script("POST", refund_path(payment), 503, {"status_code": "503", "status_message": "busy"})
    assert refund_of(payment, 20000).ok
    assert len(midtrans.calls("POST", refund_path(payment))) == 2 and len(midtrans.refunds) == 1


def test_a_refund_never_answered_stays_pending_counts_and_is_sent_again_with_its_key(midtrans):
    payment = paid(midtrans)
    for _ in range(3):  # every try of the first request times out
        midtrans.answer_late_once("POST", refund_path(payment), delay=2.5)
    first = refund_of(payment, 60000)
    assert first.state is State.PENDING and "kunci" in first.message
    assert amounts(payment)["refundable_amount"] == AMOUNT - 60000  # never offered twice meanwhile
    again = refund_of(payment, 60000, refund_key=first.refund_key)
    assert again.ok and again.action_id == first.action_id
    assert len(midtrans.refunds) == 1 and amounts(payment)["refundable_amount"] == AMOUNT - 60000


def test_a_double_submit_of_one_confirmation_refunds_once(midtrans):
    payment = paid(midtrans)
    first = refund_of(payment, 10000, refund_key="TK-form-key-0001")
    second = refund_of(payment, 10000, refund_key="TK-form-key-0001")
    assert first.action_id == second.action_id and len(midtrans.calls("POST", refund_path(payment))) == 1


def test_midtrans_refusing_the_amount_fails_the_refund_and_frees_the_balance(midtrans):
    payment = paid(midtrans)
    midtrans.script("POST", refund_path(payment), 200, {"status_code": "414", "status_message": "insufficient"})
    result = refund_of(payment, 30000)
    assert result.state is State.FAILED and "414" in result.message
    assert amounts(payment)["refundable_amount"] == AMOUNT


@pytest.mark.parametrize("make, amount, refusal", [
    (lambda m: waiting(m), None, "Batalkan"),
    (lambda m: paid(m, "credit_card", transaction_status="capture"), None, "belum settlement"),
    (lambda m: paid(m, "ovo", days_ago=8), None, "Batas waktu refund OVO"),
    (lambda m: paid(m, "shopeepay"), 1000, "hanya bisa dikembalikan seluruhnya"),
    (lambda m: paid(m, "bank_transfer"), None, "pengembalian manual"),
    (lambda m: paid(m, "gopay"), 0, "lebih dari Rp 0"),
])
def test_a_refund_that_breaks_a_rule_is_refused_before_midtrans_hears_of_it(midtrans, make, amount, refusal):
    payment = make(midtrans)
    if payment.status is P.SUCCESS and payment.payment_type == "credit_card":
        payment.transaction_status = "capture"
        db.session.commit()
    with pytest.raises(ActionRefused, match=refusal):
        refund_of(payment, amount)
    assert midtrans.calls("POST") == [] and db.session.query(PaymentAction).count() == 0


@pytest.mark.parametrize("said, days_ago, refusal", [
    (None, 6, None), (None, 8, "QRIS \\(7 hari"),  # not said: the shorter window
    ("off-us", 8, "QRIS \\(7 hari"),
    ("on-us", 20, None), ("ON-US", 44, None), ("on-us", 46, "QRIS \\(45 hari"),
    ("onus", 8, "QRIS \\(7 hari"),  # not a value Midtrans sends: not kept
])
def test_qris_paid_from_the_acquirers_own_app_is_refunded_for_45_days_others_for_7(midtrans, said, days_ago,
                                                                                    refusal):
    payment = paid(midtrans, "qris", days_ago=days_ago)
    extra = {} if said is None else {"transaction_type": said}
    apply(payment, status(payment, "settlement", payment_type="qris", **extra))  # as Midtrans sends it again
    db.session.commit()
    assert payment.transaction_type == (said.lower() if said in ("on-us", "ON-US", "off-us") else None)
    if refusal is None:
        assert refund_of(payment, 10000).ok
    else:
        with pytest.raises(ActionRefused, match=f"Batas waktu refund {refusal}"):
            refund_of(payment, 10000)
        assert midtrans.calls("POST") == []


def test_a_qris_notification_as_midtrans_sends_it_keeps_on_us(midtrans):
    payment = paid(midtrans, "qris")
    body = {**sample("qris_settlement"), "order_id": payment.midtrans_order_id, "transaction_id": f"txn-{payment.id}",
            "gross_amount": f"{AMOUNT}.00"}
    apply(payment, body)
    assert payment.transaction_type == "on-us"


def test_a_refund_made_in_the_midtrans_dashboard_is_known_only_from_its_notifications(midtrans):
    payment = paid(midtrans)
    entry = {**refund("900", 100000, confirmed=False), "refund_key": "midtrans-dashboard-key"}
    confirm(payment, entry)
    assert amounts(payment)["refund_pending_amount"] == 100000
    confirm(payment, {**entry, "bank_confirmed_at": "2026-12-02 12:00:00"})
    assert amounts(payment)["refunded_amount"] == 100000
    with pytest.raises(ActionRefused, match="Rp 50.000"):
        refund_of(payment, 60000)


def test_a_va_payment_is_refunded_by_a_recorded_bank_transfer(midtrans, monkeypatch):
    queued = []
    monkeypatch.setattr(outbox, "queue", lambda ids, priority=None: queued.extend(ids))
    payment = paid(midtrans, "bank_transfer")
    product_id = payment.order.lines[0].product_id
    result = money_workflow.manual_refund(ManualRefund(payment.order_id, None, "pesanan batal", ADMIN, "BCA-7788",
                                                       jakarta.today(), return_stock=True))
    assert result.ok and result.amount == AMOUNT and midtrans.calls("POST") == []
    assert amounts(payment)["refunded_amount"] == AMOUNT and queued == owed_refund_emails(payment)  # the shopper's
    db.session.expire_all()
    order = db.session.get(Order, payment.order_id)
    assert order.status is OrderStatus.REFUNDED and order.stock_released
    assert db.session.get(Product, product_id).stock == 5  # 3 left + the 2 of this order
    [event] = [e for e in ledger.money_events(order.id) if e.kind is K.REFUNDED]
    assert event.actor == ADMIN and "BCA-7788" in event.reason
    described = [e.as_dict() for e in order_timeline(order, ledger.money_events(order.id),
                                                     ledger.payment_actions(order.id))]
    assert any(e["actor"] == ADMIN and e["kind"] == "manual_refund" for e in described)


@pytest.mark.parametrize("reference, day, refusal", [
    ("", 0, "referensi"), ("BCA-1", 2, "masa depan")])
def test_a_manual_refund_needs_a_reference_and_a_past_date(midtrans, reference, day, refusal):
    payment = paid(midtrans, "cstore")
    with pytest.raises(ActionRefused, match=refusal):
        money_workflow.manual_refund(ManualRefund(payment.order_id, None, "", ADMIN, reference,
                                                  jakarta.today() + timedelta(days=day)))
    assert amounts(payment)["refunded_amount"] == 0


def test_the_refund_command_prints_one_json_object(midtrans, runner):
    payment = paid(midtrans)
    result = runner.invoke(args=["midtrans", "refund", str(payment.order_id), "--amount", "25000",
                                 "--reason", "salah ukuran", "--actor", ADMIN])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["action"], shown["state"], shown["amount"], shown["actor"]) == ("refund", "done", 25000, ADMIN)
    assert midtrans.refunds[shown["refund_key"]]["amount"] == 25000


def test_the_refund_command_refuses_on_stderr_with_exit_1(midtrans, runner):
    payment = paid(midtrans)
    result = runner.invoke(args=["midtrans", "refund", str(payment.order_id), "--amount", str(AMOUNT + 1)])
    assert result.exit_code == 1 and result.stdout == "" and "melebihi" in result.stderr
    result = runner.invoke(args=["midtrans", "refund", "999999"])
    assert result.exit_code == 1 and "tidak ada" in result.stderr


def test_each_confirmed_refund_is_e_mailed_to_the_shopper_once(app, midtrans, monkeypatch):
    queued = []
    monkeypatch.setattr(outbox, "queue", lambda ids, priority=None: queued.extend(ids))
    payment = paid(midtrans)
    result = refund_of(payment, 30000)
    entry = fake_entry(midtrans, result.refund_key)
    for body in ({**entry, "bank_confirmed_at": None}, entry, entry):  # requested, confirmed, duplicated
        change = apply(payment, refunded(payment, body))
        db.session.commit()
        announcing.announce_order_change(change)
    [email_id] = owed_refund_emails(payment)
    assert queued == [email_id]  # owed and queued only when the confirmation was new
    send = run_now(app, "outbox.send_email")
    with mail.record_messages() as sent:
        assert send(email_id).result == "sent" and send(email_id).result == "not claimed"
    [message] = sent
    assert message.subject == f"Dana pesanan #{payment.order_id} sudah dikembalikan"
    assert "Rp 30.000" in message.body and "barang rusak" in message.html


def test_show_order_prints_the_ledger_and_each_action_with_its_admin(midtrans, runner):
    payment = paid(midtrans)
    refund_of(payment, 20000)
    shown = json.loads(runner.invoke(args=["shop", "show-order", str(payment.order_id)]).stdout)
    assert (shown["refund_pending_amount"], shown["refundable_amount"]) == (20000, AMOUNT - 20000)
    [action] = [entry for entry in shown["timeline"] if entry["kind"] == "refund"]
    assert action["actor"] == ADMIN and "Refund Rp 20.000 diminta ke Midtrans (diterima)" in action["description"]


def owed_refund_emails(payment) -> list[int]:
    """The outbox rows owed to the shopper for the order's confirmed refunds."""
    keys = [f"refund:{e.id}" for e in ledger.money_events(payment.order_id) if e.kind is K.REFUNDED]
    return list(db.session.scalars(select(OutboxEmail.id).where(OutboxEmail.kind == emails.REFUNDED,
                                                                OutboxEmail.key.in_(keys))))


STEP = st.tuples(st.sampled_from([None, 1000, 50000, 100000, 150000, 150001]), st.sampled_from([None, "503", "414"]))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=5), order=st.randoms(use_true_random=False))
def test_refunds_and_their_notifications_never_exceed_what_was_paid(midtrans, steps, order):
    midtrans.reset()
    payment = paid(midtrans)
    for amount, fault in steps:
        left = AMOUNT - sum(r["amount"] for r in midtrans.refunds.values())
        if fault:
            midtrans.script("POST", refund_path(payment), 200 if fault == "414" else 503,
                            {"status_code": fault, "status_message": "scripted"})
        try:
            result = refund_of(payment, amount)
        except ActionRefused:
            assert (amount if amount is not None else left) > left or left == 0 or amount == 0
            midtrans.scripts.clear()
            continue
        assert result.ok is (fault != "414")
        assert amounts(payment)["refundable_amount"] == AMOUNT - sum(r["amount"] for r in midtrans.refunds.values())
    entries = [fake_entry(midtrans, key, confirmed) for key in midtrans.refunds for confirmed in (False, True, True)]
    order.shuffle(entries)
    for entry in entries:  # both notifications of every refund, the confirmation twice, in any order
        confirm(payment, entry)
    done = sum(r["amount"] for r in midtrans.refunds.values())
    assert done <= AMOUNT and amounts(payment) == {"paid_amount": AMOUNT, "refunded_amount": done,
                                                   "refund_pending_amount": 0, "refundable_amount": AMOUNT - done}
