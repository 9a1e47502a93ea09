"""Fixtures for the security tests: the payments feature's, and other apps on the same database."""
import secrets
from contextlib import contextmanager

import pytest

from shop import create_app
from shop.config import EMULATOR_PREFIX, TEST_SETTINGS
from shop.extensions import db
from shop.payments.models import Notification
from tests.conftest import fix_pysqlite_transactions
from tests.factories import OrderFactory, PaymentFactory, ProductFactory, UserFactory
from tests.payments.conftest import payment, product  # noqa: F401
from tests.security.walk import World


def unpublished_server_key() -> str:
    """A server key shaped like Midtrans's that appears nowhere in the project (production refuses those)."""
    return "SB-Mid-server-" + secrets.token_urlsafe(18)


@pytest.fixture
def other_app(app):
    """Build another shop app (production mode, a proxy, ...) on the test database, rolled back after.

    Inside `with other_app(config) as shop:` its app context is the current one: factories and
    fixtures asked for after it write into its transaction, so its requests see those rows.
    """

    @contextmanager
    def build(config: dict):
        shop = create_app({**config, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
        with shop.app_context():
            engine = db.engines[None]
            if engine.dialect.name == "sqlite":
                fix_pysqlite_transactions(engine)
            connection = engine.connect()
            transaction = connection.begin()
            db.engines[None] = connection
            try:
                yield shop
            finally:
                db.session.remove()
                transaction.rollback()
                connection.close()
                db.engines[None] = engine
                engine.dispose()
        app.extensions["celery"].set_default()

    return build


@pytest.fixture
def production(app, other_app, monkeypatch):
    """The shop as SHOP_PRODUCTION=1 builds it, every required secret set, CSRF on."""
    env = {"SHOP_PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(48),
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "BASE_URL": "https://toko.example", "REDIS_URL": "redis://127.0.0.1:6379/9",
           "MIDTRANS_SERVER_KEY": unpublished_server_key(), "MIDTRANS_CLIENT_KEY": "SB-Mid-client-prod-test",
           "MAIL_SERVER": ""}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with other_app({}) as shop:
        assert shop.config["SHOP_PRODUCTION"] and shop.config["WTF_CSRF_ENABLED"]
        yield shop


@pytest.fixture
def emulator_shop(app, tmp_path):
    """The shop as `bin/dev` builds it: the Midtrans emulator mounted, CSRF on (requests here need no database)."""
    shop = create_app(dict(TEST_SETTINGS, MIDTRANS_EMULATOR=True, MIDTRANS_SERVER_KEY="", MIDTRANS_CLIENT_KEY="",
                           MIDTRANS_API_BASE_URL="", MIDTRANS_SNAP_BASE_URL="", WTF_CSRF_ENABLED=True,
                           MIDTRANS_EMULATOR_DB=str(tmp_path / "emulator.sqlite3"),
                           SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.db'}"))
    assert any(rule.rule.startswith(EMULATOR_PREFIX) for rule in shop.url_map.iter_rules())
    yield shop
    app.extensions["celery"].set_default()


@pytest.fixture
def world():
    """An owner with an order, payment and notification, another shopper, an admin and a product, committed."""
    owner, shopper, admin = UserFactory(), UserFactory(), UserFactory(is_admin=True)
    product = ProductFactory(name="Kopi Gayo")
    order = OrderFactory(user=owner)
    payment = PaymentFactory(order=order)
    notification = Notification(payment=payment, midtrans_order_id=payment.midtrans_order_id, body="{}",
                                transaction_status="pending", status_code="201", gross_amount="100000.00")
    db.session.add(notification)
    db.session.commit()  # into the test's outer transaction: a view's rollback must not undo it
    return World(owner, shopper, admin, order, product, payment, notification)
