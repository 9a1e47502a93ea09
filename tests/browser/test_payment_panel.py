"""Each method's pending order page fits a 360 px phone (and a 1280 px desktop) with no sideways scroll."""
import pytest
from playwright.sync_api import expect

from shop.extensions import db
from tests.browser.helpers import detached, screenshot
from tests.orders.methods import NUMBERS, PENDING, pending_payment

VIEWPORTS = [(360, 740), (1280, 800)]
WIDTHS = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def open_pending(new_page, server, method: str, viewport):
    payment = pending_payment(method)
    db.session.commit()
    order = detached(payment.order)
    page = new_page(server, order.user, viewport=viewport)
    page.goto(f"/orders/{order.id}")
    return page


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}px")
@pytest.mark.parametrize("method", list(PENDING))
def test_each_methods_pending_page_fits_the_screen(poll_server, new_page, live_app, clean_db, method, viewport):
    page = open_pending(new_page, poll_server, method, viewport)
    expect(page.locator("[data-pay-panel]")).to_be_visible()
    if NUMBERS[method]:
        expect(page.locator("[data-code]").last).to_be_visible()
        expect(page.get_by_role("button", name="Salin").last).to_be_visible()
    if method in ("gopay", "qris"):
        expect(page.locator("[data-qr] img")).to_be_visible()

    scroll_width, client_width = page.evaluate(WIDTHS)
    print(f"\n{method} at {viewport[0]} px: page {scroll_width} px wide")
    assert scroll_width <= client_width
    screenshot(page, f"order-pending-{method}-{viewport[0]}.png")
