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
DEADLINE = 30  # seconds for each step; generous for a loaded 2-core machine, only reached if something is broken


class Shopper(threading.Thread):
    """Checks out one unit of a product on a connection of its own; the first one can hold its
    transaction (and so its row lock) open until `release` is set."""

    def __init__(self, app, user_id: int, product_id: int, hold: bool = False):
        super().__init__(daemon=True)
        self.app, self.user_id, self.product_id, self.hold = app, user_id, product_id, hold
        self.backend, self.reserved, self.release = threading.Event(), threading.Event(), threading.Event()
        self.pid = self.outcome = None

    def run(self) -> None:
        with self.app.app_context():
            try:
                self.pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
                self.backend.set()
                order = services.place_order(db.session.get(User, self.user_id), {self.product_id: 1}, SHIPPING)
                self.reserved.set()
                if self.hold:
                    self.release.wait(3 * DEADLINE)  # bounded only so a broken test cannot hang the run
                db.session.commit()
                self.outcome = order.id
            except Exception as error:  # noqa: BLE001 -- OutOfStock expected; anything else shows in the asserts
                db.session.rollback()
                self.outcome = error
            finally:
                self.backend.set()
                self.reserved.set()
                db.session.remove()


def wait_until_waiting_for(app, waiter: Shopper, holder: Shopper) -> None:
    """Poll until PostgreSQL says `waiter`'s backend is blocked by a lock that `holder`'s backend holds."""
    query = text("SELECT :holder = ANY(pg_blocking_pids(:waiter))")
    deadline = time.monotonic() + DEADLINE
    with app.app_context(), db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            if watcher.execute(query, {"holder": holder.pid, "waiter": waiter.pid}).scalar():
                return
            if not waiter.is_alive():
                raise AssertionError(f"the second checkout ended without waiting for the first one's lock: "
                                     f"{waiter.outcome!r}")
            time.sleep(0.01)
    raise AssertionError(f"the second checkout was not seen waiting for the first one's lock in {DEADLINE} s")


@pytest.mark.postgres
@pytest.mark.integration
def test_the_last_item_cannot_be_sold_twice(app, clean_db):
    product_id = ProductFactory(name="Tenun Sumba", stock=1).id
    user_ids = [UserFactory().id, UserFactory().id]
    db.session.commit()
    first = Shopper(app, user_ids[0], product_id, hold=True)
    second = Shopper(app, user_ids[1], product_id)

    first.start()
    try:
        assert first.reserved.wait(DEADLINE) and first.outcome is None, first.outcome  # reserved, still open
        second.start()
        assert second.backend.wait(DEADLINE) and isinstance(second.pid, int), second.outcome
        # The proof of the row lock: the second's UPDATE is queued behind the first's open transaction.
        wait_until_waiting_for(app, second, first)
    finally:
        first.release.set()
        first.join(DEADLINE)
        second.join(DEADLINE)

    assert not first.is_alive() and not second.is_alive()
    assert isinstance(first.outcome, int), first.outcome
    assert isinstance(second.outcome, OutOfStock), second.outcome
    db.session.expire_all()
    assert db.session.get(Product, product_id).stock == 0
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 1
