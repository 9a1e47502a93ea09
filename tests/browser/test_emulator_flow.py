"""Checkout to the QR code, through the local Midtrans emulator, in Chromium on a 360 px phone.

The shop runs under gunicorn with the emulator mounted (its Snap page, notifications and QR image);
a real Celery worker applies the notifications. Nothing here talks to Midtrans.
"""
import pytest
from playwright.sync_api import expect

from shop.extensions import db
from tests.browser.helpers import screenshots_phone_and_desktop
from tests.browser.server import database_uri, start_gunicorn, stop
from tests.factories import ProductFactory, UserFactory

WAIT_MS = 15_000  # the pending notification goes through the emulator's sender and the worker


@pytest.fixture(scope="module")
def emulator_server(app, live_app, worker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("emulator")
    process, url = start_gunicorn(database_uri(app), folder / "shop.log", push=True, MIDTRANS_EMULATOR="true",
                                  MIDTRANS_API_BASE_URL="", MIDTRANS_SNAP_BASE_URL="",
                                  MIDTRANS_EMULATOR_DB=str(folder / "emulator.sqlite3"))
    yield url
    stop(process)


def check_out(page, product) -> None:
    page.goto(f"/produk/{product.sku}")
    page.get_by_role("button", name="Tambah ke keranjang").click()
    page.goto("/checkout")
    page.get_by_label("Nama penerima").fill("Budi Santoso")
    page.get_by_label("Nomor telepon").fill("081234567890")
    page.get_by_label("Alamat pengiriman").fill("Jl. Merdeka 1, Jakarta Pusat")
    with page.expect_navigation():
        page.get_by_role("button", name="Bayar dengan Midtrans").click()


def test_qris_chosen_on_the_emulator_shows_its_qr_image_on_the_order_page(emulator_server, new_page, clean_db):
    product, user = ProductFactory(price=75000), UserFactory()
    db.session.commit()
    product.sku, user.get_id()
    db.session.close()
    page = new_page(emulator_server, user, viewport=(360, 740))
    check_out(page, product)
    assert "/_emulator/midtrans/snap/v3/redirection/" in page.url

    page.get_by_label("QRIS").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Biarkan menunggu, bayar nanti").click()

    assert "transaction_status=pending" in page.url  # Midtrans's finish redirect, back on the order page
    expect(page.get_by_role("link", name="Lanjutkan pembayaran")).to_have_count(0)
    qr = page.locator("[data-qr] img")
    expect(qr).to_be_visible(timeout=WAIT_MS)
    assert "/_emulator/midtrans/v2/qris/" in qr.get_attribute("src")
    page.wait_for_function("document.querySelector('[data-qr] img').naturalWidth > 100")
    expect(page.get_by_role("link", name="Unduh kode QR")).to_be_visible()
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshots_phone_and_desktop(page, "order-qris")
