"""Cache keys of the pages that show an order's status, and how to clear them.

Pages are cached under explicit keys (not flask-caching's path-only `view//...` keys) so that a
shopper's page is keyed by its owner too: one shopper's cached page is never served to another.
"""
from collections.abc import Callable

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from shop.extensions import cache

ORDER_PAGE = "page:/orders/{order_id}:user={user_id}"
ORDER_LIST = "page:/orders:user={user_id}"
DASHBOARD_LIST = "page:/dashboard/pesanan"
DASHBOARD_DETAIL = "page:/dashboard/pesanan/detail-pesanan/{order_id}"
# Cached HTML holds this instead of a CSRF token; each response puts the reader's own token in.
CSRF_PLACEHOLDER = "__csrf_token_filled_in_per_request__"


def order_page_keys(order_id: int, user_id: int) -> list[str]:
    """The four cached pages that show this order's status."""
    return [
        ORDER_PAGE.format(order_id=order_id, user_id=user_id),
        ORDER_LIST.format(user_id=user_id),
        DASHBOARD_LIST,
        DASHBOARD_DETAIL.format(order_id=order_id),
    ]


def clear_order_pages(order_id: int, user_id: int) -> None:
    """Drop the cached pages of one order (call after the commit that changed it)."""
    cache.delete_many(*order_page_keys(order_id, user_id))


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
    html = entry["html"]
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, generate_csrf())
    return Markup(html)
