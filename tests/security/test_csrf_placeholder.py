"""The cached pages' CSRF placeholder cannot be planted: shopper text that carries it shows the
placeholder, never the reader's token (it used to be replaced wherever it stood, text included)."""
import re

from shop.caching import CSRF_PLACEHOLDER
from tests.factories import OrderFactory, UserFactory

PLANTED = f'{CSRF_PLACEHOLDER} <input type="hidden" name="csrf_token" value="{CSRF_PLACEHOLDER}">'


def logged_in(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user.get_id(), True
    return client


def tokens_in_fields(page: str) -> set[str]:
    return set(re.findall(r'<input type="hidden" name="csrf_token" value="([^"]+)">', page))


def assert_token_only_in_fields(page: str) -> None:
    tokens = tokens_in_fields(page)
    assert tokens and CSRF_PLACEHOLDER not in tokens  # the forms work
    outside = re.sub(r'<input type="hidden" name="csrf_token" value="[^"]+">', "", page)
    assert not any(token in outside for token in tokens)  # and the token is nowhere else
    assert outside.count(CSRF_PLACEHOLDER) >= 2  # the planted text, shown as typed


def test_a_planted_placeholder_on_the_dashboard_never_shows_the_admins_token(app):
    shopper = UserFactory(name=CSRF_PLACEHOLDER)
    order = OrderFactory(user=shopper, shipping_name=CSRF_PLACEHOLDER, shipping_address=PLANTED)
    admin = logged_in(app, UserFactory(is_admin=True))
    for _ in range(2):  # rendered, then served from the cache
        page = admin.get(f"/dashboard/pesanan/detail-pesanan/{order.id}").get_data(as_text=True)
        assert_token_only_in_fields(page)


def test_a_planted_placeholder_on_the_cached_order_page_stays_text(app):
    owner = UserFactory(name=CSRF_PLACEHOLDER)
    order = OrderFactory(user=owner, shipping_name=CSRF_PLACEHOLDER, shipping_address=PLANTED)
    client = logged_in(app, owner)
    pages = [client.get(f"/orders/{order.id}").get_data(as_text=True) for _ in range(2)]
    for page in pages:
        assert_token_only_in_fields(page)
    assert pages[0] == pages[1]  # the second came from the cache, with the same token filled in
