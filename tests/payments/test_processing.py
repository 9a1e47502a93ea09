"""The notification task and apply_midtrans_status: transitions, money checks, side effects."""
import json
import logging
import re
from collections import Counter

import pytest
from sqlalchemy import event, func, select, update

from shop.accounts.models import InboxMessage
from shop.caching import order_page_keys
from shop.extensions import cache, db, mail
from shop.orders.models import OrderStatus
from shop.payments import announcing, applying, receiving, sweeping, tasks
from shop.payments.models import (Notification, NotificationOutcome as Out, NotificationSource, NotificationState,
                                  PaymentStatus as P)
from shop.signals import order_status_changed
from tests.factories import PaymentFactory
from tests.payments.helpers import for_payment, sample, signed

# The table a statement is about: a SELECT's first column's, or the one written to.
DATA_STATEMENT = re.compile(r"(?P<verb>SELECT|INSERT|UPDATE|DELETE)\s+(?:INTO\s+|FROM\s+)?(?P<table>\w+)")
PENDING = "fixture_bank_transfer_pending_sbtest.json"
SETTLEMENT = "fixture_credit_card_settlement_sbtest.json"
EXPIRE = "fixture_qris_expire_sbtest.json"


@pytest.fixture
def deliver(process):
    """Store a signed body as the webhook would, commit, and run the task on it."""

    def run(body: dict) -> Notification:
        notification = receiving.record_notification(json.dumps(body).encode())
        db.session.commit()
        process(notification.id)
        return db.session.get(Notification, notification.id)

    return run


def settlement(payment, **changes):
    return for_payment(payment, SETTLEMENT, **changes)


def test_pending_then_settlement_pays_once(deliver, payment):
    with mail.record_messages() as outbox:
        assert deliver(for_payment(payment, PENDING)).outcome is Out.APPLIED
        assert (payment.status, payment.order.status) == (P.PENDING, OrderStatus.PENDING)
        assert deliver(settlement(payment)).outcome is Out.APPLIED
    assert (payment.status, payment.order.status) == (P.SUCCESS, OrderStatus.SUCCESS)
    assert [message.subject.split(" #")[0] for message in outbox] == ["Menunggu pembayaran pesanan",
                                                                       "Pembayaran pesanan"]  # then the receipt
    assert "150.000" in outbox[1].body and "#%d" % payment.order.id in outbox[1].html


def test_replayed_old_pending_after_success_is_stale(deliver, payment):
    old_pending = for_payment(payment, PENDING)
    deliver(old_pending)
    deliver(settlement(payment, transaction_id=old_pending["transaction_id"]))
    paid_at = payment.order.paid_at
    with mail.record_messages() as outbox:
        assert deliver(old_pending).outcome is Out.STALE
    assert (payment.status, payment.order.status, payment.order.paid_at) == (P.SUCCESS, OrderStatus.SUCCESS, paid_at)
    assert outbox == []


def test_duplicates_change_nothing_and_send_nothing(deliver, payment):
    deliver(settlement(payment))
    inbox = db.session.scalar(select(func.count()).select_from(InboxMessage))
    with mail.record_messages() as outbox:
        assert [deliver(settlement(payment)).outcome for _ in range(2)] == [Out.DUPLICATE, Out.DUPLICATE]
    assert outbox == []
    assert inbox == 1 == db.session.scalar(select(func.count()).select_from(InboxMessage))


def test_the_task_skips_a_notification_it_already_processed(deliver, process, payment):
    notification = deliver(settlement(payment))
    attempts = notification.attempts
    with mail.record_messages() as outbox:
        assert process(notification.id) is None
    assert outbox == [] and db.session.get(Notification, notification.id).attempts == attempts


@pytest.mark.parametrize("amount", ["140000.00", "150000.50", "1.5e5", "-150000.00", "150000000000000000.00"])
def test_amount_mismatch_is_never_paid_and_is_flagged(deliver, payment, caplog, amount):
    with caplog.at_level(logging.WARNING), mail.record_messages() as outbox:
        notification = deliver(settlement(payment, gross_amount=amount))
    assert notification.outcome is Out.AMOUNT_MISMATCH
    assert payment.status is P.CREATED and payment.order.status is OrderStatus.PENDING
    assert payment.amount_mismatch and payment.order.needs_review
    assert outbox == [] and "AMOUNT MISMATCH" in caplog.text


def test_unknown_status_is_recorded_and_left_alone(deliver, payment):
    notification = deliver(settlement(payment, transaction_status="settled_twice"))
    assert notification.outcome is Out.UNKNOWN_STATUS
    assert payment.status is P.CREATED and not payment.order.needs_review


