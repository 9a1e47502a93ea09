"""The emulated Midtrans endpoints and pages, mounted at EMULATOR_PREFIX.

Core API answers carry their outcome in the body's status_code (404 unknown, 412 not allowed,
407 expired) with HTTP 200, as Midtrans does for an unknown order on GET status; only a bad
server key gets HTTP 401.
"""
import base64
import hmac
import ipaddress
import uuid
from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from shop.emulator import notifications as shapes
from shop.emulator import refunds, services
from shop.emulator.store import StatusNotAllowed, TokenUnusable

bp = Blueprint("midtrans_emulator", __name__)

SNAP_401 = {"error_messages": [
    "Access denied due to unauthorized transaction, please check client or server key",
    "Visit https://snap-docs.midtrans.com/#request-headers for more details",
]}
CORE_401 = {"status_code": "401",
            "status_message": "Transaction cannot be authorized with the current client/server key."}
NOT_ALLOWED = {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}
DUPLICATE_REFUND = {"status_code": "406", "status_message": "Duplicate refund ID"}


@bp.before_request
def loopback_only():
    """Anyone who reaches the emulator can pay any order: it answers this machine alone unless
    MIDTRANS_EMULATOR_ALLOW_REMOTE is on (say, a phone on the LAN trying the payment page)."""
    if current_app.config.get("MIDTRANS_EMULATOR_ALLOW_REMOTE") or is_loopback(request.remote_addr):
        return None
    abort(403, description="Emulator Midtrans hanya melayani komputer ini (127.0.0.1). "
                           "Setel MIDTRANS_EMULATOR_ALLOW_REMOTE=1 untuk mengizinkan alamat lain.")


def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def server_key_given() -> bool:
    """Basic auth with the server key as user name and an empty password."""
    header = request.headers.get("Authorization", "")
    expected = "Basic " + base64.b64encode(f"{services.settings().server_key}:".encode()).decode()
    return hmac.compare_digest(header.encode(), expected.encode())


def not_found() -> dict:
    return {"status_code": "404", "status_message": "Transaction doesn't exist.", "id": str(uuid.uuid4())}


# --- Snap and Core API (CSRF-exempt; authenticated by the server key) -------------------------

@bp.post("/snap/v1/transactions")
def snap_create():
    if not server_key_given():
        return SNAP_401, 401
    try:
        return services.create_snap_transaction(request.get_json(silent=True), request.headers), 201
    except services.SnapRejected as exc:
        return {"error_messages": exc.messages}, 400


SNAP_CLOSE_REFUSED = {"already": (409, "token already canceled"), "in_progress": (409, "Transaction is in progress"),
                      "not_found": (404, "token not found")}


@bp.post("/snap/v1/transactions/<token>/cancel")
def snap_close(token: str):
    """Snap's session cancel. Midtrans documents its answers' bodies, not their HTTP statuses."""
    if not server_key_given():
        return SNAP_401, 401
    outcome = services.settings().store.close_token(token)
    if outcome == "closed":
        return {"canceled_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    status, message = SNAP_CLOSE_REFUSED[outcome]
    return {"error_messages": [message]}, status


@bp.get("/v2/<ident>/status")
def status(ident: str):
    if not server_key_given():
        return CORE_401, 401
    record = services.settings().store.find_transaction(ident)
    if record is None or record.body is None:
        return not_found()
    return shapes.status_response(record.body)


@bp.post("/v2/<ident>/cancel")
def cancel(ident: str):
    return _core_change(services.cancel, ident)


@bp.post("/v2/<ident>/expire")
def expire(ident: str):
    return _core_change(services.expire, ident)


@bp.post("/v2/<ident>/approve")
def approve(ident: str):
    return _core_change(refunds.approve, ident)


@bp.post("/v2/<ident>/deny")
def deny(ident: str):
    return _core_change(refunds.deny, ident)


@bp.post("/v2/<ident>/refund")
def refund(ident: str):
    return _core_change(lambda found: refunds.refund(found, request.get_json(silent=True)), ident)


def _core_change(change, ident: str):
    if not server_key_given():
        return CORE_401, 401
    try:
        answer, _dispatch = change(ident)
    except LookupError:
        return not_found()
    except StatusNotAllowed:
        return NOT_ALLOWED
    except refunds.DuplicateRefund:
        return DUPLICATE_REFUND
    except refunds.RefundRejected as exc:
        return {"status_code": "414", "status_message": f"Refund rejected: {exc}"}
    return answer


@bp.get("/v2/<payment_type>/<ident>/qr-code")
def qr_code(payment_type: str, ident: str):
    """The QR image of a GoPay or QRIS transaction, at the URL of Midtrans's `generate-qr-code` action."""
    record = services.settings().store.find_transaction(ident)
    method = shapes.METHODS.get(record.txn.method) if record else None
    if method is None or method.payment_type != payment_type or payment_type not in ("gopay", "qris"):
        abort(404)
    return Response(services.qr_png(record), mimetype="image/png")


API_VIEWS = (snap_create, snap_close, status, cancel, expire, approve, deny, refund)


# --- pages for a person ----------------------------------------------------------------------

@bp.get("/snap/v3/redirection/<token>")
def payment_page(token: str):
    snap = services.settings().store.find_token(token)
    if snap is None:
        abort(404)
    record = services.settings().store.find_transaction(snap.order_id)
    return render_template("emulator/pay.html", snap=snap, record=record, outcomes=shapes.OUTCOMES, labels=shapes.METHODS,
                           methods=services.methods_for(snap))


@bp.post("/snap/v3/redirection/<token>")
def choose(token: str):
    try:
        record, bodies, _dispatch = services.choose(token, request.form.get("method", ""),
                                                    request.form.get("outcome", ""))
    except services.ChoiceRejected as exc:
        return render_template("emulator/message.html", title="Pilihan tidak valid", message=str(exc)), 400
    except TokenUnusable:
        message = "Halaman pembayaran ini sudah tidak berlaku: metode sudah dipilih, atau ada halaman yang lebih baru."
        return render_template("emulator/message.html", title="Token tidak berlaku", message=message), 409
    return redirect(services.finish_redirect(record, bodies[-1]))


@bp.get("/transactions")
def transactions():
    store = services.settings().store
    records = store.recent_transactions()
    return render_template("emulator/transactions.html", records=records, methods=shapes.METHODS,
                           deliveries={r.txn.order_id: store.deliveries(r.txn.order_id) for r in records})


@bp.post("/transactions/<order_id>/settle")
def settle(order_id: str):
    return _page_change(services.settle, order_id)


@bp.post("/transactions/<order_id>/expire")
def expire_now(order_id: str):
    return _page_change(services.expire, order_id)


def _page_change(change, order_id: str):
    try:
        change(order_id)
    except LookupError:
        abort(404)
    except StatusNotAllowed as exc:
        message = f"{order_id} berstatus {exc}; hanya transaksi yang masih menunggu yang bisa dibayar atau dibuat kedaluwarsa."
        return render_template("emulator/message.html", title="Tidak bisa", message=message), 409
    return redirect(url_for(".transactions"))
