"""Catalog: what the shop sells."""
from flask import abort
from sqlalchemy import select

from shop.catalog.models import Product
from shop.extensions import db


def active_products() -> list[Product]:
    """Products on sale, newest first."""
    return list(db.session.scalars(select(Product).where(Product.is_active).order_by(Product.id.desc())))


def get_active_product_or_404(sku: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.sku == sku, Product.is_active))
    if product is None:
        abort(404)
    return product


def products_by_id(ids) -> dict[int, Product]:
    """The active products among `ids`, by id (unknown or inactive ones are left out)."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Product).where(Product.id.in_(ids), Product.is_active))
    return {product.id: product for product in rows}
