from flask import Blueprint, render_template

from shop.cart.services import MAX_QUANTITY
from shop.catalog import services

bp = Blueprint("catalog", __name__)


@bp.get("/")
def index():
    return render_template("catalog/index.html", products=services.active_products())


@bp.get("/produk/<sku>")
def detail(sku: str):
    product = services.get_active_product_or_404(sku)
    return render_template("catalog/detail.html", product=product, max_quantity=MAX_QUANTITY)
