"""The four cached pages: fresh after a notification, never one shopper's page for another."""
import os
from contextlib import contextmanager

from flask import g, template_rendered
from flask_caching.backends import NullCache
from sqlalchemy import event
from sqlalchemy.engine import Engine

from shop import create_app
from shop.caching import (CSRF_PLACEHOLDER, DASHBOARD_DETAIL, DASHBOARD_LIST, ORDER_LIST, SHOPPER_TOKEN,
                          clear_order_pages, order_page_keys)
from shop.config import TEST_SETTINGS
from shop.extensions import cache, db
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.orders.helpers import log_in, record_status_change


def badge(html: str) -> str:
    """The status code of the page's status badge (its class; the text is the Indonesian label)."""
    return html.split('data-role="status-badge"', 1)[0].rsplit('class="badge badge-', 1)[1].split('"', 1)[0]


def as_a_new_request() -> None:
    """Forget what the tests' shared app context keeps between requests (the user, loaded rows)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    db.session.remove()


@contextmanager
def statements():
    """Every SQL statement sent to the database inside the block."""
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def pending_order():
    order = PaymentFactory(status=PaymentStatus.PENDING).order
    db.session.commit()
    return order


def test_a_cached_order_page_shows_the_new_status_on_the_next_request(client):
    order = pending_order()
    log_in(client, order.user)
    assert badge(client.get(f"/orders/{order.id}").get_data(as_text=True)) == "PENDING"
    assert cache.get(SHOPPER_TOKEN.format(user_id=order.user_id)) is not None

    record_status_change(order, OrderStatus.SUCCESS, PaymentStatus.SUCCESS)

    assert badge(client.get(f"/orders/{order.id}").get_data(as_text=True)) == "SUCCESS"
    assert "badge-SUCCESS" in client.get("/orders").get_data(as_text=True)


def test_a_cached_order_page_is_served_without_any_sql(client):
    order = pending_order()
    url = f"/orders/{order.id}"
    log_in(client, order.user)
    with statements() as rendering:
        first = client.get(url)
    as_a_new_request()

    with statements() as serving:
        second = client.get(url)

    assert rendering and serving == []
    assert second.status_code == 200 and second.get_data() == first.get_data().replace(
        _csrf_token(first), _csrf_token(second))
    assert second.headers["Cache-Control"] == "private, no-cache"
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert second.headers[header] == first.headers[header]
    assert "Status update otomatis" in second.get_data(as_text=True)


def _csrf_token(response) -> bytes:
    return response.get_data().split(b'name="csrf_token" value="', 1)[1].split(b'"', 1)[0]


def test_the_page_really_comes_from_the_cache_until_it_is_cleared(client):
    order = OrderFactory()
    log_in(client, order.user)
    client.get(f"/orders/{order.id}")
    order.lines[0].name = "Nama baru"  # changes a line, and nothing clears the page
    db.session.commit()

    assert "Nama baru" not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    record_status_change(order, OrderStatus.PENDING)  # clears the keys, as the task does
    assert "Nama baru" in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_a_page_rendered_before_a_change_is_not_served_after_the_change_was_announced(app, client):
    """The request rendered PENDING, the task committed and cleared, then the request stored."""
    order = pending_order()
    url = f"/orders/{order.id}"
    log_in(client, order.user)

    def change_during_render(sender, template, context, **extra):
        if template.name == "orders/show.html":
            record_status_change(order, OrderStatus.SUCCESS, PaymentStatus.SUCCESS)

    with template_rendered.connected_to(change_during_render, app):
        stale = client.get(url)  # stored after the clear, from the old row
    as_a_new_request()

    assert badge(stale.get_data(as_text=True)) == "PENDING"
    assert badge(client.get(url).get_data(as_text=True)) == "SUCCESS"


def test_another_shopper_gets_404_not_the_cached_page(client):
    alice, bob = UserFactory(), UserFactory()
    alices = OrderFactory(user=alice)
    db.session.commit()
    log_in(client, alice)
    assert client.get(f"/orders/{alices.id}").status_code == 200  # cached for alice

    log_in(client, bob)
    foreign, missing = client.get(f"/orders/{alices.id}"), client.get("/orders/999999")

    assert foreign.status_code == 404 and foreign.get_data() == missing.get_data()


def test_a_session_ended_by_log_out_everywhere_never_gets_the_cached_page(app, client):
    order = pending_order()
    url = f"/orders/{order.id}"
    log_in(client, order.user)
    assert client.get(url).status_code == 200  # cached for this session
    other_device = app.test_client()
    log_in(other_device, order.user)

    assert other_device.post("/logout").status_code == 302  # ends every session of the shopper
    as_a_new_request()
    response = client.get(url)

    assert response.status_code == 302 and "/login" in response.location


def test_a_flash_message_is_shown_once_and_never_cached(client):
    order = pending_order()
    log_in(client, order.user)
    client.get(f"/orders/{order.id}")  # cached without a message
    with client.session_transaction() as session:
        session["_flashes"] = [("error", "Pembayaran gagal dibuat.")]

    assert "Pembayaran gagal dibuat." in client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Pembayaran gagal dibuat." not in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_the_cached_html_holds_no_csrf_token(app, client, monkeypatch):
    stored = {}
    order = pending_order()
    log_in(client, order.user)
    monkeypatch.setattr(cache.cache, "set", lambda key, value, *a, **kw: stored.update({key: value}))

    served = client.get(f"/orders/{order.id}")

    [(token, html)] = stored.values()
    assert CSRF_PLACEHOLDER in html and _csrf_token(served).decode() not in html
    assert CSRF_PLACEHOLDER not in served.get_data(as_text=True)


def test_without_a_cache_every_request_renders_the_page(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions["cache"], cache, NullCache())  # as bench/uncached.py runs
    order = pending_order()
    log_in(client, order.user)
    assert badge(client.get(f"/orders/{order.id}").get_data(as_text=True)) == "PENDING"
    order.status = OrderStatus.SUCCESS
    db.session.commit()

    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert badge(page) == "SUCCESS" and CSRF_PLACEHOLDER not in page


def test_one_shoppers_cached_pages_are_never_served_to_another(client):
    alice, bob = UserFactory(), UserFactory()
    alices, bobs = OrderFactory(user=alice), OrderFactory(user=bob)
    log_in(client, alice)
    client.get("/orders")
    client.get(f"/orders/{alices.id}")
    assert cache.get(ORDER_LIST.format(user_id=alice.id)) is not None

    log_in(client, bob)
    bobs_list = client.get("/orders").get_data(as_text=True)

    assert f"#{bobs.id}<" in bobs_list and f"#{alices.id}<" not in bobs_list
    assert client.get(f"/orders/{alices.id}").status_code == 404


def test_dashboard_pages_are_cached_and_cleared_too(client):
    order = PaymentFactory(status=PaymentStatus.PENDING).order
    log_in(client, UserFactory(is_admin=True))
    client.get("/dashboard/pesanan")
    client.get(f"/dashboard/pesanan/detail-pesanan/{order.id}")
    assert cache.get(DASHBOARD_LIST) is not None
    assert cache.get(DASHBOARD_DETAIL.format(order_id=order.id)) is not None

    record_status_change(order, OrderStatus.SUCCESS, PaymentStatus.SUCCESS)

    listing = client.get("/dashboard/pesanan").get_data(as_text=True)
    detail = client.get(f"/dashboard/pesanan/detail-pesanan/{order.id}").get_data(as_text=True)
    assert "badge-PENDING" not in listing and "badge-SUCCESS" in listing
    assert "badge-PENDING" not in detail and "badge-SUCCESS" in detail


def test_on_redis_one_delete_clears_the_four_pages(app):
    """The Redis backend: every key of an order's pages goes, in one DEL (no read-back per key)."""
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                           REDIS_URL=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")))
    with shop.app_context():
        keys = order_page_keys(order_id=7, user_id=3)
        cache.set_many({key: "cached" for key in keys})
        cache.set("page:/orders:user=4", "another shopper's")
        client = cache.cache._write_client
        sent = []
        real = client.execute_command
        client.execute_command = lambda *args, **options: sent.append(args[0]) or real(*args, **options)
        try:
            clear_order_pages(order_id=7, user_id=3)
        finally:
            client.execute_command = real
        assert sent == ["DEL"]
        assert cache.get_many(*keys) == [None] * 4
        assert cache.get("page:/orders:user=4") == "another shopper's"
        cache.delete("page:/orders:user=4")
