"""The cart page and its POST actions (CSRF comes from CSRFProtect on every POST)."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from shop.cart import services
from shop.cart.services import CartError

bp = Blueprint("cart", __name__)

CART_KEY = "cart"


def save_cart(stored: dict) -> None:
    session[CART_KEY] = stored


def clear_cart() -> None:
    session.pop(CART_KEY, None)


@bp.app_context_processor
def cart_count():
    return {"cart_count": services.item_count(session.get(CART_KEY))}


@bp.get("/keranjang")
def show():
    cart = services.load_cart(session.get(CART_KEY))
    if cart.dropped:
        save_cart(cart.stored())
        flash("Beberapa produk sudah tidak dijual dan dihapus dari keranjang.", "error")
    return render_template("cart/show.html", cart=cart, max_quantity=services.MAX_QUANTITY)


@bp.post("/keranjang/tambah")
def add():
    try:
        stored, product = services.add_item(session.get(CART_KEY), request.form.get("product_id"),
                                            request.form.get("quantity"))
    except CartError as error:
        return refused(error)
    save_cart(stored)
    flash(f"{product.name} masuk ke keranjang.", "success")
    return redirect(url_for("cart.show"), 303)


@bp.post("/keranjang/ubah")
def update():
    return _change(lambda stored: services.set_quantity(stored, request.form.get("product_id"),
                                                        request.form.get("quantity")),
                   "Jumlah diperbarui.")


@bp.post("/keranjang/hapus")
def remove():
    return _change(lambda stored: services.remove_item(stored, request.form.get("product_id")),
                   "Produk dihapus dari keranjang.")


def _change(change, done_message: str):
    try:
        save_cart(change(session.get(CART_KEY)))
    except CartError as error:
        return refused(error)
    flash(done_message, "success")
    return redirect(url_for("cart.show"), 303)


def refused(error: CartError):
    """A malformed or impossible change: the cart page at once with the reason, as a 400."""
    flash(str(error), "error")
    return show(), 400
