"""The order page in Debian's Chromium, against gunicorn with gevent workers.

The page's clock is Playwright's fake one, paused: its 10-second poll runs only when a test moves
time on. So a status that shows up while time stands still came by push, and "polling stopped"
is checked by moving time a minute on and seeing no request.
"""
from playwright.sync_api import expect

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import PaymentStatus
from tests.browser.helpers import (notify_paid, notify_pending_va, pending_va_order, screenshot, status_requests,
                                   unchosen_order, wait_until_paid, wait_until_payment_is)

WAIT_MS = 10_000  # upper bound for an event that should come at once (the budget is measured in bench/)


def open_order_page(new_page, server, order):
    page = new_page(server, order.user)
    page.clock.install()
    polls = status_requests(page)
    page.goto(f"/orders/{order.id}")
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # seconds, in Python
    page.evaluate("window.samePage = true")  # gone if the page reloads
    return page, polls


def badge(page):
    return page.locator("[data-role=status-badge]")


def test_push_shows_the_paid_status_without_a_reload(push_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, polls = open_order_page(new_page, push_server, order)
    expect(page.get_by_text("Status update otomatis")).to_be_visible()
    expect(page.get_by_text("Status akan terupdate otomatis setelah pembayaran")).to_be_visible()
    screenshot(page, "order-pending.png")

    notify_paid(push_server, order)

    expect(badge(page)).to_have_text("SUCCESS", timeout=WAIT_MS)
    assert polls == []  # time stood still: this came by push
    assert page.evaluate("window.samePage") is True
    expect(page.locator("[data-order-status]")).to_have_attribute("data-updates", "stopped")
    expect(page.get_by_text("Status update otomatis")).to_be_hidden()
    screenshot(page, "order-paid.png")
    page.clock.run_for(60_000)
    assert page.evaluate("1") == 1 and polls == []


def test_without_push_the_10_second_poll_shows_it_then_stops(poll_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, polls = open_order_page(new_page, poll_server, order)
    notify_paid(poll_server, order)
    wait_until_paid(order)

    page.clock.run_for(8_000)
    assert page.evaluate("1") == 1 and polls == []
    with page.expect_response(lambda r: r.url.endswith("/status")):
        page.clock.run_for(2_000)

    expect(badge(page)).to_have_text("SUCCESS", timeout=WAIT_MS)
    expect(page.locator("[data-order-status]")).to_have_attribute("data-updates", "stopped")
    page.clock.run_for(60_000)
    assert page.evaluate("1") == 1 and len(polls) == 1
    assert page.evaluate("window.samePage") is True


def test_refresh_data_rereads_the_database_in_place(poll_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, polls = open_order_page(new_page, poll_server, order)
    db.session.get(Order, order.id).status = OrderStatus.EXPIRED  # no signal, no cache clear
    db.session.commit()

    with page.expect_response(lambda r: r.url.endswith("/status")):
        page.get_by_role("link", name="Refresh Data").click()

    expect(badge(page)).to_have_text("EXPIRED", timeout=WAIT_MS)
    assert page.evaluate("window.samePage") is True and len(polls) == 1
    expect(page.get_by_text("Muat ulang halaman")).to_be_visible()


def test_a_method_chosen_after_the_page_was_drawn_reloads_it_with_the_va_number(poll_server, new_page, live_app,
                                                                               clean_db):
    # The shopper lands from Snap before Midtrans's pending notification is applied: no method yet.
    order = unchosen_order()
    page, polls = open_order_page(new_page, poll_server, order)
    expect(page.get_by_text("Belum dipilih")).to_be_visible()

    notify_pending_va(poll_server, order)
    wait_until_payment_is(order, PaymentStatus.PENDING)
    with page.expect_navigation():
        page.clock.run_for(2_000)  # a first look soon after a page drawn with no method chosen

    expect(page.get_by_text("333333333333333")).to_be_visible()
    assert page.evaluate("window.samePage") is None  # reloaded
    expect(page.get_by_text("Status update otomatis")).to_be_visible()
    expect(badge(page)).to_have_text("PENDING")
    page.evaluate("window.samePage = true")
    with page.expect_response(lambda r: r.url.endswith("/status")):
        page.clock.run_for(10_000)  # the next poll: nothing moved, so no reload this time
    expect(badge(page)).to_have_text("PENDING")
    assert page.evaluate("window.samePage") is True
