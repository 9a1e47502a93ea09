""""Bayar lagi": a new payment attempt, with a new Midtrans order id, after a failed or expired one."""
import logging
import re

import pytest
from sqlalchemy import insert, update

from shop.caching import SHOPPER_TOKEN
from shop.catalog.models import Product
from shop.checkout import services as checkout_services, workflow
from shop.extensions import cache, db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus
from shop.payments.models import Payment, PaymentStatus
from tests.factories import PaymentFactory, UserFactory
from tests.orders.helpers import log_in


def failed_order(status=OrderStatus.EXPIRED, payment_status=PaymentStatus.EXPIRED, stock=8):
    """An order whose only attempt failed; its stock already went back to the shelf."""
    payment = PaymentFactory(status=payment_status, order__status=status, order__stock_released=True)
    product = payment.order.lines[0].product
    product.stock = stock
    db.session.commit()
    return payment.order


def stock_of(order) -> int:
    return db.session.get(Product, order.lines[0].product_id).stock


@pytest.mark.parametrize("status, payment_status", [
    (OrderStatus.EXPIRED, PaymentStatus.EXPIRED),
    (OrderStatus.FAILED, PaymentStatus.DENIED),
])
def test_a_failed_order_is_paid_again_with_a_new_midtrans_order_id(client, midtrans, status, payment_status):
    order = failed_order(status, payment_status)
    log_in(client, order.user)
    assert "Bayar lagi" in client.get(f"/orders/{order.id}").get_data(as_text=True)

    response = client.post(f"/orders/{order.id}/bayar-lagi")

    assert response.status_code == 303
    assert "/snap/v3/redirection/" in response.location
    order = db.session.get(Order, order.id)
    ids = [p.midtrans_order_id for p in order.payments]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert [p.status for p in order.payments] == [payment_status, PaymentStatus.CREATED]
    assert order.status is OrderStatus.PENDING and not order.stock_released
    assert stock_of(order) == 8 - order.lines[0].quantity  # the stock is held again
    sent = midtrans.snap_creates()[-1].json()
    assert sent["transaction_details"]["order_id"] == ids[1]
    assert cache.get(SHOPPER_TOKEN.format(user_id=order.user_id)) is None
    assert 'badge-PENDING" data-role="status-badge">Menunggu pembayaran<' in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_a_card_held_for_review_cannot_be_paid_again(client, midtrans):
    payment = PaymentFactory(status=PaymentStatus.CHALLENGE, order__status=OrderStatus.REVIEW)
    db.session.commit()
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order.id}/bayar-lagi", follow_redirects=True)

    assert "tidak bisa dibayar ulang" in response.get_data(as_text=True)
    assert midtrans.calls("POST") == []
    assert db.session.query(Payment).filter_by(order_id=payment.order.id).count() == 1


def test_paying_again_for_someone_elses_order_is_404(client, midtrans):
    order = failed_order()
    log_in(client, UserFactory())

    assert client.post(f"/orders/{order.id}/bayar-lagi").status_code == 404
    assert midtrans.calls("POST") == []


def test_midtrans_down_gives_the_stock_back_and_says_so(client, midtrans):
    order = failed_order()
    for _ in range(3):
        midtrans.script("POST", "/snap/v1/transactions", 503, {"error_messages": ["down"]})
    log_in(client, order.user)

    response = client.post(f"/orders/{order.id}/bayar-lagi", follow_redirects=True)

    assert "tidak dapat dihubungi" in response.get_data(as_text=True)
    order = db.session.get(Order, order.id)
    assert len(order.payments) == 1
    assert order.status is OrderStatus.EXPIRED and order.stock_released
    assert stock_of(order) == 8


def test_sold_out_meanwhile_is_refused_without_calling_midtrans(client, midtrans):
    order = failed_order(stock=0)
    log_in(client, order.user)

    response = client.post(f"/orders/{order.id}/bayar-lagi", follow_redirects=True)

    assert "tidak cukup" in response.get_data(as_text=True)
    assert midtrans.calls("POST") == []
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.EXPIRED and order.stock_released and stock_of(order) == 0


def test_the_form_on_a_cached_page_carries_the_readers_own_csrf_token(app, client, midtrans, monkeypatch):
    order = failed_order()
    log_in(client, order.user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.get(f"/orders/{order.id}")  # rendered and cached
    cached = client.get(f"/orders/{order.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', cached).group(1)

    refused = client.post(f"/orders/{order.id}/bayar-lagi")
    accepted = client.post(f"/orders/{order.id}/bayar-lagi", data={"csrf_token": token})

    assert refused.status_code == 400
    assert accepted.status_code == 303 and len(midtrans.snap_creates()) == 1


def another_click_commits(order, reserve: bool) -> str:
    """What a second click on "Bayar lagi" commits while this request runs: attempt 2, open, with
    its own Snap page (and, when it reopened the order itself, the stock held again). Its URL."""
    url = "https://app.sandbox.midtrans.com/snap/v3/redirection/the-other-click"
    line = order.lines[0]
    with db.engine.connect() as other:
        other.execute(update(Order.__table__).where(Order.id == order.id)
                      .values(status=OrderStatus.PENDING, stock_released=False))
        if reserve:
            other.execute(update(Product.__table__).where(Product.id == line.product_id)
                          .values(stock=Product.__table__.c.stock - line.quantity))
        other.execute(insert(Payment.__table__).values(
            order_id=order.id, attempt=2, midtrans_order_id=f"TK-{order.id}-2-otherclick", status=PaymentStatus.CREATED,
            gross_amount=order.payments[0].gross_amount, amount_mismatch=False, snap_token="the-other-click",
            redirect_url=url, created_at=utcnow(), updated_at=utcnow()))
        other.commit()
    return url


@pytest.mark.postgres
@pytest.mark.integration  # the other click commits on a connection of its own, while this request reads
@pytest.mark.parametrize("meanwhile", ["while this one asks Snap", "before this one reopens the order"])
def test_a_double_click_leads_both_requests_to_the_attempt_opened_first(client, clean_db, midtrans, monkeypatch,
                                                                         caplog, meanwhile):
    caplog.set_level(logging.INFO, logger="shop.checkout.workflow")
    order = failed_order()
    order_id, quantity = order.id, order.lines[0].quantity
    log_in(client, order.user)
    urls = []
    if meanwhile == "while this one asks Snap":  # this request reopened the order already
        create = checkout_services.gateway.create_snap_transaction
        monkeypatch.setattr(checkout_services.gateway, "create_snap_transaction",
                            lambda payload: (create(payload), urls.append(another_click_commits(order, False)))[0])
    else:
        stop = workflow.replacing.stop_open_attempt
        monkeypatch.setattr(workflow.replacing, "stop_open_attempt",
                            lambda order: (stop(order), urls.append(another_click_commits(order, True)))[0])

    response = client.post(f"/orders/{order_id}/bayar-lagi")

    assert response.status_code == 303 and response.location == urls[0]  # the other click's page, no error
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert [(p.attempt, p.status) for p in order.payments] == [(1, PaymentStatus.EXPIRED), (2, PaymentStatus.CREATED)]
    assert order.status is OrderStatus.PENDING and not order.stock_released
    assert stock_of(order) == 8 - quantity  # held once
    assert f"order={order_id} attempt 2 was opened by another request meanwhile" in caplog.text
