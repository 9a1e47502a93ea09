"""The session cart: add, update, remove, totals and the errors a shopper can hit."""
import re

import pytest

from shop.cart import services
from tests.factories import ProductFactory


def add(client, product_id, quantity):
    return client.post("/keranjang/tambah", data={"product_id": str(product_id), "quantity": str(quantity)},
                       follow_redirects=True)


def stored_cart(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("cart", {}))


def test_add_update_remove_and_totals(client):
    kopi = ProductFactory(name="Kopi Gayo", price=85000, stock=10)
    sambal = ProductFactory(name="Sambal Bawang", price=45000, stock=10)
    add(client, kopi.id, 2)
    page = add(client, sambal.id, 1).get_data(as_text=True)
    assert "Rp 170.000" in page and "Total: Rp 215.000" in page
    assert "Keranjang (3)" in page
    client.post("/keranjang/ubah", data={"product_id": kopi.id, "quantity": "3"})
    assert stored_cart(client) == {str(kopi.id): 3, str(sambal.id): 1}
    page = client.post("/keranjang/hapus", data={"product_id": sambal.id}, follow_redirects=True)
    assert "Total: Rp 255.000" in page.get_data(as_text=True)
    assert stored_cart(client) == {str(kopi.id): 3}


def test_adding_twice_adds_up(client):
    kopi = ProductFactory(stock=10)
    add(client, kopi.id, 2)
    add(client, kopi.id, 3)
    assert stored_cart(client) == {str(kopi.id): 5}


@pytest.mark.parametrize("quantity", ["abc", "0", "-1", "1.5", "", "100"])
def test_bad_quantity_is_refused_and_changes_nothing(client, quantity):
    kopi = ProductFactory(stock=200)
    add(client, kopi.id, 1)
    page = add(client, kopi.id, quantity).get_data(as_text=True)
    assert "Jumlah harus berupa angka 1 sampai 99." in page
    client.post("/keranjang/ubah", data={"product_id": kopi.id, "quantity": quantity})
    assert stored_cart(client) == {str(kopi.id): 1}


def test_more_than_in_stock_is_refused(client):
    kopi = ProductFactory(name="Kopi Gayo", stock=3)
    add(client, kopi.id, 2)
    page = add(client, kopi.id, 2).get_data(as_text=True)
    assert "Stok Kopi Gayo tidak cukup: tersisa 3." in page
    page = client.post("/keranjang/ubah", data={"product_id": kopi.id, "quantity": "4"}, follow_redirects=True)
    assert "tersisa 3" in page.get_data(as_text=True)
    assert stored_cart(client) == {str(kopi.id): 2}


@pytest.mark.parametrize("product_id", ["999999", "abc", ""])
def test_unknown_product_is_refused(client, product_id):
    page = add(client, product_id, 1).get_data(as_text=True)
    assert "Produk tidak ditemukan atau sudah tidak dijual." in page
    assert stored_cart(client) == {}


def test_inactive_product_cannot_be_added(client):
    product = ProductFactory(is_active=False)
    assert "tidak ditemukan" in add(client, product.id, 1).get_data(as_text=True)
    assert stored_cart(client) == {}


def test_changing_a_product_not_in_the_cart_is_refused(client):
    kopi = ProductFactory()
    page = client.post("/keranjang/hapus", data={"product_id": kopi.id}, follow_redirects=True)
    assert "tidak ada di keranjang" in page.get_data(as_text=True)


def test_product_taken_off_sale_leaves_the_cart_with_a_message(client):
    kopi, batik = ProductFactory(name="Kopi Gayo"), ProductFactory(name="Batik Tulis")
    add(client, kopi.id, 1)
    add(client, batik.id, 1)
    batik.is_active = False
    page = client.get("/keranjang").get_data(as_text=True)
    assert "sudah tidak dijual" in page and "Batik Tulis" not in page
    assert stored_cart(client) == {str(kopi.id): 1}


def test_empty_cart_page(client):
    assert "Keranjang Anda masih kosong." in client.get("/keranjang").get_data(as_text=True)


def test_malformed_stored_cart_entries_are_skipped():
    stored = {"1": 2, "x": 1, "2": "lots", "3": 0, "4": 1000, "5": True, "6": 1.0}
    assert services.stored_quantities(stored) == {1: 2}


def test_cart_forms_carry_a_working_csrf_token(app, client, monkeypatch):
    kopi = ProductFactory(sku="KOPI-1", stock=5)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/keranjang/tambah", data={"product_id": kopi.id, "quantity": 1}).status_code == 400
    page = client.get("/produk/KOPI-1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/keranjang/tambah", data={"product_id": kopi.id, "quantity": 1, "csrf_token": token})
    assert response.status_code == 303
    assert stored_cart(client) == {str(kopi.id): 1}
