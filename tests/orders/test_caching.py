"""The four cached pages: fresh after a notification, never one shopper's page for another."""
from shop.caching import DASHBOARD_DETAIL, DASHBOARD_LIST, ORDER_LIST, ORDER_PAGE
from shop.extensions import cache, db
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.orders.helpers import log_in, record_status_change


def badge(html: str) -> str:
    return html.split('data-role="status-badge">', 1)[1].split("<", 1)[0]


def test_a_cached_order_page_shows_the_new_status_on_the_next_request(client):
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    order = payment.order
    log_in(client, order.user)
    assert badge(client.get(f"/orders/{order.id}").get_data(as_text=True)) == "PENDING"
    assert cache.get(ORDER_PAGE.format(order_id=order.id, user_id=order.user_id)) is not None

    record_status_change(order, OrderStatus.SUCCESS, PaymentStatus.SUCCESS)

    assert badge(client.get(f"/orders/{order.id}").get_data(as_text=True)) == "SUCCESS"
    assert "badge-SUCCESS" in client.get("/orders").get_data(as_text=True)


def test_the_page_really_comes_from_the_cache_until_it_is_cleared(client):
    order = OrderFactory()
    log_in(client, order.user)
    client.get(f"/orders/{order.id}")
    order.lines[0].name = "Nama baru"  # changes a line, not the order row: the stamp stays
    db.session.commit()

    assert "Nama baru" not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    record_status_change(order, OrderStatus.PENDING)  # clears the keys, as the task does
    assert "Nama baru" in client.get(f"/orders/{order.id}").get_data(as_text=True)


def test_a_page_stored_just_after_the_clear_is_not_served_stale(client):
    """The request rendered PENDING, the task committed and cleared, then the request stored."""
    order = OrderFactory()
    log_in(client, order.user)
    client.get(f"/orders/{order.id}")  # stores PENDING, as the late request would
    order.status = OrderStatus.SUCCESS
    db.session.commit()  # committed; the clear already happened before the store above

    assert badge(client.get(f"/orders/{order.id}").get_data(as_text=True)) == "SUCCESS"


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
