"""The dashboard's orders as CSV, for a spreadsheet set to Indonesian.

Semicolons between fields (a spreadsheet in Indonesian reads the comma as the decimal sign and splits
on semicolons), amounts as plain whole rupiah (1250000: a number in any locale; "1.250.000" is a
number only where the dot groups thousands, and text or 1.25 elsewhere), times as dd/mm/yyyy HH:MM in
Jakarta time (Indonesian short dates), UTF-8 with a byte-order mark so names keep their letters.
"""
import csv
import io
from collections.abc import Iterable, Iterator

from shop import jakarta
from shop.dashboard.services import OrderFilter, listed_orders
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.instructions import payment_method
from shop.vocabulary import order_status_label, payment_status_label

COLUMNS = ("No. pesanan", "Dibuat (WIB)", "Nama pembeli", "E-mail pembeli", "Total (Rp)", "Status pesanan",
           "Order id Midtrans terakhir", "Status pembayaran terakhir", "Metode", "Dibayar (WIB)")
EXPORT_LIMIT = 50_000  # rows; one file a spreadsheet still opens quickly
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def export_rows(filters: OrderFilter) -> Iterator[list]:
    """One row per order matching `filters`, newest first."""
    for order in db.session.scalars(listed_orders(filters).limit(EXPORT_LIMIT)):
        yield order_row(order)


def order_row(order: Order) -> list:
    """An order's cells, in the order of COLUMNS."""
    payment = order.latest_payment
    attempt = ([payment.midtrans_order_id, payment_status_label(payment.status), payment_method(payment)]
               if payment else ["", "", ""])
    return [order.id, jakarta.for_spreadsheet(order.created_at), order.user.name, order.user.email, order.total,
            order_status_label(order.status), *attempt, jakarta.for_spreadsheet(order.paid_at)]


def orders_csv(rows: Iterable[list]) -> str:
    """The header and `rows` as CSV text, ready to download."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([_inert(value) for value in row] for row in rows)
    return out.getvalue()


def _inert(value):
    """Text a buyer typed (a name) that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
