"""An admin refunds in Chromium at phone width: the form, its confirmation step, the timeline."""
import os
from pathlib import Path

from playwright.sync_api import expect

from shop.extensions import db
from tests.browser.helpers import admin_detail_page, fits, screenshot
from tests.factories import UserFactory
from tests.payments.money_helpers import paid, waiting


def shot(locator, name: str) -> None:
    """Save one part of the page under SCREENSHOT_DIR (docs/img for the docs) when it is set."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        locator.screenshot(path=str(Path(folder) / name))


def test_an_admin_refunds_part_of_an_order_through_the_confirmation(fake_midtrans_server, new_page, clean_db,
                                                                     midtrans):
    payment = paid(midtrans)
    order_id = payment.order_id
    admin = UserFactory(is_admin=True, email="admin@contoh.id")
    db.session.commit()
    admin.get_id()
    db.session.close()  # on SQLite an open read transaction would block the server

    page = new_page(fake_midtrans_server, admin)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/dashboard/pesanan/detail-pesanan/{order_id}")
    amount = page.get_by_label("Jumlah (Rp)")
    expect(amount).to_have_value("150000")  # all that may be refunded
    assert fits(page, "#aksi") and fits(page, ".timeline")
    amount.fill("50000")
    page.get_by_label("Alasan").fill("satu barang rusak")
    shot(page.locator("#aksi"), "refund-form-360.png")
    page.get_by_role("button", name="Lanjut ke konfirmasi").click()

    expect(page.get_by_role("heading", name="Konfirmasi refund")).to_be_visible()
    assert midtrans.calls("POST") == [] and fits(page)
    screenshot(page, "refund-confirm-360.png")
    page.get_by_role("button", name="Ya, kembalikan Rp 50.000").click()

    expect(page.get_by_text("Refund Rp 50.000 diterima Midtrans")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Refund Rp 50.000 diminta ke Midtrans (diterima): satu barang rusak")
    expect(page.locator(".timeline")).to_contain_text("admin@contoh.id")
    assert [r["amount"] for r in midtrans.refunds.values()] == [50000] and fits(page, ".timeline")
    shot(page.locator("section.card:has(h2:text('Keuangan'))"), "ledger-360.png")
    shot(page.locator(".timeline"), "timeline-360.png")


def test_an_admin_records_a_manual_bank_refund_for_a_va_order(fake_midtrans_server, new_page, clean_db, midtrans):
    order_id = paid(midtrans, "bank_transfer").order_id
    page = admin_detail_page(fake_midtrans_server, new_page, order_id, height=800)
    expect(page.get_by_role("button", name="Lanjut ke konfirmasi")).to_have_count(0)
    page.get_by_label("No. referensi transfer").fill("BCA 0099")
    page.get_by_label("Tanggal transfer").fill("2026-12-02")
    assert fits(page, "#aksi")
    shot(page.locator("#aksi"), "manual-refund-360.png")
    page.get_by_role("button", name="Catat pengembalian manual").click()
    expect(page.get_by_text("Pengembalian dana manual Rp 150.000 sudah dicatat")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("ref BCA 0099")
    assert midtrans.calls("POST") == []


def test_an_admin_approves_a_card_held_for_review(fake_midtrans_server, new_page, clean_db, midtrans):
    payment = waiting(midtrans, "credit_card", "capture", fraud="challenge")
    order_id, transaction_id = payment.order_id, payment.transaction_id
    page = admin_detail_page(fake_midtrans_server, new_page, order_id, height=800)
    expect(page.get_by_role("button", name="Jadikan kedaluwarsa")).to_have_count(0)
    assert fits(page, "#aksi")
    page.get_by_role("button", name="Setujui (fraud review)").click()
    expect(page.get_by_text("disetujui oleh Midtrans")).to_be_visible()
    assert midtrans.actions == [("approve", transaction_id)]
