"""The staff dashboard: every order, its payment attempts and the notifications behind them."""
import logging

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from shop.caching import DASHBOARD_DETAIL, DASHBOARD_LIST, cached_html
from shop.dashboard.forms import ManualRefundForm, OrderFilterForm, RefundForm
from shop.extensions import db, login_manager
from shop.models import utcnow
from shop import jakarta
from shop.dashboard import export, services, wording
from shop.operations.health import webhook_health
from shop.orders.services import get_order_for_admin, orders_stamp
from shop.payments import money_workflow, reconciling, refunding, reviewing
from shop.payments.announcing import announce_order_change
from shop.payments.gateway import MidtransError
from shop.payments.instructions import payment_method
from shop.payments.ledger import ledger_of, money_events, payment_actions
from shop.payments.timeline import order_timeline

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.before_request
def admins_only():
    """Every dashboard route: anonymous visitors go to the login; shoppers get a plain 404."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)  # as for another shopper's order: the area's existence is not confirmed
    return None


@bp.after_request
def not_shared(response):
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/")
def home():
    return redirect(url_for(".orders"))


@bp.get("/pesanan")
def orders():
    form = OrderFilterForm(formdata=request.args)
    if not form.validate():
        return _orders_page(form, None), 400
    filters, page = form.to_filter(), form.page.data or 1
    if filters.is_empty and page == 1:  # the default view is the one cached
        body = cached_html(DASHBOARD_LIST, orders_stamp(), lambda: _render_orders(filters, 1))
    else:
        body = Markup(_render_orders(filters, page))
    return _orders_page(form, body)


def _orders_page(form, body) -> str:
    """The list page around `body`; its CSV link carries the same filters."""
    return render_template("dashboard/orders.html", form=form, body=body, health=webhook_health(utcnow()),
                           csv_args={k: v for k, v in request.args.items() if k != "page"})


@bp.get("/pesanan.csv")
def orders_csv():
    """The orders the same filters show, every page of them, as a CSV file."""
    form = OrderFilterForm(formdata=request.args)
    if not form.validate():
        return _orders_page(form, None), 400
    name = f"pesanan-{utcnow().astimezone(jakarta.ZONE):%Y%m%d-%H%M}.csv"
    return Response(export.orders_csv(export.export_rows(form.to_filter())), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _render_orders(filters, page: int) -> str:
    found = services.search_orders(filters, page)
    return render_template(
        "dashboard/_orders.html", orders=found, totals=services.order_totals(filters),
        attention_total=services.count_needing_attention(),
        attention_ids={o.id for o in found.items if services.needs_attention(o)},
        args={k: v for k, v in request.args.items() if k != "page"})


@bp.get("/pesanan/detail-pesanan/<int:order_id>")
def order_detail(order_id: int):
    order = get_order_for_admin(order_id)
    key = DASHBOARD_DETAIL.format(order_id=order.id)
    body = cached_html(key, services.order_detail_stamp(order), lambda: _render_detail(order))
    return render_template("dashboard/order_detail.html", order=order, body=body)


def _render_detail(order) -> str:
    events, actions = money_events(order.id), payment_actions(order.id)
    return render_template(
        "dashboard/_order_detail.html", order=order, history=services.notification_history(order),
        attention=services.needs_attention(order), ledger=ledger_of(events, actions),
        timeline=order_timeline(order, events, actions), refund=refunding.refund_options(order),
        allowed=reviewing.allowed_actions(order), refund_form=RefundForm(formdata=None),
        manual_form=ManualRefundForm(formdata=None), words=wording, method_name=payment_method)


@bp.post("/pesanan/detail-pesanan/<int:order_id>/cek-status/<int:payment_id>")
def recheck(order_id: int, payment_id: int):
    """Ask Midtrans for the attempt's status now and apply the answer."""
    order = get_order_for_admin(order_id)
    payment = services.attempt_of(order, payment_id)
    return _run_payment_action(order, reconciling.recheck_payment, payment.id,
                               f"Status {payment.midtrans_order_id} sudah dicek ulang ke Midtrans.")


