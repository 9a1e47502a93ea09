"""The Midtrans webhook: store (a self-committing statement), enqueue, answer -- in milliseconds.

Midtrans never resends after a 2xx, retries a 503 four times and a 500 only once, and does not
follow 301/302/303. So: 200 only once the notification is committed, 503 for any trouble
before that, and never a redirect (the rule also matches with a trailing slash).
Optionally, only Midtrans's published source addresses may post (MIDTRANS_NOTIFICATION_ALLOWED_IPS);
Midtrans advises against relying on that, so it is off by default and the signature always decides.
"""
import ipaddress
import logging

from flask import Blueprint, abort, current_app, jsonify, request

from shop import metrics
from shop.extensions import csrf
from shop.payments import receiving
from shop.payments.gateway import NOTIFICATION_PATH

bp = Blueprint("payments", __name__)
log = logging.getLogger(__name__)

# A real notification is 1-3 KB; refund lists make it grow a little, never to this.
NOTIFICATION_MAX_BYTES = 64 * 1024


@bp.post(NOTIFICATION_PATH, strict_slashes=False)
@csrf.exempt
@metrics.WEBHOOK_SECONDS.time()
def midtrans_notification():
    if not source_allowed(request.remote_addr):
        log.warning("midtrans notification refused: forbidden_source %s; nothing read or stored",
                    request.remote_addr)
        metrics.count_webhook("refused", "forbidden_source")
        return jsonify(error="forbidden_source", message="This address may not send notifications."), 403
    if not sent_as_json():
        log.warning("midtrans notification refused: Content-Type %r", request.content_type)
        metrics.count_webhook("refused", "unsupported_media_type")
        return jsonify(error="unsupported_media_type", message="Content-Type must be application/json."), 415
    request.max_content_length = NOTIFICATION_MAX_BYTES
    body = request.get_data(cache=False)  # read once; 413 when Content-Length is above the limit
    if len(body) >= NOTIFICATION_MAX_BYTES:
        metrics.count_webhook("refused", "too_large")
        abort(413)  # a chunked body (no Content-Length) is cut at the limit by werkzeug, not refused
    try:
        stored = receiving.record_notification(body, queue=True)  # committed, then queued
    except receiving.DashboardTestNotification as test:
        return _dashboard_test(test)
    except receiving.NotificationError as error:
        return _refuse(error)
    except Exception:  # noqa: BLE001 -- nothing is stored: 503 makes Midtrans retry 4 times
        log.exception("midtrans notification not stored; answered 503")
        metrics.count_webhook("error", "unavailable")
        return jsonify(error="unavailable", message="Try again later."), 503
    metrics.count_webhook("stored", "", stored.transaction_status)
    return jsonify(status="received"), 200


def source_allowed(address: str | None) -> bool:
    """True when no allow-list is set, or `address` (the client, behind trusted proxies) is on it."""
    networks = current_app.config["MIDTRANS_NOTIFICATION_ALLOWED_IPS"]
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip  # "::ffff:8.215.30.222" on a dual-stack socket
    return any(ip in network for network in networks)


def sent_as_json() -> bool:
    """Midtrans (and the emulator) send `application/json`; a charset, if named, can only be UTF-8."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    return request.mimetype == "application/json" and charset in ("utf-8", "utf8")


def _dashboard_test(test: receiving.DashboardTestNotification):
    log.info("midtrans dashboard test notification order_id=%r signature_valid=%s; nothing changed",
             test.order_id, test.signature_valid)
    metrics.count_webhook("test", "" if test.signature_valid else "bad_signature")
    return jsonify(status="test notification received"), 200


def _refuse(error: receiving.NotificationError):
    log.warning("midtrans notification refused: %s (%s) from %s", error.code, error, request.remote_addr)
    metrics.count_webhook("refused", error.code)
    return jsonify(error=error.code, message=str(error)), error.http_status
