"""The shopper's order pages, the status they poll or stream, and "pay again"."""
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect,
                   render_template, request, stream_with_context, url_for)
from flask_login import current_user, login_required
from markupsafe import Markup

from shop.caching import CSRF_PLACEHOLDER, ORDER_LIST, ORDER_PAGE, cached_for_owner, cached_html, private
from shop.checkout import workflow as checkout
from shop.checkout.services import CheckoutError
from shop.extensions import db
from shop.numbers import whole_number
from shop.orders import services
from shop.orders.models import OrderStatus
from shop.orders.push import status_events
from shop.orders.quota import stream_holders
from shop.payments import instructions
from shop.payments.ledger import order_ledger

bp = Blueprint("orders", __name__)
bp.add_app_template_global(CSRF_PLACEHOLDER, "csrf_placeholder")

POLL_SECONDS = 10
LAST_PAGE = 10_000


@bp.get("/orders")
@login_required
def index():
    page = page_number()
    if page == 1:  # the page with the latest orders is the one cached
        key = ORDER_LIST.format(user_id=current_user.id)
        body = cached_html(key, services.orders_stamp(current_user), lambda: _render_list(1))
    else:
        body = Markup(_render_list(page))
    return private(render_template("orders/index.html", body=body))


def _render_list(page: int) -> str:
    return render_template("orders/_list.html", orders=services.list_orders_for(current_user, page))


def page_number() -> int:
    page = whole_number(request.args.get("page", "1"), 1, LAST_PAGE)
    if page is None:
        abort(400, description="Nomor halaman tidak valid: gunakan angka 1 atau lebih.")
    return page


@bp.get("/orders/<int:order_id>")
@cached_for_owner(ORDER_PAGE)
@login_required
def show(order_id: int):
    # The Midtrans finish redirect appends order_id, status_code and transaction_status to this
    # URL. They are hints that can be stale or forged: the page shows only what we stored.
    order = services.get_order_for(current_user, order_id)
    push_on = "order_push" in current_app.extensions
    return private(render_template(
        "orders/show.html", poll_seconds=POLL_SECONDS,
        events_url=url_for(".events", order_id=order.id) if push_on else "",
        final_statuses=_final_statuses(), ledger=order_ledger(order.id), **instructions.status_area(order)))


def _final_statuses() -> str:
    return " ".join(s.value for s in OrderStatus if s.is_final)


@bp.get("/orders/<int:order_id>/status")
@login_required
def status(order_id: int):
    """The stored status, for the page's poll (never asks Midtrans).

    `fingerprint` changes whenever the page's status area would (the order's status, its latest
    attempt or that attempt's status: a method chosen while the order stays PENDING); the page
    then fetches the area from `status_area`.
    """
    order = services.get_order_for(current_user, order_id)
    payment = order.latest_payment
    response = jsonify(order_id=order.id, status=order.status.value, is_final=order.status.is_final,
                       payment_status=payment.status.value if payment else None,
                       fingerprint=instructions.fingerprint(order))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/orders/<int:order_id>/status-area")
@login_required
def status_area(order_id: int):
    """The page's status area as HTML, read from our database: what push, poll and Refresh Data swap in."""
    order = services.get_order_for(current_user, order_id)
    response = current_app.make_response(
        render_template("orders/_status_area.html", **instructions.status_area(order)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/orders/<int:order_id>/events")
@login_required
def events(order_id: int):
    """Server-Sent Events: the stored status, then every change, until it is final."""
    push = current_app.extensions.get("order_push") or abort(404)
    order_id = services.get_order_for(current_user, order_id).id
    if push.hub.count() >= current_app.config["STATUS_PUSH_MAX_STREAMS"]:
        # Keep connections free for everything else; the page's poll still shows the change.
        abort(503, description="Terlalu banyak halaman terbuka; status diperbarui tiap 10 detik.")
    holders = stream_holders()
    if not push.hub.quota.take(holders):
        abort(429, description="Terlalu banyak halaman status terbuka untuk akun ini; status diperbarui tiap 10 detik.")
    stream = push.hub.open(order_id)
    push.listen()
    # A stream can stay open for hours; it must not hold a database connection meanwhile.
    db.session.remove()
    body = status_events(stream, lambda: _read_status(order_id))
    response = Response(stream_with_context(body), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(lambda: (push.hub.close(order_id, stream), push.hub.quota.give_back(holders)))
    return response


def _read_status(order_id: int) -> OrderStatus:
    try:
        return services.order_status(order_id)
    finally:
        db.session.remove()


@bp.get("/orders/selesai")
@login_required
def finish():
    """Where a Midtrans finish URL without our order id lands: on to the order's own page."""
    midtrans_order_id = request.args.get("order_id", "")
    if not midtrans_order_id:
        return redirect(url_for(".index"))
    order = instructions.get_order_by_midtrans_id(current_user, midtrans_order_id)
    # Only a hint for the page's script (no "Lanjutkan pembayaran" while Midtrans's report is on its way).
    hint = {"transaction_status": request.args["transaction_status"][:20]} if request.args.get("transaction_status") else {}
    return redirect(url_for(".show", order_id=order.id, **hint))


@bp.post("/orders/<int:order_id>/bayar-lagi")
@login_required
def pay_again(order_id: int):
    """Start a new payment attempt (a new Midtrans order id) after a failed or expired one, or instead of an open one."""
    order = services.get_order_for(current_user, order_id)
    back = redirect(url_for(".show", order_id=order.id), 303)
    if not instructions.can_pay_again(order):
        flash("Pesanan ini tidak bisa dibayar ulang: pembayarannya tidak gagal, kedaluwarsa, "
              "atau menunggu Anda.", "error")
        return back
    try:
        payment = checkout.pay_again(order)
    except CheckoutError as error:
        flash(str(error), "error")
        return back
    if payment.redirect_url is None:
        flash(checkout.MESSAGE_NO_PAGE, "info")
        return back
    return redirect(payment.redirect_url, 303)
