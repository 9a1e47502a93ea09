""""Bayar lagi": a new payment attempt after a failed or expired one.

`start_payment_attempt` belongs to the checkout feature, which is not on this branch yet: the
tests put a stand-in module where the view imports it from.
"""
import re
import sys
import types

import pytest

from shop.caching import ORDER_PAGE
from shop.extensions import cache, db
from shop.orders.models import OrderStatus
from shop.payments.gateway import MidtransUnavailable
from shop.payments.models import Payment, PaymentStatus
from tests.factories import PaymentFactory, UserFactory
from tests.orders.helpers import log_in


@pytest.fixture
def attempts(monkeypatch):
    """A stand-in checkout service that records its calls and adds attempt n+1."""
    calls = []

    def start_payment_attempt(order):
        calls.append(order.id)
        if getattr(start_payment_attempt, "error", None):
            raise start_payment_attempt.error
        payment = Payment(order=order, attempt=len(order.payments) + 1, gross_amount=order.total,
                          midtrans_order_id=f"TK-{order.id}-{len(order.payments) + 1}",
                          redirect_url="http://midtrans.test/snap/v3/redirection/new-token")
        order.status = OrderStatus.PENDING
        db.session.add(payment)
        db.session.flush()
        return payment

    module = types.ModuleType("shop.checkout.services")
    module.start_payment_attempt = start_payment_attempt
    monkeypatch.setitem(sys.modules, "shop.checkout.services", module)
    start_payment_attempt.calls = calls
    return start_payment_attempt


def expired_order():
    payment = PaymentFactory(status=PaymentStatus.EXPIRED, order__status=OrderStatus.EXPIRED)
    db.session.commit()
    return payment.order


def test_an_expired_attempt_can_be_paid_again_with_a_new_midtrans_order_id(client, attempts):
    order = expired_order()
    log_in(client, order.user)
    assert "Bayar lagi" in client.get(f"/orders/{order.id}").get_data(as_text=True)

    response = client.post(f"/orders/{order.id}/bayar-lagi")

    assert response.status_code == 303
    assert response.location == "http://midtrans.test/snap/v3/redirection/new-token"
    assert attempts.calls == [order.id]
    ids = [p.midtrans_order_id for p in db.session.get(type(order), order.id).payments]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert cache.get(ORDER_PAGE.format(order_id=order.id, user_id=order.user_id)) is None
    assert 'data-role="status-badge">PENDING<' in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_an_open_attempt_cannot_be_paid_again(client, attempts):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order.id}/bayar-lagi", follow_redirects=True)

    assert "tidak bisa dibayar ulang" in response.get_data(as_text=True)
    assert attempts.calls == []
    assert len(payment.order.payments) == 1


def test_paying_again_for_someone_elses_order_is_404(client, attempts):
    order = expired_order()
    log_in(client, UserFactory())

    assert client.post(f"/orders/{order.id}/bayar-lagi").status_code == 404
    assert attempts.calls == []


def test_midtrans_down_changes_nothing_and_says_so(client, attempts):
    order = expired_order()
    attempts.error = MidtransUnavailable("timeout")
    log_in(client, order.user)

    response = client.post(f"/orders/{order.id}/bayar-lagi", follow_redirects=True)

    assert "Midtrans belum bisa dihubungi" in response.get_data(as_text=True)
    assert db.session.query(Payment).filter_by(order_id=order.id).count() == 1
    assert db.session.get(type(order), order.id).status == OrderStatus.EXPIRED


def test_the_form_on_a_cached_page_carries_the_readers_own_csrf_token(app, client, attempts):
    order = expired_order()
    log_in(client, order.user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client.get(f"/orders/{order.id}")  # rendered and cached
        cached = client.get(f"/orders/{order.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', cached).group(1)

        refused = client.post(f"/orders/{order.id}/bayar-lagi")
        accepted = client.post(f"/orders/{order.id}/bayar-lagi", data={"csrf_token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert refused.status_code == 400
    assert accepted.status_code == 303 and attempts.calls == [order.id]