def test_unverified_paid_status_needs_status_code_200(deliver, payment):
    # transaction_status is not signed: a "201" pending body edited to say settlement stays unpaid.
    notification = deliver(for_payment(payment, PENDING, transaction_status="settlement"))
    assert notification.outcome is Out.REJECTED
    assert payment.status is P.CREATED and payment.order.needs_review


@pytest.mark.parametrize("edited", ["expire", "deny", "cancel"])
def test_unverified_failure_needs_status_code_202(deliver, payment, product, edited):
    # A genuine "201" pending body edited to say expire/deny/cancel must not fail the order.
    deliver(for_payment(payment, PENDING))
    notification = deliver(for_payment(payment, PENDING, transaction_status=edited))
    assert notification.outcome is Out.REJECTED
    assert (payment.status, payment.order.status) == (P.PENDING, OrderStatus.PENDING)
    assert not payment.order.stock_released and product.stock == 3
    assert payment.order.needs_review


def test_unverified_challenge_needs_status_code_201(deliver, payment):
    notification = deliver(settlement(payment, transaction_status="capture", fraud_status="challenge"))
    assert notification.outcome is Out.REJECTED
    assert payment.status is P.CREATED and payment.order.needs_review


def test_money_reported_after_a_failure_is_flagged_not_dropped(deliver, payment):
    deliver(for_payment(payment, PENDING))
    deliver(for_payment(payment, EXPIRE, transaction_id=payment.transaction_id))
    assert not payment.order.needs_review
    late = deliver(settlement(payment, transaction_id=payment.transaction_id))
    assert late.outcome is Out.STALE
    assert payment.status is P.EXPIRED and payment.order.needs_review


def test_expire_returns_the_stock_exactly_once(deliver, payment, product):
    deliver(for_payment(payment, PENDING))
    for _ in range(3):
        deliver(for_payment(payment, EXPIRE, transaction_id=payment.transaction_id))
    assert payment.order.status is OrderStatus.EXPIRED and payment.order.stock_released
    assert product.stock == 3 + 2


def test_permata_settlement_reversed_to_deny_unpays_the_order(deliver, payment, product):
    permata = sample("bank_transfer_permata_settlement.json")
    deliver(for_payment(payment, "bank_transfer_permata_settlement.json"))
    assert payment.order.status is OrderStatus.SUCCESS
    reversal = for_payment(payment, "bank_transfer_permata_settlement.json", transaction_status="deny",
                           status_code="202")
    assert reversal["transaction_id"] == permata["transaction_id"]
    assert deliver(reversal).outcome is Out.APPLIED
    assert (payment.status, payment.order.status) == (P.DENIED, OrderStatus.FAILED)
    assert product.stock == 5


def test_deny_after_settlement_of_a_card_is_refused_for_an_admin(deliver, payment):
    deliver(settlement(payment))
    notification = deliver(settlement(payment, transaction_status="deny", status_code="202"))
    assert notification.outcome is Out.REJECTED
    assert payment.status is P.SUCCESS and payment.order.needs_review


def test_a_declined_card_then_a_paid_va_in_the_same_snap_order(deliver, payment):
    deliver(settlement(payment, transaction_status="deny", status_code="202", transaction_time="2026-05-27 14:00:00"))
    assert payment.order.status is OrderStatus.FAILED
    va = for_payment(payment, PENDING)  # another transaction id, later
    assert va["transaction_id"] != payment.transaction_id
    deliver(va)
    assert payment.status is P.PENDING
    deliver(for_payment(payment, SETTLEMENT, transaction_id=va["transaction_id"]))
    assert (payment.status, payment.order.status) == (P.SUCCESS, OrderStatus.SUCCESS)


def test_a_late_failure_of_an_older_transaction_keeps_the_open_one(deliver, payment):
    deliver(for_payment(payment, PENDING))
    old = deliver(settlement(payment, transaction_id="older-card-attempt", transaction_status="deny",
                             status_code="202", transaction_time="2026-05-27 14:00:00"))
    assert old.outcome is Out.STALE and payment.status is P.PENDING


def test_a_second_paid_transaction_is_flagged(deliver, payment):
    deliver(settlement(payment))
    notification = deliver(settlement(payment, transaction_id="another-transaction"))
    assert notification.outcome is Out.REJECTED and payment.order.needs_review


