"""Output: names and addresses with HTML in them render as text; autoescaping is on for every template."""
import re
from pathlib import Path

import pytest

from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderLine
from shop.payments import emails
from tests.factories import OrderFactory, ProductFactory, UserFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "shop" / "templates"
SHOP_CODE = Path(__file__).resolve().parents[2] / "shop"
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def shopper_with_bad_product(client):
    user = UserFactory(name=f"Budi {IMG}")
    product = ProductFactory(name=SCRIPT, description=IMG, price=50000, stock=5)
    db.session.commit()  # into the test's outer transaction: a view's rollback must not undo it
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user.get_id(), True
    return product


def test_catalog_cart_and_checkout_show_html_in_a_name_as_text(client, shopper_with_bad_product):
    product = shopper_with_bad_product
    added = client.post("/keranjang/tambah", data={"product_id": product.id, "quantity": 1}, follow_redirects=True)
    pages = {"catalog": client.get("/"), f"product {product.sku}": client.get(f"/produk/{product.sku}"),
             "cart after adding (with its flash message)": added, "checkout": client.get("/checkout")}
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert ESCAPED_SCRIPT in page, name
        assert SCRIPT not in page and "<img src=x" not in page, name


def test_an_address_with_html_is_shown_back_as_text_in_the_checkout_form(client, shopper_with_bad_product):
    client.post("/keranjang/tambah", data={"product_id": shopper_with_bad_product.id, "quantity": 1})
    address = f"Jl. Merdeka 1 {SCRIPT}</textarea>{IMG}"
    page = client.post("/checkout", data={"name": f"Budi {IMG}", "phone": "bukan nomor", "address": address})
    text = page.get_data(as_text=True)
    assert "Nomor telepon tidak valid" in text  # refused, so the form is shown again with what was typed
    assert "</textarea><img" not in text and SCRIPT not in text
    assert "&lt;/textarea&gt;&lt;img src=x onerror=" in text


def test_the_payment_email_shows_html_in_names_and_address_as_text():
    product = ProductFactory(name=SCRIPT)
    order = OrderFactory(user__name=f"Budi {IMG}", shipping_address=f"Jl. Merdeka {SCRIPT}", lines=[],
                         paid_at=utcnow())
    order.lines.append(OrderLine(product=product, sku=product.sku, name=product.name, unit_price=1, quantity=1))
    db.session.flush()
    message = emails.paid(f"order:{order.id}")
    html = message.html
    assert SCRIPT not in html and "<img src=x" not in html
    assert html.count(ESCAPED_SCRIPT) == 2  # the line's name and the address
    assert SCRIPT in message.body  # the plain-text part is text: nothing to escape there


def test_every_html_template_is_autoescaped(app):
    names = [p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")]
    assert len(names) >= 15
    assert [name for name in names if not app.jinja_env.autoescape(name)] == []


# The page cache keeps HTML that Jinja rendered (autoescaped) and puts it back with Markup: these
# lines, and only these, may mark a string safe -- each wraps the output of render_template.
RENDERED_HTML_IS_SAFE = re.compile(r"^\s*(from markupsafe import Markup"
                                   r"|return Markup\(html\)"
                                   r"|body = Markup\(_render_\w+\(filters, page\)\)"
                                   r"|body = Markup\(_render_\w+\(page\)\)"
                                   r"|def cached_html\(.*\) -> Markup:)\s*$")


def test_no_template_or_module_switches_escaping_off():
    risky = re.compile(r"\|\s*safe\b|autoescape\s+false|Markup\(|markupsafe|render_template_string|-> Markup")
    files = list(TEMPLATES.rglob("*.html")) + list(TEMPLATES.rglob("*.txt")) + list(SHOP_CODE.rglob("*.py"))
    offenders = [f"{path}: {line.strip()}" for path in files for line in path.read_text().splitlines()
                 if risky.search(line) and not RENDERED_HTML_IS_SAFE.match(line)]
    assert offenders == []
