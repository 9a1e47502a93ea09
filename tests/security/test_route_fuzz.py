"""Fuzz every form and query parameter of every shop route, as anonymous, the order's owner, another
shopper and an admin (the route walk's world, tests/security/walk.py).

Parameter names come from the shop's forms and from what views read from `request`, plus random
ones; values are any text (other scripts' digits included), huge, negative, empty, and repeated.
No answer may be a 5xx. EXAMPLES bounds the run (a few seconds).
"""
import inspect

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

import shop.accounts.forms
import shop.checkout.forms
import shop.dashboard.forms
from tests.security.walk import ROLES, SKIPPED_METHODS, client_as, sample_values, shop_rules

EXAMPLES = 500
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


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data(), role=st.sampled_from(ROLES), query=PARAMS, form=PARAMS)
def test_no_parameter_gives_a_5xx(app, world, data, role, query, form):
    rule = data.draw(st.sampled_from(shop_rules(app)))
    method = data.draw(st.sampled_from(sorted(rule.methods - SKIPPED_METHODS)))
    values = sample_values(world)
    path = app.url_map.bind("shop.test").build(rule.endpoint, {name: values[name] for name in rule.arguments})
    response = client_as(app, world, role).open(path, method=method, query_string=MultiDict(query),
                                                data=MultiDict(form) if method == "POST" else None)
    response.close()  # a status stream is not read to its end
    assert response.status_code < 500, (role, method, path, query, form, response.status_code)