def test_a_failed_attempt_does_not_fail_an_order_with_another_open_attempt(deliver, payment, product):
    second = PaymentFactory(order=payment.order, attempt=2, gross_amount=150000, status=P.PENDING)
    deliver(for_payment(payment, EXPIRE))
    assert payment.status is P.EXPIRED
    assert payment.order.status is OrderStatus.PENDING and product.stock == 3
    deliver(for_payment(second, SETTLEMENT))
    assert payment.order.status is OrderStatus.SUCCESS and product.stock == 3


def test_paid_after_the_stock_went_back_is_flagged(deliver, payment, product):
    deliver(for_payment(payment, PENDING, transaction_time="2026-05-27 14:30:00"))
    deliver(for_payment(payment, EXPIRE, transaction_id=payment.transaction_id))
    late = PaymentFactory(order=payment.order, attempt=2, gross_amount=150000, status=P.PENDING)
    deliver(for_payment(late, SETTLEMENT))
    assert payment.order.status is OrderStatus.SUCCESS and payment.order.needs_review
    assert product.stock == 5  # released once; an admin decides about the goods


def test_challenge_is_held_for_review_not_paid(deliver, payment):
    with mail.record_messages() as outbox:
        deliver(settlement(payment, transaction_status="capture", fraud_status="challenge", status_code="201"))
    assert (payment.status, payment.order.status) == (P.CHALLENGE, OrderStatus.REVIEW)
    assert payment.order.needs_review and payment.order.paid_at is None and outbox == []


def test_side_effects_happen_once_per_real_change(deliver, payment):
    keys = order_page_keys(payment.order.id, payment.order.user_id)
    changes = []

    def listener(sender, **kwargs):
        changes.append((kwargs["order_id"], kwargs["status"]))

    order_status_changed.connect(listener)
    try:
        for key in keys:
            cache.set(key, "cached page")
        deliver(settlement(payment))
        assert [cache.get(key) for key in keys] == [None] * 4
        for key in keys:
            cache.set(key, "cached page")
        deliver(settlement(payment))  # a duplicate: the cached pages stay
        assert [cache.get(key) for key in keys] == ["cached page"] * 4
    finally:
        order_status_changed.disconnect(listener)
    assert changes == [(payment.order.id, OrderStatus.SUCCESS)]
    assert [m.text for m in db.session.scalars(select(InboxMessage))] == [
        f"Pembayaran pesanan #{payment.order.id} sudah kami terima. Terima kasih!"]


def test_one_structured_log_line_per_notification(deliver, payment, caplog):
    with caplog.at_level(logging.INFO, logger="shop.payments.tasks"):
        notification = deliver(settlement(payment))
    lines = [r.getMessage() for r in caplog.records if r.name == "shop.payments.tasks"]
    assert len(lines) == 1
    line = lines[0]
    for part in (f"notification={notification.id}", f"order={payment.order.id}", "transaction_status=settlement",
                 "outcome=APPLIED", "took_ms="):
        assert part in line


@pytest.fixture
def statements():
    """The data statements (SELECT, INSERT, UPDATE, DELETE) run while the `with` block runs, by table."""

    class Recorder:
        def __enter__(self):
            self.seen = Counter()
            event.listen(db.engines[None], "before_cursor_execute", self._record)
            return self.seen

        def __exit__(self, *exc):
            event.remove(db.engines[None], "before_cursor_execute", self._record)

        def _record(self, conn, cursor, sql, params, context, executemany):
            found = DATA_STATEMENT.match(sql)
            if found:  # not SAVEPOINT, RELEASE, SET ...
                self.seen[f"{found['verb']} {found['table']}"] += 1

    return Recorder()


def sqlite_write_lock() -> Counter:
    """On SQLite the order lock is also the database's write lock: one write that matches no row."""
    return Counter({"UPDATE orders": 1}) if db.engine.dialect.name == "sqlite" else Counter()


def test_applying_a_payment_takes_nine_statements(process, payment, statements, monkeypatch):
    # The count is part of the contract: a lazy load or a re-read added to the hot path fails here.
    monkeypatch.setattr(announcing.outbox, "queue", lambda email_ids, priority=None: None)  # its own task
    stored = receiving.record_notification(json.dumps(settlement(payment)).encode())
    db.session.commit()
    with statements as seen:
        assert process(stored.id) == "APPLIED"
    assert seen == Counter({
        "UPDATE midtrans_notifications": 2,  # count the attempt; record the outcome
        "SELECT orders": 1,  # lock the order ...
        "SELECT payments": 2,  # ... then its payments; is the transaction another payment's?
        "UPDATE payments": 1, "UPDATE orders": 1, "INSERT inbox_messages": 1,
        "INSERT money_events": 1,  # the ledger's PAID movement
        "INSERT email_outbox": 1}) + sqlite_write_lock()  # the receipt, owed


