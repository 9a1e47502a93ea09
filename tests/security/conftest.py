"""Fixtures for the security tests: the payments feature's, and other apps on the same database."""
from contextlib import contextmanager

import pytest

from shop import create_app
from shop.extensions import db
from tests.conftest import fix_pysqlite_transactions
from tests.payments.conftest import _midtrans_server, midtrans, payment, product  # noqa: F401


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
