"""The shopping cart: product id -> quantity, kept in the signed session cookie.

Functions take the stored dict and return a new one; on bad input they raise CartError
and the caller keeps the old dict, so a refused change changes nothing.
"""
from collections.abc import Mapping
from dataclasses import dataclass

from shop.catalog.models import Product
from shop.catalog.services import products_by_id
from shop.numbers import ascii_digits, whole_number

MAX_QUANTITY = 99


class CartError(Exception):
    """A refused cart change; the message is Indonesian and safe to show."""


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]
    dropped: int  # items no longer on sale, left out

    @property
    def total(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def quantities(self) -> dict[int, int]:
        return {line.product.id: line.quantity for line in self.lines}

    def stored(self) -> dict[str, int]:
        return {str(product_id): quantity for product_id, quantity in self.quantities.items()}


def parse_quantity(raw) -> int:
    """A quantity from a form: a whole number from 1 to MAX_QUANTITY."""
    quantity = whole_number(str(raw if raw is not None else "").strip(), 1, MAX_QUANTITY)
    if quantity is None:
        raise CartError(f"Jumlah harus berupa angka 1 sampai {MAX_QUANTITY}.")
    return quantity


def parse_product_id(raw) -> int:
    product_id = whole_number(str(raw if raw is not None else "").strip())
    if product_id is None:
        raise CartError("Produk tidak ditemukan atau sudah tidak dijual.")
    return product_id


def stored_quantities(stored: Mapping | None) -> dict[int, int]:
    """The stored cart as {product id: quantity}, skipping anything malformed."""
    result = {}
    for key, value in (stored or {}).items():
        if ascii_digits(str(key)) and type(value) is int and 1 <= value <= MAX_QUANTITY:
            result[int(key)] = value
    return result


def load_cart(stored: Mapping | None) -> Cart:
    """The cart with current products and prices; products no longer on sale are dropped."""
    quantities = stored_quantities(stored)
    products = products_by_id(list(quantities))
    lines = [CartLine(products[pid], qty) for pid, qty in quantities.items() if pid in products]
    return Cart(lines=lines, dropped=len(quantities) - len(lines))


def item_count(stored: Mapping | None) -> int:
    return sum(stored_quantities(stored).values())


def add_item(stored: Mapping | None, raw_product_id, raw_quantity) -> tuple[dict, Product]:
    """Add `raw_quantity` of a product on top of what the cart already holds."""
    quantities = stored_quantities(stored)
    product = _product_on_sale(parse_product_id(raw_product_id))
    wanted = quantities.get(product.id, 0) + parse_quantity(raw_quantity)
    _check_quantity(product, wanted)
    quantities[product.id] = wanted
    return _stored(quantities), product


def set_quantity(stored: Mapping | None, raw_product_id, raw_quantity) -> dict:
    """Replace the quantity of a product already in the cart."""
    quantities = stored_quantities(stored)
    product_id = _in_cart(quantities, raw_product_id)
    product = _product_on_sale(product_id)
    wanted = parse_quantity(raw_quantity)
    _check_quantity(product, wanted)
    quantities[product_id] = wanted
    return _stored(quantities)


def remove_item(stored: Mapping | None, raw_product_id) -> dict:
    quantities = stored_quantities(stored)
    del quantities[_in_cart(quantities, raw_product_id)]
    return _stored(quantities)


def _in_cart(quantities: dict[int, int], raw_product_id) -> int:
    product_id = parse_product_id(raw_product_id)
    if product_id not in quantities:
        raise CartError("Produk ini tidak ada di keranjang.")
    return product_id


def _product_on_sale(product_id: int) -> Product:
    product = products_by_id([product_id]).get(product_id)
    if product is None:
        raise CartError("Produk tidak ditemukan atau sudah tidak dijual.")
    return product


def _check_quantity(product: Product, wanted: int) -> None:
    if wanted > MAX_QUANTITY:
        raise CartError(f"Maksimal {MAX_QUANTITY} buah per produk.")
    if wanted > product.stock:
        raise CartError(f"Stok {product.name} tidak cukup: tersisa {product.stock}.")


def _stored(quantities: dict[int, int]) -> dict[str, int]:
    return {str(product_id): quantity for product_id, quantity in quantities.items()}
