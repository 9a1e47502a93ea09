"""An admin cancels, expires or denies a payment in Chromium at phone width, and a payment whose
shopper paid Midtrans's fee on top shows as paid: each through the fake Midtrans, the signed
notification that follows and the real Celery worker that applies it."""
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import expect

from shop.payments.models import PaymentStatus
from tests.browser.helpers import admin_detail_page, screenshot, wait_until_payment_id_is
from tests.payments.helpers import URL, signed
from tests.payments.money_helpers import waiting
from tests.payments.test_ledger import AMOUNT, status

FEE = 2000
WIDTHS = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def fits_phone(page) -> bool:
    scroll_width, client_width = page.evaluate(WIDTHS)
    return scroll_width <= client_width


def notify(server: str, payment_ids: tuple, transaction_status: str, status_code: str, **fields) -> None:
    """POST Midtrans's signed notification for the payment (`payment_ids`: id, order id, type) to the shop."""
    payment_id, midtrans_order_id, payment_type = payment_ids
    body = status(SimpleNamespace(id=payment_id, midtrans_order_id=midtrans_order_id, payment_type=payment_type),
                  transaction_status, status_code=status_code, **fields)
    response = requests.post(server + URL, json=signed(body), timeout=30)
    assert response.status_code == 200, response.text


def wait_for_status(payment_id: int, wanted: PaymentStatus) -> None:
    """Until the worker has applied the notification (generous: the machine may be busy)."""
    wait_until_payment_id_is(payment_id, wanted, timeout=60)


def calls(midtrans) -> list[tuple[str, str]]:
    """Every request the fake Midtrans received, in order."""
    return [(call.method, call.path) for call in midtrans.calls()]


def ids(payment) -> tuple:
    return payment.id, payment.midtrans_order_id, payment.payment_type


def click_and_see_the_answer(page, button: str, said: str, shot: str) -> None:
    """Click `button`, read the flash message `said`; `shot`-360.png under SCREENSHOT_DIR when set."""
    page.get_by_role("button", name=button).click()
    expect(page.get_by_text(said)).to_be_visible(timeout=30_000)
    assert fits_phone(page)
    screenshot(page, f"{shot}-360.png")


def see_after_the_notification(page, payment_id: int, wanted: PaymentStatus, label: str) -> None:
    wait_for_status(payment_id, wanted)
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text(label, timeout=30_000)
    assert fits_phone(page)


# (action, the button, what Midtrans did in the flash message, the payment's status after, the order's label)
OPEN_PAYMENT_ACTIONS = [("cancel", "Batalkan pembayaran", "dibatalkan", PaymentStatus.CANCELLED, "Dibatalkan"),
                        ("expire", "Jadikan kedaluwarsa", "dibuat kedaluwarsa", PaymentStatus.EXPIRED, "Kedaluwarsa")]


@pytest.mark.parametrize("action, button, done, after, label", OPEN_PAYMENT_ACTIONS, ids=["cancel", "expire"])
def test_an_admin_ends_a_pending_payment(fake_midtrans_server, worker, new_page, clean_db, midtrans,
                                         action, button, done, after, label):
    payment = waiting(midtrans)
    payment_ids, transaction_id = ids(payment), payment.transaction_id
    page = admin_detail_page(fake_midtrans_server, new_page, payment.order_id)
    assert fits_phone(page)
    click_and_see_the_answer(page, button, f"Pembayaran {payment_ids[1]} {done} oleh Midtrans", action)
    assert calls(midtrans) == [("POST", f"/v2/{transaction_id}/{action}")]
    assert midtrans.actions == [(action, transaction_id)]

    notify(fake_midtrans_server, payment_ids, action, "202", settlement_time=None)
    see_after_the_notification(page, payment_ids[0], after, label)


def test_an_admin_denies_a_card_held_for_review(fake_midtrans_server, worker, new_page, clean_db, midtrans):
    payment = waiting(midtrans, "credit_card", "capture", fraud="challenge")
    payment_ids, transaction_id = ids(payment), payment.transaction_id
    page = admin_detail_page(fake_midtrans_server, new_page, payment.order_id)
    expect(page.get_by_role("button", name="Jadikan kedaluwarsa")).to_have_count(0)
    click_and_see_the_answer(page, "Tolak (fraud review)", f"Pembayaran {payment_ids[1]} ditolak oleh Midtrans",
                             "deny")
    assert calls(midtrans) == [("POST", f"/v2/{transaction_id}/deny")]
    assert midtrans.actions == [("deny", transaction_id)]

    notify(fake_midtrans_server, payment_ids, "deny", "202", fraud_status="deny", settlement_time=None)
    see_after_the_notification(page, payment_ids[0], PaymentStatus.DENIED, "Gagal")


def test_a_settlement_with_the_fee_paid_on_top_shows_as_paid(fake_midtrans_server, worker, new_page, clean_db,
                                                             midtrans):
    payment = waiting(midtrans, "qris")
    payment_ids = ids(payment)
    notify(fake_midtrans_server, payment_ids, "settlement", "200", gross_amount=f"{AMOUNT + FEE}.00",
           metadata={"extra_info": {"gross_amount_info": {"original_amount": f"{AMOUNT}.00"}}})
    wait_for_status(payment_ids[0], PaymentStatus.SUCCESS)

    page = admin_detail_page(fake_midtrans_server, new_page, payment.order_id)
    expect(page.locator("h1 .badge")).to_have_text("Lunas", timeout=30_000)
    # the order's amount is paid (the fee is Midtrans's), and all of it may be refunded
    expect(page.locator(".ledger dt:text-is('Dibayar') + dd")).to_have_text("Rp 150.000")
    expect(page.locator(".ledger dt:text-is('Sisa yang bisa dikembalikan') + dd")).to_have_text("Rp 150.000")
    expect(page.locator(".timeline")).to_contain_text("termasuk biaya Midtrans Rp 2.000 yang dibayar pembeli")
    expect(page.get_by_text("Jumlah tidak cocok")).to_have_count(0)
    expect(page.locator(".attention-banner")).to_have_count(0)
    screenshot(page, "fee-imposed-360.png")
    assert fits_phone(page) and calls(midtrans) == []
