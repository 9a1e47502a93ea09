"""Numbers in requests: only ASCII digits are numbers. "²", "①", "١٢", "１２" used to reach `int()`
after `str.isdigit()` said yes (a 500, or another number than the one shown)."""
import pytest

from tests.factories import OrderFactory, ProductFactory, UserFactory

NOT_ASCII = ["²", "①", "١٢", "１２", "٣", "9" * 40]


def logged_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user.get_id(), True
    return client


@pytest.mark.parametrize("value", NOT_ASCII)
@pytest.mark.parametrize("field", ["quantity", "product_id"])
def test_cart_refuses_other_digits_with_a_400_and_a_message(client, field, value):
    product = ProductFactory(stock=50)
    client.post("/keranjang/tambah", data={"product_id": str(product.id), "quantity": "1"})
    data = {"product_id": str(product.id), "quantity": "1", field: value}
    message = "Jumlah harus berupa angka 1 sampai 99." if field == "quantity" else "Produk"
    paths = ["/keranjang/tambah", "/keranjang/ubah"] + (["/keranjang/hapus"] if field == "product_id" else [])
    for path in paths:
        response = client.post(path, data=data)
        assert response.status_code == 400, (path, response.status_code)
        assert 'class="flash flash-error"' in response.get_data(as_text=True)
        assert message in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["cart"] == {str(product.id): 1}


@pytest.mark.parametrize("value", NOT_ASCII)
def test_order_list_page_number_is_ascii_only(client, value):
    response = logged_in(client, UserFactory()).get("/orders", query_string={"page": value})
    assert response.status_code == 400
    assert "Nomor halaman tidak valid" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", NOT_ASCII)
def test_dashboard_search_and_page_take_other_digits_without_a_500(client, value):
    admin = logged_in(client, UserFactory(is_admin=True))
    OrderFactory(user=UserFactory())
    assert admin.get("/dashboard/pesanan", query_string={"q": value}).status_code == 200  # a search text
    response = admin.get("/dashboard/pesanan", query_string={"page": value})
    assert response.status_code == 400 and "angka 0-9" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/orders/{}", "/orders/{}/status", "/dashboard/pesanan/detail-pesanan/{}"])
@pytest.mark.parametrize("value", ["١", "１", "9" * 12, "2147483648"])
def test_ids_in_urls_are_ascii_and_in_range(client, path, value):
    order = OrderFactory(id=1, user=UserFactory(is_admin=True))
    client = logged_in(client, order.user)
    assert client.get(path.format(1)).status_code == 200
    assert client.get(path.format(value)).status_code == 404
