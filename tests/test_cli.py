"""`flask shop seed-demo | place-order | show-order`."""
import json

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.models import Payment
from tests.factories import PaymentFactory, ProductFactory, UserFactory
from tests.midtrans_samples import sample


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_seed_demo_is_idempotent_and_prints_working_logins(runner, client):
    first = runner.invoke(args=["shop", "seed-demo"])
    assert first.exit_code == 0, first.output
    products, users = count(Product), count(User)
    assert products >= 6 and users == 2
    second = runner.invoke(args=["shop", "seed-demo"])
    assert second.exit_code == 0
    assert (count(Product), count(User)) == (products, users)
    assert "password not changed" in second.output

    shopper = next(line for line in first.output.splitlines() if line.startswith("Demo shopper:"))
    email, password = shopper.removeprefix("Demo shopper: ").split(" / ")
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302
    admin = db.session.scalar(db.select(User).where(User.is_admin))
    assert f"Demo admin: {admin.email} / " in first.output
    assert "Rp " in client.get("/").get_data(as_text=True)


def test_seed_demo_refuses_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "SHOP_PRODUCTION", True)
    result = runner.invoke(args=["shop", "seed-demo"])
    assert result.exit_code != 0 and "SHOP_PRODUCTION" in result.output
    assert count(User) == 0


def test_place_order_prints_one_json_object(runner, midtrans):
    UserFactory(email="budi@example.com")
    product = ProductFactory(sku="KOPI-1", price=85000, stock=5)
    result = runner.invoke(args=["shop", "place-order", "--email", "budi@example.com", "--sku", "KOPI-1",
                                 "--qty", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    payment = db.session.scalar(db.select(Payment))
    assert data == {"order_id": payment.order_id, "midtrans_order_id": payment.midtrans_order_id,
                    "gross_amount": 170000, "redirect_url": payment.redirect_url}
    assert product.stock == 3
    assert midtrans.calls("POST", "/snap/v1/")[0].json()["transaction_details"]["gross_amount"] == 170000


def test_place_order_errors_exit_non_zero_and_create_nothing(runner, midtrans):
    UserFactory(email="budi@example.com")
    product = ProductFactory(sku="KOPI-1", name="Kopi Gayo", stock=1)
    db.session.commit()
    cases = [
        (["--email", "siapa@example.com", "--sku", "KOPI-1", "--qty", "1"], "no user with e-mail"),
        (["--email", "budi@example.com", "--sku", "NOPE", "--qty", "1"], "no product with SKU NOPE"),
        (["--email", "budi@example.com", "--sku", "KOPI-1", "--qty", "2"], "tersisa 1"),
        (["--email", "budi@example.com", "--sku", "KOPI-1", "--qty", "0"], "--qty"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["shop", "place-order", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert result.stdout == ""
    assert (count(Order), product.stock) == (0, 1)


def test_place_order_reports_a_midtrans_failure(runner, midtrans):
    UserFactory(email="budi@example.com")
    product = ProductFactory(sku="KOPI-1", stock=1)
    db.session.commit()
    midtrans.script("POST", "/snap/v1/transactions", 401, sample("api_snap_create_401"))
    result = runner.invoke(args=["shop", "place-order", "--email", "budi@example.com", "--sku", "KOPI-1",
                                 "--qty", "1"])
    assert result.exit_code == 1
    assert "(auth)" in result.output
    db.session.expire_all()
    assert (count(Order), product.stock) == (0, 1)


def test_show_order_prints_status_lines_and_payments(runner):
    payment = PaymentFactory()
    result = runner.invoke(args=["shop", "show-order", str(payment.order_id)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["order_id"] == payment.order_id and data["status"] == "PENDING"
    assert data["lines"] == [{"sku": line.sku, "name": line.name, "unit_price": line.unit_price,
                              "quantity": line.quantity, "subtotal": line.subtotal} for line in payment.order.lines]
    assert [(p["attempt"], p["midtrans_order_id"], p["status"]) for p in data["payments"]] == [
        (1, payment.midtrans_order_id, "CREATED")]


def test_show_order_of_unknown_id_fails(runner):
    result = runner.invoke(args=["shop", "show-order", "424242"])
    assert result.exit_code == 1 and "no order 424242" in result.output
