"""Checkout: turn a cart into an order with reserved stock, and open Snap payment attempts.

Services flush and never commit. On a raised error the caller rolls back, so a refused
order reserves nothing.
"""
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import NoResultFound

from shop import jakarta
from shop.accounts.models import User
from shop.catalog.models import Product
from shop.catalog.services import products_by_id
from shop.extensions import db
from shop.models import utcnow
from shop.orders.lifecycle import locked_order, release_stock
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.payments import gateway
from shop.payments.models import Payment, PaymentStatus
from shop.payments.states import order_status_for

log = logging.getLogger(__name__)

MIDTRANS_ORDER_ID = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")
MAX_ITEM_NAME = 50
MAX_QUANTITY_PER_LINE = 99
# Orders whose every attempt failed: "pay again" may reopen them with a new attempt.
REOPENABLE = (OrderStatus.FAILED, OrderStatus.EXPIRED)


class CheckoutError(Exception):
    """A refused checkout; the message is Indonesian and safe to show."""


class OutOfStock(CheckoutError):
    pass


class OrderNotPayable(CheckoutError):
    pass


class AttemptOpenedMeanwhile(CheckoutError):
    """Another request for the same order (a second click on "pay again") opened the attempt this
    one was about to open, while this one waited for Snap."""


@dataclass(frozen=True)
class Shipping:
    name: str
    phone: str
    address: str


def place_order(user: User, items: Mapping[int, int], shipping: Shipping) -> Order:
    """Reserve stock for `items` (product id -> quantity) and record a PENDING order."""
    quantities = _checked_quantities(items)
    _check_shipping(shipping)
    products = _products_on_sale(quantities)
    order = Order(user=user, status=OrderStatus.PENDING, total=0, shipping_name=shipping.name.strip(),
                  shipping_phone=shipping.phone.strip(), shipping_address=shipping.address.strip())
    # Always in id order, so two checkouts of the same products cannot deadlock each other.
    for product_id in sorted(quantities):
        product, quantity = products[product_id], quantities[product_id]
        reserve_stock(product, quantity)
        order.lines.append(OrderLine(product_id=product.id, sku=product.sku, name=product.name,
                                     unit_price=product.price, quantity=quantity))
    order.total = sum(line.subtotal for line in order.lines)
    db.session.add(order)
    db.session.flush()
    log.info("order placed order=%s user=%s total=%d lines=%d", order.id, user.id, order.total, len(order.lines))
    return order


def _checked_quantities(items: Mapping[int, int]) -> dict[int, int]:
    if not items:
        raise CheckoutError("Keranjang Anda masih kosong.")
    for quantity in items.values():
        if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY_PER_LINE:
            raise CheckoutError(f"Jumlah harus berupa angka 1 sampai {MAX_QUANTITY_PER_LINE}.")
    return dict(items)


def _check_shipping(shipping: Shipping) -> None:
    for value, label, limit in ((shipping.name, "Nama penerima", 120), (shipping.phone, "Nomor telepon", 30),
                                (shipping.address, "Alamat", 500)):
        if not value or not value.strip():
            raise CheckoutError(f"{label} wajib diisi.")
        if len(value.strip()) > limit:
            raise CheckoutError(f"{label} maksimal {limit} karakter.")


def _products_on_sale(quantities: dict[int, int]) -> dict[int, Product]:
    products = products_by_id(list(quantities))
    if len(products) != len(quantities):
        raise CheckoutError("Ada produk di keranjang yang sudah tidak dijual. Periksa keranjang Anda.")
    return products


def reserve_stock(product: Product, quantity: int) -> None:
    """Take `quantity` off the shelf in one conditional UPDATE; raises OutOfStock."""
    result = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.is_active, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False))
    db.session.expire(product, ["stock"])
    if result.rowcount != 1:
        raise OutOfStock(f"Stok {product.name} tidak cukup: tersisa {product.stock}.")


