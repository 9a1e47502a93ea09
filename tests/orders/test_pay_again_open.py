""""Ganti metode pembayaran": a new attempt for an order whose attempt is still open at Midtrans.

The open attempt is expired at the fake Midtrans first (over HTTP), so the shopper never holds
two live VA numbers; its expire notification then goes through the normal path.
"""
import json
import threading

import pytest

from shop.catalog.models import Product
from shop.checkout import services as checkout_services, workflow
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments import receiving
from shop.payments.models import Notification, NotificationOutcome, Payment, PaymentStatus as P
from tests.orders.helpers import log_in
from tests.payments.helpers import committed_payment, for_payment, run_now

PENDING_VA = "fixture_bank_transfer_pending_sbtest.json"
EXPIRE = "fixture_qris_expire_sbtest.json"
VA = [{"bank": "bca", "va_number": "12345678901"}]


def pending_va_order(midtrans):
    """A PENDING order (2 units held, 3 left) whose attempt is a BCA VA, pending at the fake too."""
    payment = committed_payment()
    payment.status, payment.payment_type, payment.va_numbers = P.PENDING, "bank_transfer", VA
    payment.transaction_id = "tx-open-va"
    db.session.commit()
    midtrans.answers_status(_status_body(payment, "pending"), payment.transaction_id, payment.midtrans_order_id)
    return payment


def _status_body(payment, transaction_status):
    return {"status_code": "201", "transaction_id": payment.transaction_id, "order_id": payment.midtrans_order_id,
            "gross_amount": f"{payment.gross_amount}.00", "payment_type": "bank_transfer", "va_numbers": VA,
            "transaction_status": transaction_status, "transaction_time": "2026-05-27 14:30:00"}


def stock_of(order_id) -> int:
    order = db.session.get(Order, order_id)
    return db.session.get(Product, order.lines[0].product_id).stock


def snap_creates(midtrans):
    return midtrans.snap_creates()


def test_a_pending_va_order_offers_another_method(client, midtrans):
    payment = pending_va_order(midtrans)
    log_in(client, payment.order.user)

    page = client.get(f"/orders/{payment.order_id}").get_data(as_text=True)

    assert "Ganti metode pembayaran" in page and "12345678901" in page


def test_paying_again_expires_the_open_va_once_then_opens_one_new_attempt(app, client, midtrans):
    payment = pending_va_order(midtrans)
    order_id, user = payment.order_id, payment.order.user
    log_in(client, user)

    response = client.post(f"/orders/{order_id}/bayar-lagi")

    assert response.status_code == 303 and "/snap/v3/redirection/" in response.location
    assert midtrans.actions == [("expire", "tx-open-va")]
    assert len(midtrans.calls("POST", "/v2/")) == 1 and len(snap_creates(midtrans)) == 1
    order = db.session.get(Order, order_id)
    assert [(p.attempt, p.status) for p in order.payments] == [(1, P.PENDING), (2, P.CREATED)]
    assert order.status is OrderStatus.PENDING and stock_of(order_id) == 3  # held once, not twice
    assert snap_creates(midtrans)[0].json()["transaction_details"]["order_id"] == order.payments[1].midtrans_order_id

    # Midtrans's expire notification of the old attempt arrives and goes through the transition table.
    notification = receiving.record_notification(json.dumps(for_payment(
        order.payments[0], EXPIRE, transaction_id="tx-open-va", payment_type="bank_transfer")).encode())
    db.session.commit()
    run_now(app, "payments.process_notification")(notification.id)
    assert db.session.get(Notification, notification.id).outcome is NotificationOutcome.APPLIED
    order = db.session.get(Order, order_id)
    assert [p.status for p in order.payments] == [P.EXPIRED, P.CREATED]
    assert order.status is OrderStatus.PENDING and not order.stock_released and stock_of(order_id) == 3


@pytest.mark.parametrize("answer", [(503, {"status_message": "down"}), (500, {"status_message": "boom"})])
def test_when_the_old_attempt_cannot_be_expired_nothing_new_is_opened(client, midtrans, answer):
    payment = pending_va_order(midtrans)
    for _ in range(3):  # the first try and both retries
        midtrans.script("POST", "/v2/tx-open-va/expire", *answer)
    log_in(client, payment.order.user)

    page = client.post(f"/orders/{payment.order_id}/bayar-lagi", follow_redirects=True).get_data(as_text=True)

    assert "belum bisa dihentikan" in page and "Nomor pembayaran lama masih berlaku" in page
    assert len(midtrans.calls("POST", "/v2/tx-open-va/expire")) == 3
    assert snap_creates(midtrans) == [] and midtrans.actions == []
    order = db.session.get(Order, payment.order_id)
    assert [(p.attempt, p.status) for p in order.payments] == [(1, P.PENDING)]
    assert order.status is OrderStatus.PENDING and stock_of(payment.order_id) == 3


