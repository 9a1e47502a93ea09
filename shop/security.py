"""Security headers on every response, and the client's address behind trusted proxies."""
from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy() -> str:
    # Checkout answers a form POST with a redirect to Snap; browsers check form-action on that redirect.
    snap = origin_of(current_app.config["MIDTRANS_SNAP_BASE_URL"])
    form_targets = " ".join(filter(None, ["'self'", snap]))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        f"form-action {form_targets}",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ])


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["SHOP_PRODUCTION"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def trust_proxies(app: Flask) -> None:
    """Behind N proxies, take the client's address and scheme from their X-Forwarded-* headers.

    Only as many as are really in front: with more, a client could forge its own address.
    """
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
    trust_proxies(app)
