"""Fixtures for the checkout tests."""
import pytest

from shop.extensions import db
from tests.factories import ProductFactory, UserFactory


@pytest.fixture
def shopper(client, auth):
    """A logged-in shopper with 2 x Kopi (Rp 85.000) and 1 x Sambal (Rp 45.000) in the cart."""
    user = UserFactory(email="budi@example.com", name="Budi")
    kopi = ProductFactory(sku="KOPI-1", name="Kopi Arabika Gayo", price=85000, stock=5)
    sambal = ProductFactory(sku="SAMBAL-1", name="Sambal Bawang", price=45000, stock=1)
    db.session.commit()  # into the test's outer transaction: a view's rollback must not undo it
    auth.login()
    client.post("/keranjang/tambah", data={"product_id": kopi.id, "quantity": 2})
    client.post("/keranjang/tambah", data={"product_id": sambal.id, "quantity": 1})
    return user, kopi, sambal
