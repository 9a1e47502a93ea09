"""The order page in Debian's Chromium on a 360 px phone, against gunicorn with gevent workers.

The page's clock is Playwright's fake one, paused: its 10-second poll runs only when a test moves
time on. So a status that shows up while time stands still came by push, and "polling stopped"
is checked by moving time a minute on and seeing no request. `window.samePage` is gone if the
page reloads: every change is drawn in place.
"""
import time

from playwright.sync_api import expect

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import PaymentStatus
from tests.browser.helpers import (notify, notify_paid, notify_pending_va, pending_va_order, screenshots_phone_and_desktop,
                                   status_requests, unchosen_order, wait_until_paid, wait_until_payment_is)

WAIT_MS = 10_000  # upper bound for an event that should come at once (the budget is measured in bench/)
PHONE = (360, 740)


def open_order_page(new_page, server, order, query=""):
    page = new_page(server, order.user, viewport=PHONE)
    page.clock.install()
    polls = status_requests(page)
    page.goto(f"/orders/{order.id}{query}")
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # seconds, in Python
    page.evaluate("window.samePage = true")  # gone if the page reloads
    return page, polls


def badge(page):
    return page.locator("[data-role=status-badge]")


def test_push_draws_the_paid_panel_in_place(push_server, new_page, live_app, clean_db, record_property):
    order = pending_va_order()
    page, polls = open_order_page(new_page, push_server, order)
    expect(page.get_by_text("Status update otomatis")).to_be_visible()
    expect(page.get_by_text("Status akan terupdate otomatis setelah pembayaran")).to_be_visible()
    expect(badge(page)).to_have_text("Menunggu pembayaran")
    screenshots_phone_and_desktop(page, "order-pending-va")

    started = time.monotonic()
    notify_paid(push_server, order)
    page.get_by_text("Terima kasih, pembayaran Anda sudah kami terima!").wait_for(timeout=WAIT_MS)
    elapsed_ms = (time.monotonic() - started) * 1000
    record_property("notification_to_paid_panel_ms", round(elapsed_ms))
    print(f"\nnotification POST -> paid panel on screen: {elapsed_ms:.0f} ms")

    expect(badge(page)).to_have_text("Lunas")
    expect(page.locator("[data-thanks]")).to_contain_text("Transfer Virtual Account BCA")
    expect(page.locator("[data-thanks]")).to_contain_text("Rp 100.000")
    expect(page.locator("[data-thanks]")).to_contain_text("WIB")
    assert polls == []  # time stood still: this came by push
    assert page.evaluate("window.samePage") is True
    expect(page.locator("[data-order-status]")).to_have_attribute("data-updates", "stopped")
    expect(page.get_by_text("Status update otomatis")).to_have_count(0)
    expect(page.locator("[data-pay-panel]")).to_have_count(0)
    screenshots_phone_and_desktop(page, "order-paid")
    page.clock.run_for(60_000)
    assert page.evaluate("1") == 1 and polls == []


