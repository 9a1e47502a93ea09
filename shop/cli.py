"""`flask shop ...`: operator commands that span the shop's features.

Commands that print JSON print exactly one object on stdout; the shop logs to stderr.
"""
import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.services import find_user_by_email
from shop.catalog.models import Product
from shop.checkout.services import CheckoutError, Shipping
from shop.checkout.workflow import checkout_and_pay
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.ledger import ledger_of, money_events, payment_actions
from shop.payments.timeline import order_timeline

shop_cli = AppGroup("shop", help="Shop operations: seed-demo, place-order, show-order.")

DEMO_PRODUCTS = (
    # sku, name, price (rupiah), stock, description
    ("KOPI-GAYO-250", "Kopi Arabika Gayo 250 g", 85000, 40, "Biji kopi sangrai medium dari dataran tinggi Gayo, Aceh."),
    ("BATIK-PKL-01", "Kain Batik Tulis Pekalongan", 350000, 8, "Batik tulis katun primisima, 2 x 1,15 m."),
    ("SAMBAL-BWG-01", "Sambal Bawang Pedas 200 g", 45000, 60, "Sambal bawang rumahan tanpa pengawet."),
    ("KRIPIK-TMP-01", "Keripik Tempe Malang 250 g", 18000, 100, "Keripik tempe renyah khas Malang."),
    ("MADU-SMB-500", "Madu Hutan Sumbawa 500 ml", 150000, 25, "Madu hutan murni dari Sumbawa."),
    ("TAS-ROTAN-01", "Tas Anyaman Rotan Lombok", 275000, 12, "Tas bulat anyaman rotan ate, buatan tangan."),
    ("TEH-TARIK-01", "Teh Tarik Aceh Sachet (isi 10)", 32500, 80, "Teh tarik instan khas Aceh."),
    ("TENUN-SUMBA-1", "Kain Tenun Ikat Sumba", 1250000, 3, "Tenun ikat pewarna alami, motif kuda."),
)
DEMO_USERS = (
    # email, name, password, is_admin
    ("pembeli@contoh.id", "Budi Santoso", "pembeli123", False),
    ("admin@contoh.id", "Admin Toko", "admin12345", True),
)


def print_json(data: dict) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))


@shop_cli.command("seed-demo")
def seed_demo():
    """Add demo products, a demo shopper and an admin (safe to run again)."""
    if current_app.config["SHOP_PRODUCTION"]:
        raise click.ClickException("seed-demo refuses to run with SHOP_PRODUCTION on (it creates known passwords).")
    added_products = sum(_ensure_product(*row) for row in DEMO_PRODUCTS)
    users = [(row, _ensure_user(*row)) for row in DEMO_USERS]
    db.session.commit()
    click.echo(f"Demo products: {added_products} added, {len(DEMO_PRODUCTS) - added_products} already there.")
    for (email, _, password, is_admin), added in users:
        role = "admin" if is_admin else "shopper"
        shown = password if added else "(existing account, password not changed)"
        click.echo(f"Demo {role}: {email} / {shown}")


def _ensure_product(sku: str, name: str, price: int, stock: int, description: str) -> bool:
    if db.session.scalar(select(Product).where(Product.sku == sku)) is not None:
        return False
    db.session.add(Product(sku=sku, name=name, price=price, stock=stock, description=description))
    return True


def _ensure_user(email: str, name: str, password: str, is_admin: bool) -> bool:
    if find_user_by_email(email) is not None:
        return False
    user = User(email=email, name=name, is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    return True


@shop_cli.command("place-order")
@click.option("--email", required=True, help="The shopper's e-mail.")
@click.option("--sku", required=True, help="The product's SKU.")
@click.option("--qty", required=True, type=click.IntRange(1, 99), help="How many (1-99).")
@click.option("--phone", default="080000000000", show_default=True, help="Shipping phone.")
@click.option("--address", default="Diambil sendiri di toko (pesanan dari CLI)", show_default=True,
              help="Shipping address.")
def place_order_command(email: str, sku: str, qty: int, phone: str, address: str):
    """Place an order and open its Snap payment, as the checkout page does; prints one JSON object."""
    user = find_user_by_email(email)
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    if product is None:
        raise click.ClickException(f"no product with SKU {sku}")
    try:
        payment = checkout_and_pay(user, {product.id: qty}, Shipping(user.name, phone, address))
    except CheckoutError as error:
        category = getattr(error, "category", "refused")
        raise click.ClickException(f"order not placed ({category}): {error}") from error
    print_json({"order_id": payment.order_id, "midtrans_order_id": payment.midtrans_order_id,
                "gross_amount": payment.gross_amount, "redirect_url": payment.redirect_url})


@shop_cli.command("show-order")
@click.argument("order_id", type=int)
def show_order_command(order_id: int):
    """Print an order with its lines, payment attempts, money ledger and timeline as one JSON object."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise click.ClickException(f"no order {order_id}")
    print_json(order_as_dict(order))


def order_as_dict(order: Order) -> dict:
    events, actions = money_events(order.id), payment_actions(order.id)
    return {
        "order_id": order.id,
        "status": order.status.value,
        "user": order.user.email,
        "total": order.total,
        "created_at": order.created_at.isoformat(),
        "lines": [{"sku": line.sku, "name": line.name, "unit_price": line.unit_price,
                   "quantity": line.quantity, "subtotal": line.subtotal} for line in order.lines],
        "payments": [_payment_as_dict(payment) for payment in order.payments],
        **ledger_of(events, actions).as_dict(),
        "timeline": [entry.as_dict() for entry in order_timeline(order, events, actions)],
    }


def _payment_as_dict(payment) -> dict:
    return {
        "attempt": payment.attempt,
        "midtrans_order_id": payment.midtrans_order_id,
        "status": payment.status.value,
        "gross_amount": payment.gross_amount,
        "transaction_status": payment.transaction_status,
        "payment_type": payment.payment_type,
        "redirect_url": payment.redirect_url,
        "expires_at": payment.expires_at.isoformat() if payment.expires_at else None,
    }
