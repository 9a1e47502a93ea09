"""Snap create after a timeout: never a second transaction blind, never a lost token.

The fake Midtrans keeps one Snap transaction per order id as Midtrans does: created again before a
method is chosen it gets a new token (the old one stops working), and once a method is chosen the
order id is refused with 400.
"""
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import Payment, PaymentStatus
from tests.checkout.test_checkout_views import SHIPPING, SNAP_PATH, counts

LATE = 3.0  # longer than the tests' read timeout (2 s)


def snap_order_ids(midtrans) -> list[str]:
    return [call.json()["transaction_details"]["order_id"] for call in midtrans.calls("POST", SNAP_PATH)]


def test_a_timed_out_create_is_retried_into_the_same_single_transaction(client, shopper, midtrans):
    midtrans.answer_late_once("POST", SNAP_PATH, delay=LATE)  # carried out, answered too late

    response = client.post("/checkout", data=SHIPPING)

    assert response.status_code == 303
    ids = snap_order_ids(midtrans)
    assert len(ids) == 2 and len(set(ids)) == 1  # the retry asked for the same order id
    assert list(midtrans.snaps) == ids[:1]  # one transaction at Midtrans for it
    payment = db.session.scalar(db.select(Payment))
    assert payment.midtrans_order_id == ids[0]
    assert payment.snap_token == midtrans.snaps[ids[0]]  # the live token, not the revoked one
    assert response.location == payment.redirect_url
    # Before creating again, the retry asked Midtrans whether a method was already chosen.
    assert [c.path for c in midtrans.calls("GET")] == [f"/v2/{ids[0]}/status"]
    assert counts() == (1, 2, 1)


def test_a_method_chosen_meanwhile_is_recorded_not_created_again(client, shopper, midtrans, monkeypatch):
    midtrans.answer_late_once("POST", SNAP_PATH, delay=LATE)
    healthy = midtrans.default

    def shopper_picks_a_va_right_after_the_create(method, path, body):
        answer = healthy(method, path, body)
        if method == "POST" and path == SNAP_PATH:
            order_id = list(midtrans.snaps)[0]
            midtrans.answers_status({"status_code": "201", "transaction_status": "pending", "order_id": order_id,
                                     "transaction_id": "tx-late", "payment_type": "bank_transfer",
                                     "gross_amount": "215000.00"}, order_id)
        return answer

    monkeypatch.setattr(midtrans, "default", shopper_picks_a_va_right_after_the_create)

    page = client.post("/checkout", data=SHIPPING, follow_redirects=True).get_data(as_text=True)

    assert len(snap_order_ids(midtrans)) == 1  # not created a second time
    assert_recorded_without_token(midtrans)
    assert "sedang diproses Midtrans" in page


def test_order_id_taken_on_the_retry_is_recorded_not_lost(client, shopper, midtrans):
    midtrans.answer_late_once("POST", SNAP_PATH, delay=LATE)
    midtrans.script("POST", SNAP_PATH, 400, {"error_messages": ["transaction_details.order_id has already been taken"]})

    page = client.post("/checkout", data=SHIPPING, follow_redirects=True).get_data(as_text=True)

    assert len(snap_order_ids(midtrans)) == 2 and len(set(snap_order_ids(midtrans))) == 1
    assert_recorded_without_token(midtrans)
    assert "sedang diproses Midtrans" in page


def test_order_id_taken_on_a_first_try_is_a_plain_rejection(client, shopper, midtrans):
    midtrans.script("POST", SNAP_PATH, 400, {"error_messages": ["transaction_details.order_id has already been taken"]})

    page = client.post("/checkout", data=SHIPPING, follow_redirects=True).get_data(as_text=True)

    assert "Pembayaran tidak dapat dibuat" in page
    assert counts() == (0, 0, 0) and midtrans.calls("GET") == []


def assert_recorded_without_token(midtrans) -> None:
    """One attempt for the one order id Midtrans knows, kept (no token: its notifications and the reconciler
    find it), and the order still holds its stock."""
    payments = db.session.scalars(db.select(Payment)).all()
    assert [(p.midtrans_order_id, p.status, p.snap_token) for p in payments] == [
        (list(midtrans.snaps)[0], PaymentStatus.CREATED, None)]
    assert db.session.get(Order, payments[0].order_id).status is OrderStatus.PENDING
    assert counts() == (1, 2, 1)
