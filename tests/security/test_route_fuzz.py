"""Fuzz every form and query parameter of every shop route, as anonymous, a shopper and an admin.

Parameter names come from the shop's forms and from what views read from `request`, plus random
ones; values are any text (other scripts' digits included), huge, negative, empty, and repeated.
No answer may be a 5xx. EXAMPLES bounds the run (a few seconds).
"""
import inspect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

import shop.accounts.forms
import shop.checkout.forms
import shop.dashboard.forms
from shop.extensions import db
from tests.factories import OrderFactory, PaymentFactory, ProductFactory, UserFactory
from tests.security.routes import EMULATOR, ENDPOINTS

EXAMPLES = 500
ROLES = ("anonymous", "shopper", "admin")
# What views read from request.args / request.form themselves (the forms' fields are added below).
READ_BY_VIEWS = ["quantity", "product_id", "page", "next", "order_id", "method", "outcome", "csrf_token"]


def form_fields() -> list[str]:
    names = set()
    for module in (shop.accounts.forms, shop.checkout.forms, shop.dashboard.forms):
        for _, form in inspect.getmembers(module, inspect.isclass):
            names |= {name for name, value in vars(form).items() if isinstance(value, UnboundField)}
    return sorted(names)


PARAMETERS = sorted(set(form_fields() + READ_BY_VIEWS))
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
VALUES = (ANY_TEXT | st.integers(-10**30, 10**30).map(str) | st.sampled_from(["", " ", "-1", "0", "²", "①", "١٢", "１２",
          "1e9", "0x10", "NaN", "2026-02-30", "9" * 5000, "x" * 70_000, "\x00", "%00", "../.."])
          | st.floats(allow_nan=True).map(str))
PARAMS = st.lists(st.tuples(st.sampled_from(PARAMETERS) | ANY_TEXT, VALUES), max_size=6)  # names may repeat


@pytest.fixture
def world():
    shopper, admin = UserFactory(), UserFactory(is_admin=True)
    order = OrderFactory(user=shopper)
    payment = PaymentFactory(order=order)
    product = ProductFactory()
    db.session.commit()  # into the test's outer transaction: a view's rollback must not undo it
    values = {"sku": product.sku, "order_id": order.id, "payment_id": payment.id, "notification_id": 1,
              "filename": "shop.css", "token": "t", "ident": "i"}
    return {"shopper": shopper, "admin": admin, "values": values}


def routes(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if ENDPOINTS.get(rule.endpoint) != EMULATOR:
            found += [(rule.endpoint, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def client_as(app, world, role: str):
    client = app.test_client()
    user = world.get(role)
    if user is not None:
        db.session.refresh(user)  # a fuzzed log-out bumped its session version
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user.get_id(), True
    return client


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data(), role=st.sampled_from(ROLES), query=PARAMS, form=PARAMS)
def test_no_parameter_gives_a_5xx(app, world, data, role, query, form):
    endpoint, method = data.draw(st.sampled_from(routes(app)))
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        path = app.url_for(endpoint, **{name: world["values"][name] for name in rule.arguments})
    response = client_as(app, world, role).open(path, method=method, query_string=MultiDict(query),
                                                data=MultiDict(form) if method == "POST" else None)
    response.close()  # a status stream is not read to its end
    assert response.status_code < 500, (role, method, path, query, form, response.status_code)
