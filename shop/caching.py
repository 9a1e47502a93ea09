"""Cache keys of the pages that show an order's status, and how to clear them.

Pages are cached under explicit keys (not flask-caching's path-only `view//...` keys) so that a
shopper's page is keyed by its owner too: one shopper's cached page is never served to another.
The shopper's order page is cached whole and served without any SQL (`cached_for_owner`); the
order list and the dashboard cache their main content (`cached_html`). docs/pages.md says why
each is safe.
"""
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Response, current_app, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from shop.extensions import cache, login_manager
from shop.numbers import ascii_digits

ORDER_PAGE = "page:/orders/{order_id}:user={user_id}:session={session}"
# A random value every cached order page of one shopper is stored with: deleting it retires them all.
SHOPPER_TOKEN = "page:/orders/*:user={user_id}:token"
ORDER_LIST = "page:/orders:user={user_id}"
DASHBOARD_LIST = "page:/dashboard/pesanan"
DASHBOARD_DETAIL = "page:/dashboard/pesanan/detail-pesanan/{order_id}"
# Cached HTML holds this instead of a CSRF token; each response puts the reader's own token in.
CSRF_PLACEHOLDER = "__csrf_token_filled_in_per_request__"
# The hidden field exactly as the templates write it; only this whole field is ever filled in.
# Shopper text is autoescaped: it can hold the placeholder but never `<` or `"`, so a name or an
# address that carries the placeholder stays the placeholder and never shows a reader's token.
CSRF_FIELD = '<input type="hidden" name="csrf_token" value="{}">'
# Session entries no page shows (the CSRF secret, Flask-Login's freshness bookkeeping): kept out
# of the key. Everything else in the session (the user and session version, the cart) is in it.
NOT_SHOWN = frozenset({"csrf_token", "_fresh", "_id", "stream_holder"})


def order_page_keys(order_id: int, user_id: int) -> list[str]:
    """What to delete when this order changes: the four cached pages that show its status."""
    return [
        SHOPPER_TOKEN.format(user_id=user_id),
        ORDER_LIST.format(user_id=user_id),
        DASHBOARD_LIST,
        DASHBOARD_DETAIL.format(order_id=order_id),
    ]


def clear_order_pages(order_id: int, user_id: int) -> None:
    """Drop the cached pages of one order (call after the commit that changed it)."""
    keys = order_page_keys(order_id, user_id)
    backend = cache.cache
    client = getattr(backend, "_write_client", None)  # cachelib's Redis backends
    if client is None:
        cache.delete_many(*keys)
        return
    # One DEL: cachelib's delete_many then asks Redis key by key which ones went (four more round
    # trips per status change, a tenth of the notification task's time).
    prefix = backend._get_prefix()
    client.delete(*(prefix + key for key in keys))


def clear_shopper_pages(user_id: int) -> None:
    """Retire every cached order page of one shopper (call after the commit that ended their sessions)."""
    cache.delete(SHOPPER_TOKEN.format(user_id=user_id))


def private(body: str) -> Response:
    """A page for one signed-in person: browsers may keep it but must ask again before showing it."""
    response = current_app.make_response(body)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def with_csrf_token(html: str) -> str:
    """Cached HTML with this reader's CSRF token in each hidden field that holds the placeholder."""
    field = CSRF_FIELD.format(CSRF_PLACEHOLDER)
    return html.replace(field, CSRF_FIELD.format(generate_csrf())) if field in html else html


def without_csrf_token(html: str) -> str | None:
    """Rendered HTML with this reader's token swapped for the placeholder; None if it shows it elsewhere."""
    token = generate_csrf()
    html = html.replace(CSRF_FIELD.format(token), CSRF_FIELD.format(CSRF_PLACEHOLDER))
    return None if token in html else html


def cached_html(key: str, stamp: str, render: Callable[[], str]) -> Markup:
    """The HTML cached under `key`, rendered again when missing or when `stamp` changed.

    `stamp` is a cheap summary of what the page shows (e.g. the order's status and updated_at).
    It closes the race in which a request renders the old status, the task commits and clears
    the key, and the request then stores the old page: the stored stamp no longer matches.
    """
    entry = cache.get(key)
    if entry is None or entry.get("stamp") != stamp:
        entry = {"stamp": stamp, "html": render()}
        cache.set(key, entry)
    html = with_csrf_token(entry["html"])
    return Markup(html)


@dataclass(frozen=True)
class SignedVisitor:
    """Who the signed session cookie says this is; nothing here has been checked against the database."""

    user_id: int
    login_id: str  # Flask-Login's "user id:session version"
    session_digest: str


def signed_visitor() -> SignedVisitor | None:
    """The visitor the session names, or None when the page must be rendered (flash messages wait)."""
    protection = current_app.config.get("SESSION_PROTECTION", login_manager.session_protection)
    if "_flashes" in session or protection == "strong":  # "strong" may end the session: ask Flask-Login
        return None
    login_id = str(session.get("_user_id", ""))
    user_id, _, version = login_id.partition(":")
    if not (ascii_digits(user_id) and ascii_digits(version)):
        return None
    shown = {name: value for name, value in session.items() if name not in NOT_SHOWN}
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return SignedVisitor(int(user_id), login_id, digest)


def cached_for_owner(key: str):
    """Serve the view's whole page from the cache when the signed session alone vouches for it.

    Only for views that answer 200 after they checked that the signed-in user owns what `key`
    names. A hit is one Redis round trip (MGET of the page and its owner's token) and no SQL.

    Race-free without a database stamp: the token is read (or created) before the view reads
    the database, and a change deletes it after its commit. A page rendered from data older
    than a commit was therefore stored under a token that the commit's delete retired; a new
    token is random, so the old one never comes back. Between the commit and the delete the
    old page can still be served, as with any cache cleared after a commit.
    """
    def decorate(view):
        @wraps(view)
        def serve(**args):
            visitor = signed_visitor()
            if visitor is None:
                return view(**args)
            page_key = key.format(**args, user_id=visitor.user_id, session=visitor.session_digest)
            token_key = SHOPPER_TOKEN.format(user_id=visitor.user_id)
            entry, token = cache.get_many(page_key, token_key)
            if token is not None and entry is not None and entry[0] == token:
                return private(with_csrf_token(entry[1]))
            token = token or _new_token(token_key)
            response = view(**args)
            html = _checked_page_for(visitor, response) and without_csrf_token(response.get_data(as_text=True))
            if token is not None and html:
                cache.set(page_key, (token, html))
            return response
        return serve
    return decorate


def _new_token(token_key: str) -> str | None:
    """A fresh token for a shopper who has none; None when another request made one meanwhile."""
    token = secrets.token_hex(16)
    return token if cache.add(token_key, token) else None


def _checked_page_for(visitor: SignedVisitor, response: Response) -> bool:
    """A page the view rendered for the user the session names, at the session version it names."""
    return (response.status_code == 200 and response.mimetype == "text/html"
            and current_user.is_authenticated and current_user.get_id() == visitor.login_id)
