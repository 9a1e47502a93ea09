"""Cache keys of the pages that show an order's status, and how to clear them.

Pages are cached under explicit keys (not flask-caching's path-only `view//...` keys) so that a
shopper's page is keyed by its owner too: one shopper's cached page is never served to another.
"""
from shop.extensions import cache

ORDER_PAGE = "page:/orders/{order_id}:user={user_id}"
ORDER_LIST = "page:/orders:user={user_id}"
DASHBOARD_LIST = "page:/dashboard/pesanan"
DASHBOARD_DETAIL = "page:/dashboard/pesanan/detail-pesanan/{order_id}"


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
