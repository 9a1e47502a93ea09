"""factory_boy factories; they flush, the test's transaction is rolled back afterwards."""
import functools

import factory
from factory.alchemy import SQLAlchemyModelFactory

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.payments.models import Payment, PaymentStatus

PASSWORD = "rahasia123"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"pembeli{n}@example.com")
    name = factory.Sequence(lambda n: f"Pembeli {n}")
    is_admin = False
    password_hash = factory.LazyFunction(lambda: _hashed(PASSWORD))


@functools.cache  # one scrypt hash (~0.15 s) for the whole run, not one per user
def _hashed(password: str) -> str:
    user = User()
    user.set_password(password)
    return user.password_hash


class ProductFactory(Base):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Produk {n}")
    description = "Barang bagus."
    price = 50000
    stock = 10


class OrderFactory(Base):
    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    status = OrderStatus.PENDING
    total = 100000
    shipping_name = "Budi"
    shipping_phone = "081234567890"
    shipping_address = "Jl. Merdeka 1, Jakarta"

    @factory.post_generation
    def lines(order, create, extracted, **kwargs):
        if extracted is None:
            product = ProductFactory(price=order.total // 2, stock=8)
            order.lines.append(OrderLine(product=product, sku=product.sku, name=product.name,
                                         unit_price=product.price, quantity=2))
            if create:
                db.session.flush()


class PaymentFactory(Base):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    attempt = 1
    midtrans_order_id = factory.Sequence(lambda n: f"TK-{n:06d}-1")
    status = PaymentStatus.CREATED
    gross_amount = factory.LazyAttribute(lambda p: p.order.total)
    snap_token = factory.Faker("uuid4")
    redirect_url = factory.LazyAttribute(lambda p: f"http://midtrans.test/snap/v3/redirection/{p.snap_token}")
