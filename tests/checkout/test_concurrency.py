"""Two shoppers, two real database connections, one item left: only one of them gets it."""
import threading
import time

import pytest
from sqlalchemy import text

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.checkout import services
from shop.checkout.services import OutOfStock, Shipping
from shop.extensions import db
from shop.orders.models import Order
from tests.factories import ProductFactory, UserFactory

SHIPPING = Shipping("Budi", "081234567890", "Jl. Merdeka 1, Jakarta")
WAIT = 10  # seconds; only reached if something is broken


HOLD = 60  # seconds the first shopper keeps its row lock at most: as long as the watcher looks


def wait_until_blocked_on_a_lock(app, second: threading.Thread, seconds: float = HOLD) -> None:
    """Wait until another backend waits for a row lock (what the second shopper must do)."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + seconds  # generous: a loaded 2-core machine can be slow to start a thread
    with app.app_context(), db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            if watcher.execute(query).scalar():
                return
            if not second.is_alive():
                raise AssertionError("the second checkout finished without waiting for the first one's row lock")
            watcher.execute(text("SELECT pg_sleep(0.01)"))  # between polls, on the server side
    raise AssertionError("the second checkout never waited for the first one's row lock")


@pytest.mark.postgres
@pytest.mark.integration
def test_the_last_item_cannot_be_sold_twice(app, clean_db):
    product_id = ProductFactory(name="Tenun Sumba", stock=1).id
    user_ids = [UserFactory().id, UserFactory().id]
    db.session.commit()
    first_reserved, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def shopper(index: int, hold: bool) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_ids[index])
                order = services.place_order(user, {product_id: 1}, SHIPPING)
                if hold:  # keep the transaction (and its row lock) open until told
                    first_reserved.set()
                    release_first.wait(HOLD)
                db.session.commit()
                outcomes[index] = order.id
            except Exception as error:  # noqa: BLE001 -- OutOfStock expected; anything else shows in the asserts
                db.session.rollback()
                outcomes[index] = error
            finally:
                first_reserved.set()
                db.session.remove()

    first = threading.Thread(target=shopper, args=(0, True))
    second = threading.Thread(target=shopper, args=(1, False))
    first.start()
    assert first_reserved.wait(WAIT)
    second.start()
    wait_until_blocked_on_a_lock(app, second)  # the second UPDATE is now queued behind the first
    release_first.set()
    first.join(WAIT)
    second.join(WAIT)

    assert isinstance(outcomes[0], int), outcomes
    assert isinstance(outcomes[1], OutOfStock), outcomes
    db.session.expire_all()
    assert db.session.get(Product, product_id).stock == 0
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 1