def test_midtrans_unreachable_opens_nothing(app, client, midtrans, monkeypatch):
    payment = pending_va_order(midtrans)
    monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    log_in(client, payment.order.user)

    page = client.post(f"/orders/{payment.order_id}/bayar-lagi", follow_redirects=True).get_data(as_text=True)

    assert "belum bisa dihentikan" in page
    assert snap_creates(midtrans) == []
    assert len(db.session.get(Order, payment.order_id).payments) == 1


def test_an_attempt_paid_meanwhile_is_not_replaced(client, midtrans):
    payment = pending_va_order(midtrans)
    paid = {**_status_body(payment, "settlement"), "status_code": "200"}
    midtrans.answers_status(paid, payment.transaction_id, payment.midtrans_order_id)  # expire then answers 412
    log_in(client, payment.order.user)

    page = client.post(f"/orders/{payment.order_id}/bayar-lagi", follow_redirects=True).get_data(as_text=True)

    assert "sudah diterima atau sedang dikonfirmasi" in page
    assert midtrans.actions == [] and snap_creates(midtrans) == []
    assert len(midtrans.calls("GET", "/v2/tx-open-va/status")) == 1
    order = db.session.get(Order, payment.order_id)
    assert [(p.attempt, p.status) for p in order.payments] == [(1, P.PENDING)]  # the notification moves it


def test_an_attempt_already_expired_at_midtrans_is_replaced(client, midtrans):
    payment = pending_va_order(midtrans)
    midtrans.answers_status({**_status_body(payment, "expire"), "status_code": "407"}, payment.transaction_id)
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order_id}/bayar-lagi")

    assert response.status_code == 303 and len(snap_creates(midtrans)) == 1
    assert len(db.session.get(Order, payment.order_id).payments) == 2


def snap_page(midtrans):
    """A CREATED attempt whose Snap page the fake holds open: Midtrans knows no transaction yet."""
    payment = committed_payment()
    midtrans.snaps[payment.midtrans_order_id] = payment.snap_token
    return payment


def test_a_snap_page_without_a_chosen_method_is_closed_before_the_new_attempt(client, midtrans):
    payment = snap_page(midtrans)
    old_token = payment.snap_token
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order_id}/bayar-lagi")

    assert response.status_code == 303
    assert [c.path for c in midtrans.calls("POST", "/v2/")] == [f"/v2/{payment.midtrans_order_id}/expire"]  # 404
    assert [c.path for c in midtrans.calls("POST", "/snap/v1/transactions/")] == [
        f"/snap/v1/transactions/{old_token}/cancel"]
    assert midtrans.actions == [("snap_cancel", payment.midtrans_order_id)] and len(snap_creates(midtrans)) == 1
    assert old_token in midtrans.closed_snaps  # the old page takes no method any more
    order = db.session.get(Order, payment.order_id)
    assert [p.status for p in order.payments] == [P.CREATED, P.CREATED] and stock_of(payment.order_id) == 3


@pytest.mark.parametrize("status, message", [(409, "token already canceled"), (404, "token not found")])
def test_a_page_closed_already_or_expired_is_no_obstacle(client, midtrans, status, message):
    payment = snap_page(midtrans)
    midtrans.script("POST", f"/snap/v1/transactions/{payment.snap_token}/cancel", status, {"error_messages": [message]})
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order_id}/bayar-lagi")

    assert response.status_code == 303 and "/snap/v3/redirection/" in response.location
    assert len(db.session.get(Order, payment.order_id).payments) == 2


def test_a_method_chosen_on_the_old_page_meanwhile_opens_no_new_attempt(client, midtrans):
    payment = snap_page(midtrans)
    midtrans.script("POST", f"/snap/v1/transactions/{payment.snap_token}/cancel", 409,
                    {"error_messages": ["Transaction is in progress"]})
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order_id}/bayar-lagi", follow_redirects=True)

    assert "Metode pembayaran baru saja dipilih di halaman pembayaran sebelumnya" in response.get_data(as_text=True)
    assert snap_creates(midtrans) == [] and midtrans.actions == []
    order = db.session.get(Order, payment.order_id)
    assert [p.status for p in order.payments] == [P.CREATED] and stock_of(payment.order_id) == 3


