"""The product grid and the product page."""
from tests.factories import ProductFactory


def test_grid_lists_active_products_with_rupiah_prices(client):
    ProductFactory(name="Kopi Arabika Gayo", price=150000)
    ProductFactory(name="Batik Lama", is_active=False)
    page = client.get("/").get_data(as_text=True)
    assert "Kopi Arabika Gayo" in page and "Rp 150.000" in page
    assert "Batik Lama" not in page


def test_grid_says_when_nothing_is_for_sale(client):
    assert "Belum ada produk" in client.get("/").get_data(as_text=True)


def test_product_page_has_an_add_to_cart_form(client):
    product = ProductFactory(sku="MADU-1", name="Madu Hutan", price=85000, stock=3)
    page = client.get("/produk/MADU-1").get_data(as_text=True)
    assert "Madu Hutan" in page and "Rp 85.000" in page
    assert 'action="/keranjang/tambah"' in page
    assert f'name="product_id" value="{product.id}"' in page
    assert 'max="3"' in page


def test_sold_out_product_has_no_form(client):
    ProductFactory(sku="HABIS-1", stock=0)
    page = client.get("/produk/HABIS-1").get_data(as_text=True)
    assert "Stok habis" in page and "/keranjang/tambah" not in page


def test_unknown_or_inactive_product_is_404(client):
    ProductFactory(sku="OFF-1", is_active=False)
    assert client.get("/produk/OFF-1").status_code == 404
    assert client.get("/produk/TIDAK-ADA").status_code == 404
