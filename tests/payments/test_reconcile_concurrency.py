"""`flask midtrans reconcile --concurrency N` on PostgreSQL: threads, each with its own session.

These commit for real (threads cannot share the one rolled-back connection of a unit test), so
they empty the tables afterwards. The fake Midtrans holds every GET status until N of them are in
flight, which proves that the calls overlap without timing anything.
"""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderStatus
from shop.payments.models import Notification, Payment, PaymentStatus
from tests.factories import PaymentFactory
from tests.payments.helpers import ago, for_payment, settles, stale

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
WAIT = 10  # seconds; only reached if the calls do not overlap


@pytest.fixture
def answer_together(midtrans, monkeypatch):
    """Make the fake hold every GET status until `parties` of them are in flight at once."""
    def hold_until(parties: int) -> None:
        together, answer = threading.Barrier(parties), midtrans.default

        def default(method, path, body):
            together.wait(WAIT)
            return answer(method, path, body)

        monkeypatch.setattr(midtrans, "default", default)

    return hold_until


def calls_for(midtrans, payment) -> int:
    return len(midtrans.calls("GET", f"/v2/{payment.midtrans_order_id}/status"))


def statuses(payments) -> list[PaymentStatus]:
    db.session.expire_all()
    return [db.session.get(Payment, payment.id).status for payment in payments]


def test_each_payment_is_checked_once_with_the_calls_overlapping(runner, clean_db, midtrans, answer_together):
    payments = [stale() for _ in range(12)]
    for payment in payments:
        settles(midtrans, payment)
    answer_together(4)

    result = runner.invoke(args=["midtrans", "reconcile", "--concurrency", "4"])

    assert result.exit_code == 0, result.output
    assert [calls_for(midtrans, payment) for payment in payments] == [1] * 12
    assert midtrans.most_in_flight == 4
    assert statuses(payments) == [PaymentStatus.SUCCESS] * 12
    assert sum(f"payment {payment.id} " in result.output for payment in payments) == 12
    assert "checked 12 payments: 12 changed, 0 failed" in result.output


def test_two_payments_of_one_order_checked_at_once_take_turns(runner, clean_db, midtrans, answer_together):
    expired = stale()
    paid = PaymentFactory(order=expired.order, attempt=2, gross_amount=150000, status=PaymentStatus.PENDING,
                          created_at=ago(hours=1), expires_at=utcnow() + timedelta(hours=20))
    db.session.commit()
    midtrans.answers_status(for_payment(expired, "fixture_qris_expire_sbtest.json", transaction_id="tx-expired"),
                            expired.midtrans_order_id)
    settles(midtrans, paid)
    answer_together(2)  # both answers reach the database together: order, then payments

    result = runner.invoke(args=["midtrans", "reconcile", "--concurrency", "2"])

    assert result.exit_code == 0, result.output
    assert "not checked" not in result.output and "0 failed" in result.output
    assert statuses([expired, paid]) == [PaymentStatus.EXPIRED, PaymentStatus.SUCCESS]
    assert db.session.get(Payment, paid.id).order.status is OrderStatus.SUCCESS


def test_more_threads_than_the_pool_holds_are_capped_by_it(runner, clean_db, midtrans):
    payments = [stale() for _ in range(3)]
    for payment in payments:
        settles(midtrans, payment)
    pool_size = db.engine.pool.size()

    result = runner.invoke(args=["midtrans", "reconcile", "--concurrency", str(pool_size + 5)])

    assert result.exit_code == 0, result.output
    assert f"the database pool holds {pool_size} connections (DB_POOL_SIZE)" in result.output
    assert statuses(payments) == [PaymentStatus.SUCCESS] * 3


def test_a_dry_run_with_concurrency_checks_one_at_a_time_and_saves_nothing(runner, clean_db, midtrans):
    payments = [stale() for _ in range(3)]
    for payment in payments:
        settles(midtrans, payment)

    result = runner.invoke(args=["midtrans", "reconcile", "--dry-run", "--concurrency", "4"])

    assert result.exit_code == 0, result.output
    assert "a dry run keeps its claims in one transaction: checking one payment at a time" in result.output
    assert "checked 3 payments: 3 changed, 0 failed" in result.output and "(dry run: nothing saved)" in result.output
    assert [calls_for(midtrans, payment) for payment in payments] == [1] * 3 and midtrans.most_in_flight == 1
    assert statuses(payments) == [PaymentStatus.PENDING] * 3
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(select(func.count()).where(Payment.last_checked_at.is_not(None))) == 0
