"""The order page's status area and payment panel, per status and per payment method."""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from markupsafe import escape

from shop.orders.models import OrderStatus
from shop.payments import howto
from shop.payments.models import PaymentStatus
from shop.vocabulary import ORDER_STATUSES
from tests.factories import OrderFactory, PaymentFactory
from tests.orders.helpers import log_in
from tests.orders.methods import NUMBERS, PENDING, pending_payment

ROOT = Path(__file__).resolve().parents[2]
CODES = sorted({s.value for s in OrderStatus} | {s.value for s in PaymentStatus}, key=len, reverse=True)
CHANNEL = {"mandiri_bill": "mandiri_bill"}


def page_of(client, payment) -> str:
    log_in(client, payment.order.user)
    return client.get(f"/orders/{payment.order.id}").get_data(as_text=True)


def visible_text(html: str) -> str:
    """What a reader sees: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("method", list(PENDING))
def test_each_method_has_its_panel(client, method):
    payment = pending_payment(method)
    html = page_of(client, payment)

    assert 'data-pay-panel data-method="' + PENDING[method]["payment_type"] + '"' in html
    deadline = payment.expires_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{deadline}" data-deadline>' in html
    assert "Lanjutkan pembayaran" not in html  # a method was chosen
    assert howto.guide_for(CHANNEL.get(method, method))  # every method has its steps
    for place, steps in howto.guide_for(CHANNEL.get(method, method)):
        assert f"<summary>{escape(place)}</summary>" in html and all(str(escape(step)) in html for step in steps)


@pytest.mark.parametrize("method", [m for m in PENDING if NUMBERS[m]])
def test_the_number_is_grouped_for_reading_and_copied_whole(client, method):
    html = page_of(client, pending_payment(method))
    number = NUMBERS[method]

    groups = "".join(f"<span>{number[i:i + 4]}</span>" for i in range(0, len(number), 4))
    assert groups in html  # shown in fours, with no space inside the text that gets selected
    assert f'data-copy="{number}" hidden>Salin</button>' in html  # the script shows the button


@pytest.mark.parametrize("bank, guide", [("bca", "BCA mobile (m-BCA)"), ("bni", "BNI Mobile Banking"),
                                         ("bri", "BRImo"), ("permata", "PermataMobile X"), ("cimb", "OCTO Mobile"),
                                         ("mandiri_bill", "Livin&#39; by Mandiri"), ("indomaret", "Kasir Indomaret"),
                                         ("alfamart", "Kasir Alfamart")])
def test_steps_per_bank_and_store(client, bank, guide):
    html = page_of(client, pending_payment(bank))
    assert html.count("<details") >= 1 and f"<summary>{guide}</summary>" in html


def test_mandiri_bill_shows_biller_code_and_bill_key(client):
    html = page_of(client, pending_payment("mandiri_bill"))
    assert "Kode perusahaan (biller code)" in html and "<span>7001</span><span>2</span>" in html
    assert "Kode bayar (bill key)" in html and 'data-copy="990011223344"' in html


@pytest.mark.parametrize("method", ["gopay", "qris"])
def test_qris_and_gopay_show_midtrans_qr_image(client, app, method):
    payment = pending_payment(method)
    html = page_of(client, payment)

    url = f"{app.config['MIDTRANS_API_BASE_URL']}/v2/{method}/{payment.transaction_id}/qr-code"
    assert f'<img src="{url}"' in html and "Unduh kode QR" in html
    assert "data-copy=" not in html


def test_no_qr_for_a_va_or_a_card(client):
    assert "<img" not in page_of(client, pending_payment("bca"))
    assert "<img" not in page_of(client, pending_payment("card"))


def test_the_qr_image_is_allowed_by_the_content_security_policy(client, app):
    payment = pending_payment("qris")
    log_in(client, payment.order.user)
    policy = client.get(f"/orders/{payment.order.id}").headers["Content-Security-Policy"]
    assert re.search(r"img-src 'self' data: http://127\.0\.0\.1:\d+;", policy), policy


def test_continue_is_offered_only_while_no_method_was_chosen(client):
    unchosen = PaymentFactory(status=PaymentStatus.CREATED)
    html = page_of(client, unchosen)
    assert "Lanjutkan pembayaran" in html and f'href="{unchosen.redirect_url}"' in html
    assert "Belum dipilih" in html and "data-confirming hidden" in html


@pytest.mark.parametrize("status", list(OrderStatus))
def test_no_english_status_code_on_the_shoppers_pages(client, status):
    payment = pending_payment("bni", status=PaymentStatus.PENDING)
    payment.order.status = status
    log_in(client, payment.order.user)

    for url in (f"/orders/{payment.order.id}", f"/orders/{payment.order.id}/status-area", "/orders"):
        text = visible_text(client.get(url).get_data(as_text=True))
        assert ORDER_STATUSES[status.value][0] in text
        assert [code for code in CODES if re.search(rf"\b{code}\b", text)] == []


def test_a_paid_order_says_thank_you_with_method_amount_and_time(client):
    payment = pending_payment("bri", status=PaymentStatus.SUCCESS)
    order = payment.order
    order.status = OrderStatus.SUCCESS
    order.paid_at = datetime(2026, 12, 3, 5, 4, tzinfo=timezone.utc)

    html = page_of(client, payment)

    assert "Terima kasih, pembayaran Anda sudah kami terima!" in html
    assert "Transfer Virtual Account BRI" in html and "Rp 100.000" in html and "03-12-2026 12:04 WIB" in html
    assert "data-pay-panel" not in html and "Status update otomatis" not in html


@pytest.mark.parametrize("status, payment_status", [(OrderStatus.FAILED, PaymentStatus.DENIED),
                                                    (OrderStatus.EXPIRED, PaymentStatus.EXPIRED)])
def test_a_failed_or_expired_order_says_why_and_offers_to_pay_again(client, status, payment_status):
    payment = pending_payment("card" if status is OrderStatus.FAILED else "permata", status=payment_status)
    payment.order.status = status
    html = page_of(client, payment)

    area = html.split("data-status-area", 1)[1]
    assert ORDER_STATUSES[status.value][1] in area and ">Bayar lagi</button>" in area
    assert "Percobaan pembayaran terakhir" in area


def test_review_says_the_card_is_being_checked(client):
    payment = pending_payment("card", status=PaymentStatus.CHALLENGE)
    payment.order.status = OrderStatus.REVIEW
    html = page_of(client, payment)

    assert "Pembayaran kartu sedang diperiksa" in html and "tidak perlu membayar lagi" in html
    assert "Status update otomatis" in html
    assert "Status akan terupdate otomatis setelah pembayaran" not in html and "Bayar lagi" not in html


def test_the_status_area_is_the_same_fragment_the_page_draws(client):
    payment = pending_payment("bca")
    html = page_of(client, payment)

    response = client.get(f"/orders/{payment.order.id}/status-area")

    fragment = response.get_data(as_text=True).strip()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert fragment.startswith("<div data-status-area") and fragment in html
    assert 'data-fingerprint="PENDING.1.PENDING"' in fragment


def test_the_status_area_reads_the_database_not_the_cached_page(client):
    payment = pending_payment("bca")
    page_of(client, payment)  # caches the page
    payment.status, payment.order.status = PaymentStatus.SUCCESS, OrderStatus.SUCCESS

    fragment = client.get(f"/orders/{payment.order.id}/status-area").get_data(as_text=True)

    assert "Terima kasih" in fragment and 'data-fingerprint="SUCCESS.1.SUCCESS"' in fragment


def test_no_reload_message_remains_anywhere():
    files = [*ROOT.joinpath("shop/templates").rglob("*.html"), *ROOT.joinpath("shop/static").glob("*.js")]
    assert [str(f) for f in files if "Muat ulang" in f.read_text()] == []


def test_an_order_without_a_payment_still_has_a_status_area(client):
    order = OrderFactory()
    log_in(client, order.user)
    fragment = client.get(f"/orders/{order.id}/status-area").get_data(as_text=True)
    assert 'data-fingerprint="PENDING"' in fragment and "Menunggu pembayaran" in fragment
