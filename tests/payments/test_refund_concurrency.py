"""Two admins refund the same order at once, on PostgreSQL: the order's lock makes the second see the first."""
import threading

import pytest

from shop.payments import refunding
from tests.payments.money_helpers import paid, refund_of
from tests.payments.test_concurrency import waiting_for_a_lock
from tests.payments.helpers import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


def test_two_refunds_that_together_exceed_the_balance_make_one_refund(app, clean_db, midtrans, monkeypatch):
    payment = paid(midtrans)
    holding, release = threading.Event(), threading.Event()
    balance = refunding.balance

    def slow_balance(order):
        # The first admin stops after reading the balance, holding the order's lock, until the second waits for it.
        available = balance(order)
        if threading.current_thread().name == "admin-1":
            holding.set()
            assert release.wait(10)
        return available

    monkeypatch.setattr(refunding, "balance", slow_balance)
    results = {}

    def admin(name):
        with app.app_context():
            try:
                results[name] = refund_of(payment, 100000).state.value
            except refunding.ActionRefused as refused:
                results[name] = str(refused)

    threads = [threading.Thread(target=admin, args=(f"admin-{n}",), name=f"admin-{n}") for n in (1, 2)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    wait_until(lambda: waiting_for_a_lock() >= 1, "the second refund to wait for the order's lock")
    release.set()
    for thread in threads:
        thread.join(20)
    assert results["admin-1"] == "DONE" and "melebihi sisa" in results["admin-2"]
    assert [r["amount"] for r in midtrans.refunds.values()] == [100000]