def test_a_snap_create_whose_answer_was_lost_has_no_page_to_close(client, midtrans):
    payment = committed_payment()
    payment.snap_token = payment.redirect_url = None
    db.session.commit()
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order_id}/bayar-lagi")

    assert response.status_code == 303 and midtrans.calls("POST", "/snap/v1/transactions/") == []
    assert len(db.session.get(Order, payment.order_id).payments) == 2


def test_a_snap_page_refused_as_412_but_unknown_to_get_status_is_replaced(client, midtrans):
    payment = snap_page(midtrans)  # as the emulator answers: the Snap order exists, no method chosen
    midtrans.script("POST", f"/v2/{payment.midtrans_order_id}/expire", 200,
                    {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"})
    log_in(client, payment.order.user)

    response = client.post(f"/orders/{payment.order_id}/bayar-lagi")

    assert response.status_code == 303 and len(snap_creates(midtrans)) == 1
    assert len(midtrans.calls("GET", f"/v2/{payment.midtrans_order_id}/status")) == 1
    assert len(db.session.get(Order, payment.order_id).payments) == 2
    assert midtrans.actions == [("snap_cancel", payment.midtrans_order_id)]  # its page closed too


@pytest.mark.postgres
@pytest.mark.integration  # the old attempt's expiry is applied by a worker of its own, committed
@pytest.mark.parametrize("sold_out", [False, True])
@pytest.mark.parametrize("when", ["while Snap answers", "before Snap is asked"])
def test_the_old_attempts_expiry_applied_meanwhile_leaves_the_new_attempt_holding_the_stock(
        app, client, clean_db, midtrans, monkeypatch, sold_out, when):
    payment = pending_va_order(midtrans)
    order_id, old_id, user = payment.order_id, payment.id, payment.order.user
    log_in(client, user)

    def expiry_applied():  # Midtrans's expire notification of the old attempt, by a worker of its own
        def worker():
            with app.app_context():
                old = db.session.get(Payment, old_id)
                notification = receiving.record_notification(json.dumps(for_payment(
                    old, EXPIRE, transaction_id="tx-open-va", payment_type="bank_transfer")).encode())
                db.session.commit()
                app.extensions["celery"].tasks["payments.process_notification"].apply(args=[notification.id])
                if sold_out:  # another shopper takes the stock the expiry gave back
                    product = db.session.get(Order, order_id).lines[0].product
                    product.stock = 0
                    db.session.commit()
                db.session.remove()

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(20)

    if when == "while Snap answers":
        create = checkout_services.gateway.create_snap_transaction
        monkeypatch.setattr(checkout_services.gateway, "create_snap_transaction",
                            lambda payload: (create(payload), expiry_applied())[0])
    else:  # right after the order was reopened and committed, before the new attempt reads it
        open_attempt = workflow._open_attempt
        monkeypatch.setattr(workflow, "_open_attempt",
                            lambda order_id, undo: (expiry_applied(), open_attempt(order_id, undo))[1])

    response = client.post(f"/orders/{order_id}/bayar-lagi")

    db.session.expire_all()
    if sold_out:  # no attempt without its stock: the shopper is told why
        assert response.status_code == 303 and response.location.endswith(f"/orders/{order_id}")
        assert "tidak cukup" in client.get(response.location).get_data(as_text=True)
        order = db.session.get(Order, order_id)
        assert [p.status for p in order.payments] == [P.EXPIRED]
        assert order.status is OrderStatus.EXPIRED and order.stock_released and stock_of(order_id) == 0
        return
    assert response.status_code == 303 and "/snap/v3/redirection/" in response.location
    order = db.session.get(Order, order_id)
    assert [p.status for p in order.payments] == [P.EXPIRED, P.CREATED]
    assert order.status is OrderStatus.PENDING and not order.stock_released
    assert stock_of(order_id) == 3  # the expiry gave the stock back, the new attempt took it again
    new = order.payments[1]
    settle = receiving.record_notification(json.dumps(for_payment(new, "bank_transfer_bca_settlement.json")).encode())
    db.session.commit()
    run_now(app, "payments.process_notification")(settle.id)
    order = db.session.get(Order, order_id)
    assert order.status is OrderStatus.SUCCESS and not order.needs_review and stock_of(order_id) == 3