def test_without_push_the_10_second_poll_draws_it_then_stops(poll_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, polls = open_order_page(new_page, poll_server, order)
    notify_paid(poll_server, order)
    wait_until_paid(order)

    page.clock.run_for(8_000)
    assert page.evaluate("1") == 1 and polls == []
    with page.expect_response(lambda r: r.url.endswith("/status-area")):
        page.clock.run_for(2_000)

    expect(page.get_by_text("Terima kasih, pembayaran Anda sudah kami terima!")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("[data-order-status]")).to_have_attribute("data-updates", "stopped")
    page.clock.run_for(60_000)
    assert page.evaluate("1") == 1 and len(polls) == 1
    assert page.evaluate("window.samePage") is True


def test_a_failed_payment_shows_why_and_bayar_lagi_in_place(push_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, polls = open_order_page(new_page, push_server, order)

    notify(push_server, order, transaction_status="deny", status_code="202")

    expect(page.get_by_role("button", name="Bayar lagi")).to_be_visible(timeout=WAIT_MS)
    expect(badge(page)).to_have_text("Gagal")
    expect(page.get_by_text("Pembayaran ditolak")).to_be_visible()
    assert polls == [] and page.evaluate("window.samePage") is True


def test_refresh_data_rereads_the_database_in_place(poll_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, polls = open_order_page(new_page, poll_server, order)
    db.session.get(Order, order.id).status = OrderStatus.EXPIRED  # no signal, no cache clear
    db.session.get(Order, order.id).latest_payment.status = PaymentStatus.EXPIRED
    db.session.commit()

    with page.expect_response(lambda r: r.url.endswith("/status-area")):
        page.get_by_role("link", name="Refresh Data").click()

    expect(badge(page)).to_have_text("Kedaluwarsa", timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Bayar lagi")).to_be_visible()
    assert page.evaluate("window.samePage") is True and polls == []
    expect(page.get_by_text("Muat ulang")).to_have_count(0)


def test_a_method_chosen_after_the_page_was_drawn_shows_its_number_in_place(poll_server, new_page, live_app,
                                                                           clean_db):
    # The shopper lands from Snap before Midtrans's pending notification is applied: no method yet.
    order = unchosen_order()
    page, polls = open_order_page(new_page, poll_server, order)
    expect(page.get_by_text("Belum dipilih")).to_be_visible()
    expect(page.get_by_role("link", name="Lanjutkan pembayaran")).to_be_visible()

    notify_pending_va(poll_server, order)
    wait_until_payment_is(order, PaymentStatus.PENDING)
    with page.expect_response(lambda r: r.url.endswith("/status-area")):
        page.clock.run_for(2_000)  # a first look soon after a page drawn with no method chosen

    expect(page.locator("[data-code]")).to_have_text("333333333333333")
    expect(page.get_by_role("link", name="Lanjutkan pembayaran")).to_have_count(0)
    assert page.evaluate("window.samePage") is True
    expect(page.get_by_text("Status update otomatis")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/status")):
        page.clock.run_for(10_000)  # the next poll: nothing moved, so nothing is fetched again
    assert len(polls) == 2


def test_back_from_midtrans_no_continue_button_for_a_reported_payment(poll_server, new_page, live_app, clean_db):
    order = unchosen_order()
    payment = order.payments[-1]
    query = f"?order_id={payment.midtrans_order_id}&status_code=201&transaction_status=pending"
    page, polls = open_order_page(new_page, poll_server, order, query)

    expect(page.get_by_role("link", name="Lanjutkan pembayaran")).to_be_hidden()
    expect(page.get_by_text("sedang dikonfirmasi Midtrans")).to_be_visible()
    notify_pending_va(poll_server, order)
    wait_until_payment_is(order, PaymentStatus.PENDING)
    with page.expect_response(lambda r: r.url.endswith("/status-area")):
        page.clock.run_for(1_000)
    expect(page.locator("[data-code]")).to_have_text("333333333333333")


def test_the_copy_button_puts_the_number_on_the_clipboard(poll_server, new_page, live_app, clean_db):
    order = pending_va_order()
    page, _ = open_order_page(new_page, poll_server, order)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    expect(page.locator("[data-code]")).to_have_text("12345000123456")  # shown as 1234 5000 1234 56

    page.get_by_role("button", name="Salin").click()

    expect(page.get_by_text("Tersalin: 12345000123456")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "12345000123456"
    assert page.evaluate("window.getSelection().toString()") == "12345000123456"


def test_the_countdown_runs_from_the_servers_deadline(poll_server, new_page, live_app, clean_db):
    order = pending_va_order()  # due in 23 hours
    page, _ = open_order_page(new_page, poll_server, order)
    expect(page.locator("[data-countdown]")).to_contain_text("Sisa waktu 22:59:")

    page.clock.fast_forward(12 * 3600 * 1000)  # a night with the page left open (timers fire once)

    expect(page.locator("[data-countdown]")).to_contain_text("Sisa waktu 10:59:")
