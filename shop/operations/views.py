"""`/metrics` for Prometheus, behind its own credentials (METRICS_TOKEN or METRICS_BASIC_AUTH).

Without either: open in development, 404 in production (the route's existence is not confirmed).
"""
import base64
import hmac

from flask import Blueprint, Response, abort, current_app, request

from shop.operations.collector import scrape

bp = Blueprint("operations", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/metrics")
def metrics():
    allowed = scrape_allowed()
    if allowed is None:
        abort(404)
    if not allowed:
        return Response("Kredensial metrik diperlukan.\n", 401, {"WWW-Authenticate": 'Basic realm="metrics"'},
                        mimetype="text/plain")
    response = Response(scrape(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def scrape_allowed() -> bool | None:
    """True for the right credentials, False for wrong or none, None when /metrics is off (production, unset)."""
    config = current_app.config
    token, basic = config["METRICS_TOKEN"], config["METRICS_BASIC_AUTH"]
    if not token and not basic:
        return None if config["SHOP_PRODUCTION"] else True
    given = request.headers.get("Authorization", "")
    return bool(token and _same(given, f"Bearer {token}")
                or basic and _same(given, "Basic " + base64.b64encode(basic.encode()).decode()))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
