"""The dashboard in Chromium: behind its login, and readable for staff."""
from playwright.sync_api import expect

from shop.extensions import db
from shop.orders.models import OrderStatus
from tests.browser.helpers import pending_va_order, screenshot
from tests.factories import OrderFactory, PaymentFactory, UserFactory


def test_dashboard_is_behind_its_login(push_server, new_page, clean_db):
    pending_va_order()
    OrderFactory(status=OrderStatus.REVIEW, needs_review=True)
    PaymentFactory(amount_mismatch=True, order__status=OrderStatus.SUCCESS)
    admin, shopper = UserFactory(is_admin=True), UserFactory()
    db.session.commit()
    admin.get_id(), shopper.get_id()
    db.session.close()  # on SQLite an open read transaction would block the server

    anonymous = new_page(push_server)
    anonymous.goto("/dashboard/pesanan")
    assert "/login" in anonymous.url
    expect(anonymous.get_by_role("heading", name="Dashboard: pesanan")).to_have_count(0)

    assert new_page(push_server, shopper).goto("/dashboard/pesanan").status == 404

    page = new_page(push_server, admin)
    assert page.goto("/dashboard/pesanan").status == 200
    expect(page.get_by_role("heading", name="Dashboard: pesanan")).to_be_visible()
    expect(page.get_by_text("2 pesanan perlu ditinjau")).to_be_visible()
    expect(page.locator("tr.row-attention")).to_have_count(2)
    screenshot(page, "dashboard.png")
