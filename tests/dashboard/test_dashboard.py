"""The staff dashboard: access, filters, totals, attention, history and actions."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from shop.dashboard import wording
from shop.extensions import cache, db
from shop.caching import DASHBOARD_DETAIL
from shop.orders.models import OrderStatus
from shop.payments.models import (Notification, NotificationOutcome, NotificationSource,
                                  NotificationState, PaymentStatus)
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.orders.helpers import log_in
from tests.payments.helpers import settles

WIB = timezone(timedelta(hours=7))


def dashboard_urls(app, order_id, payment_id, notification_id):
    """Every route of the dashboard blueprint, with its method."""
    values = {"order_id": order_id, "payment_id": payment_id, "notification_id": notification_id, "kind": "cancel"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dashboard."):
            method = "POST" if "POST" in rule.methods else "GET"
            yield method, rule.build({k: values[k] for k in rule.arguments})[1]


def test_every_dashboard_route_is_for_admins_only(app, client):
    payment = PaymentFactory()
    note = notification(payment, NotificationOutcome.APPLIED)
    urls = list(dashboard_urls(app, payment.order.id, payment.id, note.id))
    # list, CSV, detail, re-check, replay, refund (confirm, send), manual refund, actions
    assert len(urls) == 10

    anonymous = [client.open(url, method=method).status_code for method, url in urls]
    log_in(client, UserFactory())
    shopper = [client.open(url, method=method).status_code for method, url in urls]

    assert set(anonymous) <= {302, 401}  # 401 until the login view exists, then its redirect
    assert set(shopper) == {404}


def test_admin_sees_every_order_with_totals(client, admin):
    paid = OrderFactory(status=OrderStatus.SUCCESS, total=150000)
    open_ = OrderFactory(total=20000)

    html = client.get("/dashboard/pesanan").get_data(as_text=True)

    assert f"#{paid.id}<" in html and f"#{open_.id}<" in html
    assert paid.user.email in html
    assert "Rp 170.000" in html and "Rp 150.000" in html  # value, and paid


def test_filter_by_status(client, admin):
    paid, waiting = OrderFactory(status=OrderStatus.SUCCESS), OrderFactory()

    html = client.get("/dashboard/pesanan?status=SUCCESS").get_data(as_text=True)

    assert f"#{paid.id}<" in html and f"#{waiting.id}<" not in html


def test_filter_by_day_counts_jakarta_days(client, admin):
    late = OrderFactory(created_at=datetime(2026, 11, 10, 23, 30, tzinfo=WIB))
    next_day = OrderFactory(created_at=datetime(2026, 11, 11, 0, 30, tzinfo=WIB))
    before = OrderFactory(created_at=datetime(2026, 11, 9, 23, 59, tzinfo=WIB))

    html = client.get("/dashboard/pesanan?date_from=2026-11-10&date_to=2026-11-10").get_data(as_text=True)

    assert f"#{late.id}<" in html
    assert f"#{next_day.id}<" not in html and f"#{before.id}<" not in html


@pytest.mark.parametrize("search", ["id", "midtrans", "email"])
def test_search_by_order_id_midtrans_order_id_or_email(client, admin, search):
    wanted = PaymentFactory(order__user=UserFactory(email="siti.rahma@example.com"))
    other = PaymentFactory()
    term = {"id": f"#{wanted.order.id}", "midtrans": wanted.midtrans_order_id,
            "email": "SITI.RAHMA"}[search]

    html = client.get("/dashboard/pesanan", query_string={"q": term}).get_data(as_text=True)

    assert f"#{wanted.order.id}<" in html and f"#{other.order.id}<" not in html


def test_paginated(client, admin):
    orders = [OrderFactory(created_at=datetime(2026, 11, 1, tzinfo=WIB) + timedelta(minutes=n))
              for n in range(25)]

    second = client.get("/dashboard/pesanan?page=2").get_data(as_text=True)

    assert "Halaman 2 dari 2" in second
    assert f"#{orders[0].id}<" in second and f"#{orders[24].id}<" not in second


@pytest.mark.parametrize("query, message", [
    ("status=PAID", "Pilihan tidak valid"),
    ("date_from=2026-11-10&date_to=2026-11-01", "Tanggal akhir tidak boleh sebelum tanggal awal"),
    ("date_from=kemarin", "Dari tanggal"),
    ("page=0", "Halaman"),
])
def test_bad_filters_get_a_clear_400(client, admin, query, message):
    OrderFactory()

    response = client.get(f"/dashboard/pesanan?{query}")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Filter tidak valid" in html and message in html
    assert "<table" not in html


def test_orders_on_hold_and_amount_mismatches_stand_out(client, admin):
    held = OrderFactory(status=OrderStatus.REVIEW, needs_review=True)
    mismatch = PaymentFactory(amount_mismatch=True).order
    plain = OrderFactory()

    html = client.get("/dashboard/pesanan").get_data(as_text=True)
    only = client.get("/dashboard/pesanan?attention=y").get_data(as_text=True)

    assert "2 pesanan perlu ditinjau" in html
    assert html.count('class="row-attention"') == 2 and "Jumlah tidak cocok" in html
    assert f"#{held.id}<" in only and f"#{mismatch.id}<" in only and f"#{plain.id}<" not in only


def notification(payment, outcome, error=None, status="settlement"):
    note = Notification(payment=payment, midtrans_order_id=payment.midtrans_order_id,
                        transaction_status=status, status_code="200", gross_amount="100000.00",
                        body="{}", source=NotificationSource.WEBHOOK, state=NotificationState.PROCESSED,
                        outcome=outcome, error=error)
    db.session.add(note)
    db.session.flush()
    return note


def test_detail_shows_attempts_and_the_notification_history(client, admin):
    first = PaymentFactory(status=PaymentStatus.EXPIRED)
    second = PaymentFactory(order=first.order, attempt=2, midtrans_order_id="TK-9-2",
                            status=PaymentStatus.SUCCESS, amount_mismatch=True)
    for outcome in NotificationOutcome:
        notification(second, outcome)
    notification(first, NotificationOutcome.REJECTED, error="bad signature", status="expire")

    html = client.get(f"/dashboard/pesanan/detail-pesanan/{first.order.id}").get_data(as_text=True)

    assert first.midtrans_order_id in html and "TK-9-2" in html
    for outcome in NotificationOutcome:
        assert f'">{wording.OUTCOMES[outcome]}</span>' in html
    assert "Kiriman Midtrans" in html and "Sudah diproses" in html
    shown = re.sub(r"<[^>]+>", " ", html).lower()  # the words on the page, not its class names
    for code in ("applied", "duplicate", "processed", "webhook", "bank_transfer"):
        assert code not in shown
    assert '<span class="muted">bad signature</span>' in html
    assert "Jumlah yang dibayar tidak sama" in html
    assert html.count("Cek status ke Midtrans") == 2 and html.count("Putar ulang") == 7


def test_actions_reject_an_attempt_of_another_order(client, admin):
    payment, foreign = PaymentFactory(), PaymentFactory()

    response = client.post(f"/dashboard/pesanan/detail-pesanan/{payment.order.id}/cek-status/{foreign.id}")

    assert response.status_code == 404


def test_recheck_applies_the_answer_and_refreshes_the_cached_pages(app, client, admin, midtrans):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    order = payment.order
    settles(midtrans, payment, key=payment.midtrans_order_id)
    page = f"/dashboard/pesanan/detail-pesanan/{order.id}"
    client.get(page)
    stream = app.extensions["order_push"].hub.open(order.id)

    response = client.post(f"{page}/cek-status/{payment.id}", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "sudah dicek ulang" in html and "Diterapkan: status pembayaran diperbarui" in html
    assert f"Status pembayaran {payment.midtrans_order_id}: Menunggu pembayaran menjadi Lunas" in html
    assert "-&gt;" not in html and "[APPLIED]" not in html
    assert "badge-SUCCESS" in html
    assert midtrans.calls("GET", f"/v2/{payment.midtrans_order_id}/status")
    history = db.session.query(Notification).filter_by(payment_id=payment.id).all()
    assert [n.source for n in history] == [NotificationSource.RECONCILE]
    assert stream.get_nowait() == "SUCCESS"  # open order pages hear about it
    app.extensions["order_push"].hub.close(order.id, stream)


def test_replay_applies_that_notification_again_as_a_new_history_row(client, admin, midtrans):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    body = settles(midtrans, payment, key=payment.midtrans_order_id)
    note = notification(payment, NotificationOutcome.REJECTED)
    note.body = json.dumps(body)
    db.session.flush()

    client.post(f"/dashboard/pesanan/detail-pesanan/{payment.order.id}/replay/{note.id}")

    history = db.session.query(Notification).filter_by(payment_id=payment.id).order_by(Notification.id).all()
    assert [n.source for n in history] == [NotificationSource.WEBHOOK, NotificationSource.REPLAY]
    assert history[1].outcome is NotificationOutcome.APPLIED
    assert db.session.get(type(payment), payment.id).status is PaymentStatus.SUCCESS


def test_recheck_with_midtrans_down_changes_nothing(client, admin, midtrans):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    for _ in range(3):
        midtrans.script("GET", f"/v2/{payment.midtrans_order_id}/status", 503, {"status_message": "down"})
    db.session.commit()  # the failed action rolls back; what the test made must survive that
    page = f"/dashboard/pesanan/detail-pesanan/{payment.order.id}"
    client.get(page)

    response = client.post(f"{page}/cek-status/{payment.id}", follow_redirects=True)

    assert "Midtrans tidak bisa dihubungi" in response.get_data(as_text=True)
    assert db.session.get(type(payment), payment.id).status == PaymentStatus.PENDING
    assert cache.get(DASHBOARD_DETAIL.format(order_id=payment.order.id)) is not None