def abandon_order(order_id: int) -> None:
    """Undo `place_order` when its first payment attempt failed: stock back, order and lines gone."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    if _attempts_made(order_id):
        raise RuntimeError(f"order {order_id} has payment attempts and cannot be abandoned")
    release_stock(order)
    db.session.delete(order)
    db.session.flush()
    log.info("order abandoned order=%s: stock released, order removed", order_id)


# --- payment attempts ---------------------------------------------------------------------

def reopen_order(order_id: int, replaced_attempt: int | None = None) -> Order:
    """Make an order payable again: its stock goes back on hold if it went; raises CheckoutError.

    Without `replaced_attempt` the order must have failed or expired with no attempt open. With
    it, that attempt (already expired at Midtrans, its notification still on the way) may be the
    order's one open attempt, as long as it is still the latest.
    """
    order = _locked_order(order_id)
    if not _may_reopen(order, replaced_attempt):
        raise OrderNotPayable("Pesanan ini tidak dapat dibayar lagi.")
    _hold_stock_again(order)
    return order


def _hold_stock_again(order: Order) -> None:
    """Put the order's stock back on hold if it went back to the shelf (under the order's lock);
    raises OutOfStock when it has been sold meanwhile."""
    if order.stock_released:
        # Same id order as place_order, so a reopen and a checkout cannot deadlock each other.
        for line in sorted(order.lines, key=lambda line: line.product_id):
            reserve_stock(line.product, line.quantity)
        order.stock_released = False
        db.session.flush()


def _may_reopen(order: Order, replaced_attempt: int | None) -> bool:
    still_open = {p.attempt for p in order.payments if p.status.is_open}
    if replaced_attempt is None:
        return order.status in REOPENABLE and not still_open
    latest = order.latest_payment
    return (order.status in (OrderStatus.PENDING, *REOPENABLE) and latest is not None
            and latest.attempt == replaced_attempt and still_open <= {replaced_attempt})


def start_payment_attempt(order: Order) -> Payment:
    """Open the next payment attempt of `order` at Midtrans Snap; raises MidtransError.

    Nothing is written before Midtrans answered, so no row is locked while we wait for it.
    """
    if order.status not in (OrderStatus.PENDING, *REOPENABLE):
        raise OrderNotPayable("Pesanan ini tidak dapat dibayar lagi.")
    attempt = _attempts_made(order.id) + 1
    midtrans_order_id = new_midtrans_order_id(order.id, attempt)
    started = utcnow().replace(microsecond=0)
    payload = snap_payload(order, midtrans_order_id, started)
    try:
        snap = gateway.create_snap_transaction(payload)
    except gateway.SnapOrderIdTaken as error:
        # Created at Midtrans but its answer was lost: kept without a token, so neither its
        # notifications nor the reconciler find it missing; "pay again" expires it.
        log.warning("order=%s snap %s exists at midtrans without a token we know: %s", order.id,
                    midtrans_order_id, error)
        snap = None
    order = _locked_order(order.id)
    if _attempts_made(order.id) >= attempt:  # under the order's lock: the other request has committed
        raise AttemptOpenedMeanwhile("Pembayaran baru untuk pesanan ini baru saja dibuat.")
    # The attempt this one replaces may have ended while Snap answered (its expire notification came
    # first) and given the order's stock back: the new attempt holds it again.
    _hold_stock_again(order)
    payment = Payment(order=order, attempt=attempt, midtrans_order_id=midtrans_order_id,
                      status=PaymentStatus.CREATED, gross_amount=payload["transaction_details"]["gross_amount"],
                      snap_token=snap and snap.token, redirect_url=snap and snap.redirect_url,
                      expires_at=started + timedelta(minutes=payload["expiry"]["duration"]))
    db.session.add(payment)
    order.status = order_status_for(order)  # an open attempt makes a failed order pending again
    db.session.flush()
    log.info("payment attempt started order=%s payment=%s midtrans_order_id=%s gross_amount=%d",
             order.id, payment.id, midtrans_order_id, payment.gross_amount)
    return payment


def _locked_order(order_id: int) -> Order:
    # The order row first, as the notification task locks it: the two never deadlock.
    order = locked_order(order_id)
    if order is None:
        raise NoResultFound(f"order {order_id} does not exist")  # as scalar_one() raised it
    return order


def _attempts_made(order_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.max(Payment.attempt), 0))
                             .where(Payment.order_id == order_id))


def new_midtrans_order_id(order_id: int, attempt: int) -> str:
    """`TK-<order>-<attempt>-<random>`: unique even if a reset database reuses order ids."""
    value = f"TK-{order_id}-{attempt}-{secrets.token_hex(4)}"
    if not MIDTRANS_ORDER_ID.match(value):
        raise ValueError(f"not a valid Midtrans order id: {value!r}")
    return value


def snap_payload(order: Order, midtrans_order_id: str, started: datetime) -> dict:
    """The Snap request body; gross_amount is the exact sum of item_details."""
    items = [_item_detail(line) for line in order.lines]
    gross_amount = sum(item["price"] * item["quantity"] for item in items)
    if gross_amount != order.total:
        raise ValueError(f"order {order.id}: lines add up to {gross_amount}, total says {order.total}")
    config = current_app.config
    return {
        "transaction_details": {"order_id": midtrans_order_id, "gross_amount": gross_amount},
        "item_details": items,
        "customer_details": _customer_details(order),
        "callbacks": {"finish": f"{config['BASE_URL']}/orders/{order.id}"},
        "expiry": {"start_time": jakarta.to_snap(started), "unit": "minute",
                   "duration": config["PAYMENT_EXPIRY_MINUTES"]},
    }


def _item_detail(line: OrderLine) -> dict:
    # Midtrans allows 50 characters; Alfamart's receipts break on "|".
    name = line.name.replace("|", "/")[:MAX_ITEM_NAME]
    return {"id": line.sku, "price": line.unit_price, "quantity": line.quantity, "name": name}


def _customer_details(order: Order) -> dict:
    contact = {"first_name": order.shipping_name, "phone": order.shipping_phone}
    address = dict(contact, address=order.shipping_address, country_code="IDN")
    return dict(contact, email=order.user.email, shipping_address=address)
