"""The checkout page: shipping details, then off to Midtrans Snap."""
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from shop.cart.services import load_cart
from shop.cart.views import CART_KEY, clear_cart
from shop.checkout.forms import ShippingForm
from shop.checkout.services import CheckoutError
from shop.checkout.workflow import MESSAGE_NO_PAGE, PaymentNotStarted, checkout_and_pay

bp = Blueprint("checkout", __name__)


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout():
    cart = load_cart(session.get(CART_KEY))
    if not cart.lines:
        flash("Keranjang Anda masih kosong.", "error")
        return redirect(url_for("cart.show"))
    form = ShippingForm(data={"name": current_user.name})
    if form.validate_on_submit():
        try:
            payment = checkout_and_pay(current_user._get_current_object(), cart.quantities, form.shipping())
        except PaymentNotStarted as error:
            flash(str(error), "error")  # the cart is kept: the shopper can simply try again
        except CheckoutError as error:
            flash(str(error), "error")
            return redirect(url_for("cart.show"), 303)
        else:
            clear_cart()
            if payment.redirect_url is None:
                flash(MESSAGE_NO_PAGE, "info")
                return redirect(url_for("orders.show", order_id=payment.order_id), 303)
            return redirect(payment.redirect_url, 303)
    return render_template("checkout/checkout.html", form=form, cart=cart)
