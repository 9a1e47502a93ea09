"""place_order and start_payment_attempt, called directly."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from shop.checkout import services
from shop.checkout.services import CheckoutError, OrderNotPayable, OutOfStock, Shipping
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments.models import PaymentStatus
from tests.factories import OrderFactory, ProductFactory, UserFactory

SHIPPING = Shipping("Budi Santoso", "081234567890", "Jl. Merdeka 1, Jakarta Pusat")


def test_place_order_reserves_stock_and_copies_prices():
    user = UserFactory()
    kopi = ProductFactory(name="Kopi Gayo", price=85000, stock=5)
    sambal = ProductFactory(name="Sambal", price=45000, stock=2)
    order = services.place_order(user, {kopi.id: 2, sambal.id: 2}, SHIPPING)
    assert order.status is OrderStatus.PENDING
    assert order.total == 2 * 85000 + 2 * 45000
    assert [(line.sku, line.unit_price, line.quantity) for line in order.lines] == [
        (kopi.sku, 85000, 2), (sambal.sku, 45000, 2)]
    assert (kopi.stock, sambal.stock) == (3, 0)
    assert (order.shipping_name, order.shipping_phone) == ("Budi Santoso", "081234567890")


def test_out_of_stock_names_the_product_and_what_is_left():
    kopi = ProductFactory(name="Kopi Gayo", stock=1)
    with pytest.raises(OutOfStock, match="Stok Kopi Gayo tidak cukup: tersisa 1."):
        services.place_order(UserFactory(), {kopi.id: 2}, SHIPPING)


def test_a_refused_order_reserves_nothing_once_rolled_back():
    user = UserFactory()
    kopi, batik = ProductFactory(stock=5), ProductFactory(stock=1)
    db.session.commit()
    with pytest.raises(OutOfStock):
        services.place_order(user, {kopi.id: 2, batik.id: 2}, SHIPPING)
    db.session.rollback()
    assert (kopi.stock, batik.stock) == (5, 1)
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


@pytest.mark.parametrize("items, message", [
    ({}, "masih kosong"),
    ({"product": 0}, "Jumlah harus"),
    ({"product": 100}, "Jumlah harus"),
])
def test_bad_items_are_refused(items, message):
    product = ProductFactory()
    items = {product.id if key == "product" else key: value for key, value in items.items()}
    with pytest.raises(CheckoutError, match=message):
        services.place_order(UserFactory(), items, SHIPPING)
    assert product.stock == 10


def test_unknown_or_inactive_products_are_refused():
    inactive = ProductFactory(is_active=False)
    for items in ({inactive.id: 1}, {987654: 1}):
        with pytest.raises(CheckoutError, match="sudah tidak dijual"):
            services.place_order(UserFactory(), items, SHIPPING)


@pytest.mark.parametrize("shipping", [Shipping("", "0812", "Jl. A"), Shipping("Budi", " ", "Jl. A"),
                                      Shipping("Budi", "0812", "x" * 501)])
def test_missing_or_oversized_shipping_is_refused(shipping):
    with pytest.raises(CheckoutError):
        services.place_order(UserFactory(), {ProductFactory().id: 1}, shipping)


def test_midtrans_order_ids_are_valid_and_never_repeat():
    # 32 random bits: the chance that 50 draws for the same order and attempt collide is about 3e-7.
    ids = {services.new_midtrans_order_id(123456789, 1) for _ in range(50)}
    assert len(ids) == 50
    longest = services.new_midtrans_order_id(2**63 - 1, 999)
    assert len(longest) <= 50
    assert all(re.fullmatch(r"TK-123456789-1-[0-9a-f]{8}", value) for value in ids)


def test_payload_names_are_cut_to_fifty_characters_and_sum_to_gross():
    product = ProductFactory(name="Kain Tenun Ikat Sumba | Motif Kuda, Pewarna Alami, Ukuran Besar", price=33333)
    order = services.place_order(UserFactory(), {product.id: 3}, SHIPPING)
    payload = services.snap_payload(order, "TK-1-1-abcdef", order.created_at)
    (item,) = payload["item_details"]
    assert len(item["name"]) == 50 and "|" not in item["name"]
    assert payload["transaction_details"]["gross_amount"] == 99999 == item["price"] * item["quantity"]


def test_payload_refuses_an_order_whose_total_disagrees_with_its_lines():
    order = OrderFactory(total=100000)
    order.total = 100001
    with pytest.raises(ValueError, match="add up to 100000"):
        services.snap_payload(order, "TK-1-1-abcdef", order.created_at)


def test_start_payment_attempt_records_the_snap_answer(app, midtrans):
    order = services.place_order(UserFactory(), {ProductFactory(price=85000).id: 2}, SHIPPING)
    payment = services.start_payment_attempt(order)
    assert payment.attempt == 1 and payment.status is PaymentStatus.CREATED
    assert payment.gross_amount == 170000
    assert payment.redirect_url.endswith(payment.snap_token)
    assert payment.midtrans_order_id.startswith(f"TK-{order.id}-1-")
    (call,) = midtrans.calls("POST", "/snap/v1/")
    expiry = call.json()["expiry"]
    started = datetime.strptime(expiry["start_time"], "%Y-%m-%d %H:%M:%S %z")
    assert (expiry["unit"], expiry["duration"]) == ("minute", app.config["PAYMENT_EXPIRY_MINUTES"])
    assert payment.expires_at == started + timedelta(minutes=app.config["PAYMENT_EXPIRY_MINUTES"])
    assert payment.expires_at.utcoffset() == timedelta(0)


def test_later_attempts_get_their_own_number_and_midtrans_order_id(midtrans):
    order = services.place_order(UserFactory(), {ProductFactory().id: 1}, SHIPPING)
    payments = [services.start_payment_attempt(order) for _ in range(3)]
    assert [p.attempt for p in payments] == [1, 2, 3]
    assert len({p.midtrans_order_id for p in payments}) == 3
    sent = [call.json()["transaction_details"]["order_id"] for call in midtrans.calls("POST", "/snap/v1/")]
    assert sent == [p.midtrans_order_id for p in payments]


def test_a_finished_order_cannot_be_paid_again(midtrans):
    order = OrderFactory(status=OrderStatus.SUCCESS)
    with pytest.raises(OrderNotPayable):
        services.start_payment_attempt(order)
    assert midtrans.calls() == []


def test_abandon_order_puts_stock_back_and_removes_order_and_lines():
    kopi = ProductFactory(stock=5)
    order = services.place_order(UserFactory(), {kopi.id: 3}, SHIPPING)
    services.abandon_order(order.id)
    db.session.expire_all()
    assert kopi.stock == 5
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


def test_abandon_order_refuses_an_order_with_payment_attempts(midtrans):
    order = services.place_order(UserFactory(), {ProductFactory().id: 1}, SHIPPING)
    services.start_payment_attempt(order)
    with pytest.raises(RuntimeError, match="has payment attempts"):
        services.abandon_order(order.id)
