"""A shopper with a live VA number picks another method on a 360 px phone: the old number is expired first."""
import pytest
from playwright.sync_api import expect

from shop.extensions import db
from shop.orders.models import Order
from tests.browser.helpers import pending_va_order, screenshots_phone_and_desktop
from tests.browser.server import start_gunicorn, stop
from tests.browser.test_refund import fits

PHONE = (360, 740)


@pytest.fixture(scope="module")
def shop_with_fake_midtrans(app, live_app, _midtrans_server, tmp_path_factory):
    """The shop under gunicorn talking to the fake Midtrans, with two quick retries like the tests' config."""
    process, url = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"],
                                  tmp_path_factory.mktemp("gunicorn") / "change-method.log", push=False,
                                  midtrans_url=_midtrans_server.url, MIDTRANS_MAX_RETRIES="2",
                                  MIDTRANS_BACKOFF_SECONDS="0")
    yield url
    stop(process)


def open_pending_va(new_page, server, midtrans):
    order = pending_va_order()
    ref = order.payments[0].midtrans_order_id
    midtrans.answers_status({"status_code": "201", "transaction_status": "pending", "order_id": ref,
                             "gross_amount": f"{order.total}.00", "payment_type": "bank_transfer"}, ref)
    page = new_page(server, order.user, viewport=PHONE)
    page.goto(f"/orders/{order.id}")
    expect(page.get_by_text("12345000123456")).to_be_visible()
    return page, order, ref


def attempts_of(order) -> int:
    db.session.expire_all()
    count = len(db.session.get(Order, order.id).payments)
    db.session.close()
    return count


def test_another_method_expires_the_live_va_then_opens_snap(shop_with_fake_midtrans, new_page, clean_db, midtrans):
    page, order, ref = open_pending_va(new_page, shop_with_fake_midtrans, midtrans)
    button = page.get_by_role("button", name="Ganti metode pembayaran")
    expect(button).to_be_visible()
    assert fits(page)
    screenshots_phone_and_desktop(page, "order-change-method")

    with page.expect_navigation(url=f"{midtrans.url}/snap/v3/redirection/**"):
        button.click()

    assert midtrans.actions == [("expire", ref)]
    assert len(midtrans.snap_creates()) == 1 and attempts_of(order) == 2


def test_midtrans_down_keeps_the_old_va_and_says_so(shop_with_fake_midtrans, new_page, clean_db, midtrans):
    page, order, ref = open_pending_va(new_page, shop_with_fake_midtrans, midtrans)
    for _ in range(3):
        midtrans.script("POST", f"/v2/{ref}/expire", 503, {"status_message": "down"})

    page.get_by_role("button", name="Ganti metode pembayaran").click()

    expect(page.get_by_text("Nomor pembayaran lama masih berlaku")).to_be_visible()
    expect(page.get_by_text("12345000123456")).to_be_visible()
    assert fits(page)
    screenshots_phone_and_desktop(page, "order-change-method-refused")
    assert midtrans.snap_creates() == [] and attempts_of(order) == 1