def test_a_duplicate_takes_four_statements(process, payment, statements):
    first = receiving.record_notification(json.dumps(settlement(payment)).encode())
    again = receiving.record_notification(json.dumps(settlement(payment)).encode())
    db.session.commit()
    process(first.id)
    with statements as seen:
        assert process(again.id) == "DUPLICATE"
    assert seen == Counter({"UPDATE midtrans_notifications": 2, "SELECT orders": 1, "SELECT payments": 1}) + \
        sqlite_write_lock()


def test_a_notification_another_worker_processed_meanwhile_changes_nothing(payment):
    stored = receiving.record_notification(json.dumps(settlement(payment)).encode())
    attempt = sweeping.claim_attempt(stored.id)
    # Another run of the task applied it between this run's count and its locks.
    db.session.execute(update(Notification).where(Notification.id == stored.id)
                       .values(state=NotificationState.PROCESSED, outcome=Out.STALE))
    change = applying.apply_status(attempt.payment_id, json.loads(attempt.body), attempt.id, verified=False)
    assert change.outcome is None and not change.pages_changed and change.email_ids == ()
    assert payment.status is P.CREATED and db.session.get(Notification, stored.id).outcome is Out.STALE


# --- confirmed with GET status ------------------------------------------------------------

def test_get_status_is_the_truth(deliver, payment, verify_status):
    body = for_payment(payment, PENDING)
    verify_status.statuses[body["transaction_id"]] = settlement(payment, transaction_id=body["transaction_id"])
    assert deliver(body).outcome is Out.APPLIED
    assert payment.status is P.SUCCESS and payment.last_checked_at is not None
    assert [c.path for c in verify_status.calls("GET")] == [f"/v2/{body['transaction_id']}/status"]


def test_get_status_404_is_not_a_failure(deliver, payment, verify_status, caplog):
    notification = deliver(for_payment(payment, EXPIRE))  # the fake knows no such transaction
    assert notification.state.value == "FAILED" and "does not know" in notification.error
    assert payment.status is P.CREATED and payment.order.status is OrderStatus.PENDING
    assert not payment.order.stock_released


def test_a_status_answer_for_another_order_is_refused(deliver, payment, verify_status):
    body = for_payment(payment, PENDING)
    verify_status.statuses[body["transaction_id"]] = {**settlement(payment), "order_id": "SOMEONE-ELSES-ORDER"}
    assert deliver(body).outcome is Out.REJECTED
    assert payment.status is P.CREATED and payment.order.needs_review


def test_dana_status_answer_with_the_transaction_id_as_order_id(deliver, payment, verify_status):
    body = for_payment(payment, PENDING, payment_type="dana")
    tid = body["transaction_id"]
    verify_status.statuses[tid] = {**settlement(payment, transaction_id=tid, payment_type="dana"), "order_id": tid}
    assert deliver(body).outcome is Out.APPLIED and payment.status is P.SUCCESS


def test_a_transaction_of_another_payment_is_refused(deliver, payment, verify_status):
    other = PaymentFactory(gross_amount=150000, transaction_id="paid-by-someone-else", status=P.SUCCESS)
    body = for_payment(payment, PENDING, transaction_id="paid-by-someone-else")
    verify_status.statuses["paid-by-someone-else"] = {**settlement(other), "transaction_id": "paid-by-someone-else"}
    assert deliver(body).outcome is Out.REJECTED and payment.status is P.CREATED


def test_midtrans_unavailable_is_retried_then_left_for_an_admin(deliver, payment, verify_status):
    for _ in range(30):
        verify_status.script("GET", f"/v2/{sample(SETTLEMENT)['transaction_id']}/status", 503, {"status_code": "503"})
    notification = deliver(settlement(payment))
    assert notification.state.value == "FAILED"
    assert notification.attempts == 1 + tasks.MAX_RETRIES and "MidtransUnavailable" in notification.error
    assert payment.status is P.CREATED


def test_reconciliation_applies_a_get_status_answer(payment):
    status = {**settlement(payment), "status_message": "Success, transaction is found"}
    notification = Notification(payment=payment, source=NotificationSource.RECONCILE, body=json.dumps(status),
                                **receiving.summary_columns(status))
    db.session.add(notification)
    change = applying.apply_midtrans_status(payment, status, notification)
    assert change.outcome is Out.APPLIED and change.order_changed and change.after is OrderStatus.SUCCESS
    assert notification.state.value == "PROCESSED"
