"""Two workers on the same order at once, on PostgreSQL: the row locks make them take turns."""
import json
import threading

import pytest
from sqlalchemy import func, insert, select, text

from shop.accounts.models import InboxMessage
from shop.catalog.models import Product
from shop.extensions import db, mail
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments import applying, receiving
from shop.payments.models import Notification, NotificationOutcome as Out, Payment, PaymentStatus
from tests.payments.helpers import committed_payment, for_payment, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


def store_twice(body: dict) -> list[int]:
    ids = [receiving.record_notification(json.dumps(body).encode()).id for _ in range(2)]
    db.session.commit()
    return ids


def waiting_for_a_lock() -> int:
    with db.engine.connect() as connection:
        return connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock'"))


@pytest.mark.parametrize("sample_name", ["fixture_qris_expire_sbtest.json", "fixture_credit_card_settlement_sbtest.json"])
def test_two_workers_on_the_same_order_take_turns(app, clean_db, monkeypatch, sample_name):
    payment = committed_payment()
    order_id, product_id = payment.order_id, payment.order.lines[0].product_id
    first, second = store_twice(for_payment(payment, sample_name))
    holding, release = threading.Event(), threading.Event()
    decide = applying._decide

    def slow_decide(*args, **kwargs):
        # The first worker stops while it holds the locks, until the second is seen waiting.
        if threading.current_thread().name == "worker-1":
            holding.set()
            assert release.wait(10)
        return decide(*args, **kwargs)

    monkeypatch.setattr(applying, "_decide", slow_decide)
    task = app.extensions["celery"].tasks["payments.process_notification"]
    workers = [threading.Thread(target=task.apply, kwargs={"args": [nid]}, name=f"worker-{n}")
               for n, nid in ((1, first), (2, second))]
    with mail.record_messages() as outbox:
        workers[0].start()
        assert holding.wait(10)
        workers[1].start()
        wait_until(lambda: waiting_for_a_lock() >= 1, "worker 2 to wait for the lock")  # worker 2 is blocked on worker 1's row lock
        release.set()
        for worker in workers:
            worker.join(20)
    db.session.expire_all()
    outcomes = sorted(o.value for o in db.session.scalars(select(Notification.outcome)))
    assert outcomes == sorted([Out.APPLIED.value, Out.DUPLICATE.value])
    order = db.session.get(Order, order_id)
    stock = db.session.get(Product, product_id).stock
    inbox = db.session.scalar(select(func.count()).select_from(InboxMessage))
    if order.status is OrderStatus.EXPIRED:
        expired = [f"Pembayaran pesanan #{order_id} kedaluwarsa"]  # once, with the way to pay again
        assert (stock, order.stock_released, [m.subject for m in outbox], inbox) == (5, True, expired, 0)
    else:
        assert (order.status, stock, len(outbox), inbox) == (OrderStatus.SUCCESS, 3, 1, 1)


def test_an_attempt_opened_while_the_task_waits_for_the_order_counts(app, clean_db):
    # Pay-again locks the order and inserts an attempt. A notification task waiting for that lock
    # must then see the new attempt: an expired old one must not expire the order or free its stock.
    payment = committed_payment()
    order_id, product_id = payment.order_id, payment.order.lines[0].product_id
    first = store_twice(for_payment(payment, "fixture_qris_expire_sbtest.json"))[0]
    task = app.extensions["celery"].tasks["payments.process_notification"]
    worker = threading.Thread(target=task.apply, kwargs={"args": [first]})
    with db.engine.connect() as pay_again:
        pay_again.execute(select(Order.id).where(Order.id == order_id).with_for_update())
        pay_again.execute(insert(Payment.__table__).values(
            order_id=order_id, attempt=2, midtrans_order_id=f"{payment.midtrans_order_id}-2",
            status=PaymentStatus.CREATED, gross_amount=150000, amount_mismatch=False,
            created_at=utcnow(), updated_at=utcnow()))
        worker.start()
        wait_until(lambda: waiting_for_a_lock() >= 1, "the task to wait for the order lock")
        pay_again.commit()
    worker.join(20)
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.EXPIRED
    order = db.session.get(Order, order_id)
    assert order.status is OrderStatus.PENDING and not order.stock_released
    assert db.session.get(Product, product_id).stock == 3
