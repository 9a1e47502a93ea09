"""Every page a shopper, an admin or a developer (the emulator) opens, on a 360 px phone and a 1280 px
desktop, as the user who sees it: no sideways scroll, no serious or critical axe-core violation, and
nothing it loads (stylesheet, script, favicon) answers an error.

The width and axe result of each page are printed after the run (and written to LAYOUT_REPORT when set).
"""
import pytest
import requests

from shop.emulator import make_emulator_app
from shop.extensions import db
from tests.browser.conftest import log_in
from tests.browser.helpers import screenshot
from tests.browser.layout import VIEWPORTS, measure
from tests.browser.server import database_uri, start_gunicorn, stop
from tests.browser.site import PENDING_PAYMENTS, build_site
from tests.emulator.conftest import LiveServer, basic_auth
from tests.emulator.helpers import PREFIX, snap_payload


def add_to_cart(page, site):
    page.goto(f"/produk/{site.sku}")
    with page.expect_navigation():
        page.get_by_role("button", name="Tambah ke keranjang").click()


def submit_empty(form_path: str, button: str):
    """A form sent empty: the page again, with the server's Indonesian message under each field."""
    def setup(page, site):
        if form_path == "/checkout":
            add_to_cart(page, site)
        page.goto(form_path)
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()
        assert page.locator(".field-error").first.text_content() == "Wajib diisi."
    return setup


def post_to_used_token(page, urls):
    """The emulator's message page: choosing again on a page whose method was already chosen."""
    page.goto(urls["pay-used"])
    with page.expect_navigation():
        page.evaluate("url => { const f = document.createElement('form'); f.method = 'post'; f.action = url;"
                      " document.body.append(f); f.submit(); }", urls["pay-used"])


# name -> (who opens it, its address from the site and the emulator's urls, what to do first)
PAGES = {
    "catalog": ("anonymous", lambda s, e: "/", None),
    "product": ("anonymous", lambda s, e: f"/produk/{s.sku}", None),
    "login": ("anonymous", lambda s, e: "/login", None),
    "register": ("anonymous", lambda s, e: "/daftar", None),
    "register-errors": ("anonymous", None, submit_empty("/daftar", "Daftar")),
    "forgot-password": ("anonymous", lambda s, e: "/lupa-sandi", None),
    "reset-link-unusable": ("anonymous", lambda s, e: "/lupa-sandi/bukan-token-yang-sah", None),
    "error-404": ("anonymous", lambda s, e: "/tidak-ada", None),
    "cart": ("shopper", lambda s, e: "/keranjang", add_to_cart),
    "checkout": ("shopper", lambda s, e: "/checkout", add_to_cart),
    "checkout-errors": ("shopper", None, submit_empty("/checkout", "Bayar dengan Midtrans")),
    "order-list": ("shopper", lambda s, e: "/orders", None),
    **{f"order-{name}": ("shopper", lambda s, e, name=name: f"/orders/{s.orders[name]}", None)
       for name in [*PENDING_PAYMENTS, "unchosen", "review", "failed", "paid"]},
    "dashboard-list": ("admin", lambda s, e: "/dashboard/pesanan", None),
    "dashboard-search": ("admin", lambda s, e: "/dashboard/pesanan?q=siti&status=PENDING", None),
    "dashboard-bad-filter": ("admin", lambda s, e: "/dashboard/pesanan?date_from=2026-02-01&date_to=2026-01-01", None),
    "dashboard-detail": ("admin", lambda s, e: f"/dashboard/pesanan/detail-pesanan/{s.orders['paid']}", None),
    "emulator-pay": ("anonymous", lambda s, e: e["pay"], None),
    "emulator-transactions": ("anonymous", lambda s, e: e["transactions"], None),
    "emulator-message": ("anonymous", None, post_to_used_token),
}


@pytest.fixture(scope="module")
def site(app, live_app):
    with app.app_context():
        built = build_site()
        yield built
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture(scope="module")
def server(app, site, tmp_path_factory):
    process, url = start_gunicorn(database_uri(app), tmp_path_factory.mktemp("gunicorn") / "pages.log", push=False)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def logins(browser, server, site):
    """Each user's cookies, logged in once through the form."""
    states = {"anonymous": None}
    for role, user in (("shopper", site.shopper), ("admin", site.admin)):
        context = browser.new_context(base_url=server)
        log_in(context.new_page(), user.email)
        states[role] = context.storage_state()
        context.close()
    return states


@pytest.fixture(scope="module")
def emulator_urls(tmp_path_factory):
    """The emulator alone, with a fresh payment page, one already used, and its transactions page."""
    app = make_emulator_app({"MIDTRANS_EMULATOR_DB": str(tmp_path_factory.mktemp("emulator") / "emulator.sqlite3"),
                             "MIDTRANS_SERVER_KEY": "SB-Mid-server-test", "MIDTRANS_EMULATOR_RETRY_DELAYS": (0.0,),
                             "MIDTRANS_EMULATOR_NOTIFICATION_URL": "http://127.0.0.1:9/notify"})
    with LiveServer(app) as live:
        app.config["BASE_URL"] = live.url
        base = live.url + PREFIX
        fresh, used = (_snap_page(base, f"TK-{n}-1-9f3a61c2") for n in (4182, 4183))
        requests.post(used, data={"method": "bca_va", "outcome": "pending"}, allow_redirects=False, timeout=10)
        yield {"pay": fresh, "pay-used": used, "transactions": base + "/transactions"}


def _snap_page(base: str, order_id: str) -> str:
    answer = requests.post(base + "/snap/v1/transactions", json=snap_payload(order_id, 2_500_000),
                           headers=basic_auth(), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["redirect_url"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_the_screen_and_passes_axe(name, viewport, browser, server, site, logins, emulator_urls):
    who, address, setup = PAGES[name]
    context = browser.new_context(base_url=server, viewport=VIEWPORTS[viewport], storage_state=logins[who],
                                  bypass_csp=True)  # axe-core is injected as an inline script
    try:
        page = context.new_page()
        failed = []  # what the page loads besides itself (stylesheet, script, favicon) and failed
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document" else None)
        if setup:
            setup(page, emulator_urls if name.startswith("emulator") else site)
        if address:
            page.goto(address(site, emulator_urls))
        page.wait_for_load_state("load")
        found = measure(page, name, viewport)
        screenshot(page, f"{name}-{viewport}.png")
    finally:
        context.close()
    assert found.fits, f"{name} at {viewport} is {found.scroll_width} px wide"
    assert not found.blocking, f"{name} at {viewport}: {found.blocking}"
    assert failed == []


def test_the_first_tab_shows_the_skip_link_and_every_focus_is_visible(browser, server, site):
    context = browser.new_context(base_url=server, viewport=VIEWPORTS["360x740"])
    try:
        page = context.new_page()
        page.goto(f"/produk/{site.sku}")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Langsung ke isi")
        assert page.evaluate("document.activeElement.textContent") == "Langsung ke isi"
        box = skip.bounding_box()
        assert box["y"] >= 0 and box["x"] >= 0  # on screen once focused, not parked above it
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "isi"
        for expected in ("quantity", "Tambah ke keranjang"):  # what follows in the content
            page.keyboard.press("Tab")
            assert expected in page.evaluate("document.activeElement.outerHTML")
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid", page.evaluate("document.activeElement.outerHTML")
    finally:
        context.close()
