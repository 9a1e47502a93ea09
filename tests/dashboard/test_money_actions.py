"""The detail page's action area: refund with a confirmation step, manual bank refund, cancel and review."""
import re

import pytest

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments import ledger
from shop.payments.models import PaymentAction, PaymentActionState as State
from tests.factories import UserFactory
from tests.orders.helpers import log_in
from tests.payments.money_helpers import paid, waiting
from tests.payments.test_ledger import AMOUNT


@pytest.fixture
def admin(client):
    user = UserFactory(is_admin=True, email="kasir@contoh.id")
    log_in(client, user)
    return user


def page(order_id) -> str:
    return f"/dashboard/pesanan/detail-pesanan/{order_id}"


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_a_refund_goes_through_its_confirmation_and_is_recorded_with_the_admin(client, admin, midtrans):
    payment = paid(midtrans)
    html = client.get(page(payment.order_id)).get_data(as_text=True)
    assert "Lanjut ke konfirmasi" in html and f'value="{AMOUNT}"' in html  # the default: all that is refundable
    confirm = client.post(f"{page(payment.order_id)}/refund/konfirmasi",
                          data={"amount": "40000", "reason": "salah kirim"}).get_data(as_text=True)
    assert "Ya, kembalikan Rp 40.000" in confirm and midtrans.calls("POST") == []  # nothing sent yet
    form = {"amount": hidden(confirm, "amount"), "reason": hidden(confirm, "reason"),
            "refund_key": hidden(confirm, "refund_key")}
    done = client.post(f"{page(payment.order_id)}/refund", data=form, follow_redirects=True).get_data(as_text=True)
    client.post(f"{page(payment.order_id)}/refund", data=form)  # the same confirmation submitted twice
    assert "Refund Rp 40.000 diterima Midtrans" in done and "kasir@contoh.id" in done
    assert [r["amount"] for r in midtrans.refunds.values()] == [40000]
    assert ledger.order_ledger(payment.order_id).refundable == AMOUNT - 40000


def test_a_refund_over_the_balance_is_refused_with_a_message(client, admin, midtrans):
    payment = paid(midtrans)
    data = {"amount": str(AMOUNT + 1), "refund_key": "TK-form-key-0009"}
    html = client.post(f"{page(payment.order_id)}/refund", data=data, follow_redirects=True).get_data(as_text=True)
    assert "melebihi sisa" in html and midtrans.calls("POST") == []


def test_a_refund_without_its_confirmation_is_not_sent(client, admin, midtrans):
    payment = paid(midtrans)
    html = client.post(f"{page(payment.order_id)}/refund", data={"amount": "1000"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Konfirmasi refund dulu" in html and midtrans.calls("POST") == []


def test_a_va_order_offers_the_manual_bank_refund(client, admin, midtrans):
    payment = paid(midtrans, "bank_transfer")
    html = client.get(page(payment.order_id)).get_data(as_text=True)
    assert "Catat pengembalian manual" in html and "Lanjut ke konfirmasi" not in html
    data = {"amount": str(AMOUNT), "transfer_reference": "BCA 123", "transferred_on": "2026-12-01",
            "reason": "stok habis", "return_stock": "y"}
    html = client.post(f"{page(payment.order_id)}/refund-manual", data=data, follow_redirects=True).get_data(as_text=True)
    assert "sudah dicatat" in html and "ref BCA 123" in html
    assert db.session.get(Order, payment.order_id).status is OrderStatus.REFUNDED


@pytest.mark.parametrize("make, offered, absent", [
    (lambda m: waiting(m), ["Batalkan pembayaran", "Jadikan kedaluwarsa"], ["Setujui"]),
    (lambda m: waiting(m, "credit_card", "capture", fraud="challenge"),
     ["Batalkan pembayaran", "Setujui (fraud review)", "Tolak (fraud review)"], ["kedaluwarsa"]),
    (lambda m: paid(m), [], ["Batalkan pembayaran", "Setujui"]),
])
def test_only_the_allowed_buttons_are_shown(client, admin, midtrans, make, offered, absent):
    html = client.get(page(make(midtrans).order_id)).get_data(as_text=True)
    assert all(text in html for text in offered) and not any(text in html for text in absent)


def test_cancel_from_the_page_calls_midtrans_and_names_the_admin(client, admin, midtrans):
    payment = waiting(midtrans)
    html = client.post(f"{page(payment.order_id)}/aksi/cancel", follow_redirects=True).get_data(as_text=True)
    assert "dibatalkan oleh Midtrans" in html and midtrans.actions == [("cancel", payment.transaction_id)]
    [action] = db.session.query(PaymentAction).all()
    assert action.actor == "kasir@contoh.id" and action.state is State.DONE


def test_an_unknown_action_is_404_and_calls_nothing(client, admin, midtrans):
    payment = waiting(midtrans)
    assert client.post(f"{page(payment.order_id)}/aksi/refund-all").status_code == 404
    assert midtrans.calls("POST") == [] and db.session.query(PaymentAction).count() == 0
