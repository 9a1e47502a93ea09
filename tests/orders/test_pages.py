"""The shopper's order list and order page."""
import re
from datetime import timedelta

from shop.models import utcnow
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.orders.helpers import log_in


def test_list_shows_only_my_orders_newest_first(client):
    me, someone = UserFactory(), UserFactory()
    old = OrderFactory(user=me, created_at=utcnow() - timedelta(days=2))
    new = OrderFactory(user=me, status=OrderStatus.SUCCESS)
    theirs = OrderFactory(user=someone)
    log_in(client, me)

    html = client.get("/orders").get_data(as_text=True)

    assert html.index(f"#{new.id}<") < html.index(f"#{old.id}<")
    assert f"#{theirs.id}<" not in html
    assert 'class="badge badge-SUCCESS"' in html and 'class="badge badge-PENDING"' in html


def test_list_is_paginated(client):
    me = UserFactory()
    orders = [OrderFactory(user=me, created_at=utcnow() - timedelta(minutes=n)) for n in range(12)]
    log_in(client, me)

    first = client.get("/orders").get_data(as_text=True)
    second = client.get("/orders?page=2").get_data(as_text=True)

    assert f"#{orders[9].id}<" in first and f"#{orders[10].id}<" not in first
    assert f"#{orders[10].id}<" in second and f"#{orders[11].id}<" in second
    assert "Halaman 2 dari 2" in second


def test_a_bad_page_number_is_a_clear_400(client):
    log_in(client, UserFactory())

    response = client.get("/orders?page=dua")

    assert response.status_code == 400
    assert "Nomor halaman tidak valid" in response.get_data(as_text=True)


def test_anonymous_visitors_see_no_order(client):
    order = OrderFactory()

    response = client.get(f"/orders/{order.id}")

    # Flask-Login answers 401 only without a login view; shop/accounts/login.py sets one.
    assert response.status_code == 302 and response.location == f"/login?next=%2Forders%2F{order.id}"
    assert order.shipping_address not in response.get_data(as_text=True)


def test_another_shoppers_order_answers_404_like_a_missing_one(client):
    theirs = OrderFactory()
    log_in(client, UserFactory())

    foreign = client.get(f"/orders/{theirs.id}")
    missing = client.get(f"/orders/{theirs.id + 1000}")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_data() == missing.get_data()
    for path in ("status", "events"):
        assert client.get(f"/orders/{theirs.id}/{path}").status_code == 404


def test_order_page_shows_lines_totals_and_the_va_number(client):
    payment = PaymentFactory(status=PaymentStatus.PENDING, payment_type="bank_transfer",
                             va_numbers=[{"bank": "bca", "va_number": "12345678901"}],
                             expires_at=utcnow() + timedelta(hours=3))
    order = payment.order
    log_in(client, order.user)

    html = client.get(f"/orders/{order.id}").get_data(as_text=True)

    line = order.lines[0]
    assert line.name in html and "Rp 50.000" in html and "Rp 100.000" in html
    assert "Transfer Virtual Account BCA" in html and "12345678901" in html
    # The method is chosen: Snap's page would only offer the same VA again.
    assert payment.redirect_url not in html and "Lanjutkan pembayaran" not in html


def test_order_page_shows_bill_key_and_store_code(client):
    mandiri = PaymentFactory(status=PaymentStatus.PENDING, payment_type="echannel",
                             bill_key="990011223344", biller_code="70012")
    alfamart = PaymentFactory(status=PaymentStatus.PENDING, payment_type="cstore",
                              store="alfamart", payment_code="ALF0123456")
    log_in(client, mandiri.order.user)
    mandiri_html = client.get(f"/orders/{mandiri.order.id}").get_data(as_text=True)
    log_in(client, alfamart.order.user)
    alfamart_html = client.get(f"/orders/{alfamart.order.id}").get_data(as_text=True)

    assert "990011223344" in mandiri_html and "70012" in mandiri_html
    assert "Bayar di gerai Alfamart" in alfamart_html and "ALF0123456" in alfamart_html


def test_no_continue_link_once_the_attempt_expired_by_the_clock(client):
    payment = PaymentFactory(status=PaymentStatus.PENDING, expires_at=utcnow() - timedelta(minutes=1))
    log_in(client, payment.order.user)

    html = client.get(f"/orders/{payment.order.id}").get_data(as_text=True)

    assert "Lanjutkan pembayaran" not in html
    assert "Batas waktu pembayaran sudah lewat" in html


def test_pending_page_updates_itself_and_works_without_javascript(client):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    log_in(client, payment.order.user)

    html = client.get(f"/orders/{payment.order.id}").get_data(as_text=True)

    assert "Status update otomatis" in html
    assert "Status akan terupdate otomatis setelah pembayaran" in html
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in html
    assert f'data-events-url="/orders/{payment.order.id}/events"' in html
    assert 'data-poll-seconds="10"' in html
    assert re.search(r'<a class="btn btn-secondary" data-refresh href="/orders/\d+">Refresh Data</a>', html)
    assert "order-status.js" in html and "<script>" not in html  # no inline script


def test_a_paid_page_stops_updating(client):
    payment = PaymentFactory(status=PaymentStatus.SUCCESS, order__status=OrderStatus.SUCCESS)
    log_in(client, payment.order.user)

    html = client.get(f"/orders/{payment.order.id}").get_data(as_text=True)

    assert "Status update otomatis" not in html
    assert 'http-equiv="refresh"' not in html
    assert "Lanjutkan pembayaran" not in html and "Bayar lagi" not in html


def test_finish_redirect_query_string_is_ignored(client):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    log_in(client, payment.order.user)

    response = client.get(f"/orders/{payment.order.id}?order_id={payment.midtrans_order_id}"
                          "&status_code=200&transaction_status=settlement")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'badge-PENDING" data-role="status-badge">Menunggu pembayaran<' in html
    assert "badge-SUCCESS" not in html and "settlement" not in html


def test_finish_url_with_a_midtrans_order_id_goes_to_the_order_page(client):
    payment = PaymentFactory()
    theirs = PaymentFactory()
    log_in(client, payment.order.user)

    mine = client.get(f"/orders/selesai?order_id={payment.midtrans_order_id}&transaction_status=capture")
    foreign = client.get(f"/orders/selesai?order_id={theirs.midtrans_order_id}")
    without = client.get("/orders/selesai")

    assert mine.status_code == 302 and mine.location == f"/orders/{payment.order.id}?transaction_status=capture"
    assert foreign.status_code == 404
    assert without.status_code == 302 and without.location == "/orders"


def test_status_json_reads_the_database_not_the_cache_nor_midtrans(client, midtrans):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    order = payment.order
    log_in(client, order.user)
    client.get(f"/orders/{order.id}")  # cache the page
    order.status = OrderStatus.SUCCESS
    payment.status = PaymentStatus.SUCCESS

    response = client.get(f"/orders/{order.id}/status")

    assert response.get_json() == {"order_id": order.id, "status": "SUCCESS", "is_final": True,
                                   "payment_status": "SUCCESS", "fingerprint": "SUCCESS.1.SUCCESS"}
    assert response.headers["Cache-Control"] == "no-store"
    assert midtrans.calls() == []
