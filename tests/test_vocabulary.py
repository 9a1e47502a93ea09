"""The one Indonesian vocabulary: every code the shop stores has words, and the pages use them."""
import pytest

from shop import vocabulary
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus


@pytest.mark.parametrize("status", list(OrderStatus))
def test_every_order_status_has_a_label_and_a_next_step(status):
    label, next_step = vocabulary.ORDER_STATUSES[status.value]
    assert vocabulary.status_label(status) == label != status.value
    assert vocabulary.order_status_next(status) == next_step and next_step.endswith(".")


@pytest.mark.parametrize("status", list(PaymentStatus))
def test_every_payment_status_has_a_label_and_a_next_step(status):
    label, next_step = vocabulary.PAYMENT_STATUSES[status.value]
    assert vocabulary.payment_status_label(status) == label != status.value
    assert vocabulary.payment_status_next(status) == next_step != ""


def test_codes_an_order_and_a_payment_share_have_one_label():
    shared = set(vocabulary.ORDER_STATUSES) & set(vocabulary.PAYMENT_STATUSES)
    assert {"PENDING", "SUCCESS", "EXPIRED", "REFUNDED"} <= shared
    for code in shared:
        assert vocabulary.ORDER_STATUSES[code][0] == vocabulary.PAYMENT_STATUSES[code][0]


def test_the_labels_the_issue_names():
    assert [vocabulary.status_label(s) for s in ("PENDING", "SUCCESS", "FAILED", "EXPIRED", "CANCELLED",
                                                 "REVIEW", "PARTIALLY_REFUNDED", "REFUNDED")] == [
        "Menunggu pembayaran", "Lunas", "Gagal", "Kedaluwarsa", "Dibatalkan", "Ditinjau",
        "Dikembalikan sebagian", "Dikembalikan"]
    assert "tidak perlu membayar lagi" in vocabulary.order_status_next(OrderStatus.REVIEW)


@pytest.mark.parametrize("code, name", [("bca", "BCA"), ("BNI", "BNI"), ("bri", "BRI"), ("mandiri", "Mandiri"),
                                        ("permata", "Permata"), ("PERMATA", "Permata"), ("cimb", "CIMB Niaga"),
                                        ("bca_va", "BCA"), ("indomaret", "Indomaret"), ("alfamart", "Alfamart")])
def test_banks_and_stores_have_one_spelling(code, name):
    assert vocabulary.bank_name(code) == name


def test_method_names():
    assert vocabulary.method_name("bank_transfer", "permata") == "Transfer Virtual Account Permata"
    assert vocabulary.method_name("cstore", "alfamart") == "Bayar di gerai Alfamart"
    assert vocabulary.method_name("echannel") == "Mandiri Bill Payment"
    assert [vocabulary.method_name(t) for t in ("gopay", "qris", "credit_card")] == ["GoPay", "QRIS", "Kartu kredit/debit"]
    assert vocabulary.method_name(None) == "Belum dipilih"


def test_an_unknown_code_shows_as_itself_rather_than_failing():
    assert vocabulary.status_label("SOMETHING_NEW") == "SOMETHING_NEW"
    assert vocabulary.method_name("new_wallet") == "new_wallet"


def test_templates_have_the_filters(app):
    with app.test_request_context():
        rendered = app.jinja_env.from_string(
            "{{ 'EXPIRED'|status_label }}|{{ 'bni'|bank_name }}|{{ 'qris'|method_name }}|{{ 'REVIEW'|status_next }}"
        ).render()
    assert rendered == "Kedaluwarsa|BNI|QRIS|" + vocabulary.order_status_next("REVIEW")