@bp.post("/pesanan/detail-pesanan/<int:order_id>/replay/<int:notification_id>")
def replay(order_id: int, notification_id: int):
    """Apply a stored notification again (e.g. after a fix)."""
    order = get_order_for_admin(order_id)
    notification = services.notification_of(order, notification_id)
    return _run_payment_action(order, reconciling.replay_notification, notification.id,
                               f"Notifikasi #{notification.id} sudah diputar ulang.")


def _run_payment_action(order, action, target_id: int, done: str):
    back = redirect(url_for(".order_detail", order_id=order.id), 303)
    try:
        check = action(target_id)
        db.session.commit()
    except MidtransError as error:
        db.session.rollback()
        log.warning("dashboard %s(%s) for order %s failed: %s", action.__name__, target_id, order.id, error)
        flash(f"Midtrans tidak bisa dihubungi atau menolak permintaan: {error}", "error")
        return back
    log.info("dashboard %s(%s) for order %s by user %s: %s", action.__name__, target_id, order.id,
             current_user.id, check.describe())
    announce_order_change(check.change)
    flash(f"{done} {wording.check_result(check)}", "success")
    return back


# --- giving money back, stopping and reviewing payments --------------------------------------

@bp.post("/pesanan/detail-pesanan/<int:order_id>/refund/konfirmasi")
def refund_confirm(order_id: int):
    """The confirmation step: what will be refunded, with the refund_key the confirmed form sends."""
    order = get_order_for_admin(order_id)
    form = RefundForm()
    if not form.validate():
        return _refused(order, _first_error(form))
    form.refund_key.data = refunding.new_refund_key(order.id)
    return render_template("dashboard/refund_confirm.html", order=order, form=form,
                           refund=refunding.refund_options(order))


@bp.post("/pesanan/detail-pesanan/<int:order_id>/refund")
def refund(order_id: int):
    """Refund through Midtrans (sent again with the same key while its answer is unknown)."""
    order = get_order_for_admin(order_id)
    form = RefundForm()
    if not form.validate() or not form.refund_key.data:
        return _refused(order, _first_error(form) or "Konfirmasi refund dulu.")
    asked = refunding.RefundRequest(order.id, form.amount.data, form.reason.data or "", current_user.email,
                                       form.refund_key.data, form.return_stock.data)
    return _money_action(order, lambda: money_workflow.refund(asked))


@bp.post("/pesanan/detail-pesanan/<int:order_id>/refund-manual")
def manual_refund(order_id: int):
    """Record a refund the merchant made by bank transfer."""
    order = get_order_for_admin(order_id)
    form = ManualRefundForm()
    if not form.validate():
        return _refused(order, _first_error(form))
    manual = money_workflow.ManualRefund(order.id, form.amount.data, form.reason.data or "", current_user.email,
                                         form.transfer_reference.data, form.transferred_on.data,
                                         form.return_stock.data)
    return _money_action(order, lambda: money_workflow.manual_refund(manual))


ACTION_URLS = {kind.value.lower(): kind for kind in reviewing.CALLS}  # cancel, expire, approve, deny


@bp.post("/pesanan/detail-pesanan/<int:order_id>/aksi/<kind>")
def payment_action(order_id: int, kind: str):
    """Cancel, expire, approve or deny the attempt that allows it."""
    order = get_order_for_admin(order_id)
    action = ACTION_URLS.get(kind) or abort(404)
    return _money_action(order, lambda: money_workflow.act(order.id, action, current_user.email))


def _money_action(order, run):
    try:
        result = run()
    except refunding.ActionRefused as refused:
        return _refused(order, str(refused))
    flash(result.message, "success" if result.ok else "error")
    return redirect(url_for(".order_detail", order_id=order.id), 303)


def _refused(order, message: str):
    """Back to the order's page, saying why nothing was done."""
    flash(message, "error")
    return redirect(url_for(".order_detail", order_id=order.id), 303)


def _first_error(form) -> str:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        return f"{label}: {errors[0]}"
    return ""
