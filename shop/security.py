"""Security headers on every response, the session cookie's signing, and the client's address behind proxies."""
import logging
import os
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy() -> str:
    # Checkout answers a form POST with a redirect to Snap; browsers check form-action on that redirect.
    snap = origin_of(current_app.config["MIDTRANS_SNAP_BASE_URL"])
    form_targets = " ".join(filter(None, ["'self'", snap]))
    # The order page shows Midtrans's QR image of a GoPay/QRIS payment, served by its Core API.
    images = " ".join(filter(None, ["'self'", "data:", origin_of(midtrans_api_url())]))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        "connect-src 'self'",
        f"form-action {form_targets}",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ])


def midtrans_api_url() -> str:
    config = current_app.config
    if config["MIDTRANS_API_BASE_URL"]:
        return config["MIDTRANS_API_BASE_URL"]
    return "https://api.midtrans.com" if config["MIDTRANS_IS_PRODUCTION"] else "https://api.sandbox.midtrans.com"


def security_headers() -> list[tuple[str, str]]:
    headers = [("Content-Security-Policy", content_security_policy()), ("X-Content-Type-Options", "nosniff"),
               ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin")]
    if current_app.config["SHOP_PRODUCTION"]:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def add_security_headers(response: Response) -> Response:
    """Each header unless the view set its own. Built once per configuration (every response pays this)."""
    config = current_app.config
    key = (config["MIDTRANS_SNAP_BASE_URL"], config["MIDTRANS_API_BASE_URL"], config["SHOP_PRODUCTION"])
    cached = current_app.extensions.get("security_headers")
    if cached is None or cached[0] != key:
        cached = current_app.extensions["security_headers"] = (key, security_headers())
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for name, value in cached[1]:
        if name.lower() not in present:
            headers.add(name, value)
    return response


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with less work per request than Flask's own.

    The signing serializer is built once per key, not per request; a request without any
    cookie (Midtrans, health checks) starts an empty session without parsing cookies; and a
    session nobody read or changed is not saved (Flask would work out the cookie's settings to
    do nothing with them). What goes out is the same.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = getattr(self, "_serializer", None)
        if cached is None or cached[0] != key:
            cached = self._serializer = (key, super().get_signing_serializer(app))
        return cached[1]


def trust_proxies(app: Flask) -> None:
    """Behind N proxies, take the client's address and scheme from their X-Forwarded-* headers.

    Only as many as are really in front: with more, a client could forge its own address.
    """
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


UNTRUSTED_PROXY = ("TRUSTED_PROXY_COUNT is 0 but %s: behind a proxy every client then has the proxy's address, "
                   "so the per-address log-in limits count everybody together. Set TRUSTED_PROXY_COUNT to the "
                   "number of proxies in front of the shop (1 behind Heroku's router or one nginx).")


def warn_of_untrusted_proxies(app: Flask) -> None:
    """In production with no proxy trusted: warn at start-up if that was not said explicitly, and at
    the first request that comes through a proxy anyway (it carries X-Forwarded-For)."""
    if not app.config["SHOP_PRODUCTION"] or app.config["TRUSTED_PROXY_COUNT"]:
        return
    if not os.environ.get("TRUSTED_PROXY_COUNT", "").strip():
        log.warning(UNTRUSTED_PROXY, "it is not set")
    warned = []

    @app.before_request
    def _forwarded_request_seen():
        if not warned and "X-Forwarded-For" in request.headers:
            warned.append(True)
            log.warning(UNTRUSTED_PROXY, "requests carry X-Forwarded-For")


def register(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.after_request(add_security_headers)
    trust_proxies(app)
    warn_of_untrusted_proxies(app)
