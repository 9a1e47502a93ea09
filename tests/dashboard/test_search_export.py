"""The dashboard's search (any part of an id, a buyer's name or e-mail, any case) and its CSV export."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from shop.dashboard.export import COLUMNS
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.orders.helpers import log_in

WIB = timezone(timedelta(hours=7))


@pytest.fixture
def wanted():
    """An attempt of Siti's order, and another shopper's order that no search below should find."""
    buyer = UserFactory(name="Siti Rahmawati", email="siti.rahma@contoh.id")
    payment = PaymentFactory(order__user=buyer, midtrans_order_id="TK-4182-2-9F3A61C2")
    PaymentFactory(order__user=UserFactory(name="Budi", email="budi@example.com"), midtrans_order_id="TK-77-1-aa")
    return payment


def listed(client, term: str) -> str:
    return client.get("/dashboard/pesanan", query_string={"q": term}).get_data(as_text=True)


@pytest.mark.parametrize("term", ["4182-2", "tk-4182", "9f3a61c2", "RAHMAWATI", "siti r", "RAHMA@CONTOH", "contoh.id"])
def test_search_finds_any_part_of_the_midtrans_id_name_or_email_in_any_case(client, admin, wanted, term):
    html = listed(client, term)

    assert f"#{wanted.order.id}<" in html
    assert "Budi" not in html and html.count('data-label="Pesanan"') == 1


def test_search_by_part_of_the_order_id_and_by_hash_for_one_order(client, admin):
    orders = [OrderFactory() for _ in range(12)]
    ten, eleven = orders[9].id, orders[10].id

    by_part = listed(client, str(eleven)[-2:])
    exact = listed(client, f"#{ten}")

    assert f"#{eleven}<" in by_part
    assert exact.count('data-label="Pesanan"') == 1 and f"#{ten}<" in exact


def test_a_search_matching_nothing_says_so(client, admin, wanted):
    html = listed(client, "tidak-ada-yang-cocok")

    assert "Tidak ada pesanan yang cocok." in html and "<table" not in html


def test_search_characters_are_not_wildcards(client, admin, wanted):
    assert "Tidak ada pesanan yang cocok." in listed(client, "%")
    assert "Tidak ada pesanan yang cocok." in listed(client, "siti_rahma")


def rows_of(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets read UTF-8 by this mark
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_export_has_the_filtered_orders_in_indonesian_formats(client, admin, wanted):
    order = wanted.order
    order.total, order.status = 1_250_000, OrderStatus.SUCCESS
    order.created_at = datetime(2026, 12, 3, 1, 5, tzinfo=timezone.utc)  # 08:05 WIB
    order.paid_at = datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc)  # 1 January, 00:30 WIB
    wanted.status, wanted.payment_type = PaymentStatus.SUCCESS, "bank_transfer"
    wanted.va_numbers = [{"bank": "bca", "va_number": "1234"}]

    response = client.get("/dashboard/pesanan.csv", query_string={"q": "siti"})

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'attachment; filename="pesanan-' in response.headers["Content-Disposition"]
    header, *rows = rows_of(response)
    assert tuple(header) == COLUMNS
    assert rows == [[str(order.id), "03/12/2026 08:05", "Siti Rahmawati", "siti.rahma@contoh.id", "1250000",
                     "Lunas", "TK-4182-2-9F3A61C2", "Lunas", "Transfer Virtual Account BCA",
                     "01/01/2027 00:30"]]


def test_csv_export_of_nothing_is_the_header_alone(client, admin, wanted):
    response = client.get("/dashboard/pesanan.csv", query_string={"q": "tidak-ada"})

    assert response.status_code == 200 and rows_of(response) == [list(COLUMNS)]


def test_csv_export_takes_every_page_and_an_order_without_attempt(client, admin):
    orders = [OrderFactory(created_at=datetime(2026, 11, 1, tzinfo=WIB) + timedelta(minutes=n)) for n in range(25)]

    rows = rows_of(client.get("/dashboard/pesanan.csv"))[1:]

    assert [int(row[0]) for row in rows] == [o.id for o in reversed(orders)]
    assert rows[0][6:9] == ["", "", ""] and rows[0][9] == ""


def test_csv_keeps_a_formula_in_a_name_as_text(client, admin):
    OrderFactory(user=UserFactory(name='=HYPERLINK("http://evil.test","klik")'))

    rows = rows_of(client.get("/dashboard/pesanan.csv"))

    assert rows[1][2] == '\'=HYPERLINK("http://evil.test","klik")'


def test_csv_export_refuses_bad_filters_like_the_list(client, admin):
    response = client.get("/dashboard/pesanan.csv?date_from=kemarin")

    assert response.status_code == 400 and "Tanggal tidak valid." in response.get_data(as_text=True)


def test_csv_export_is_for_admins_only(client):
    log_in(client, UserFactory())

    assert client.get("/dashboard/pesanan.csv").status_code == 404
