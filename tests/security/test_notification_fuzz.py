"""Fuzz POST /api/midtrans/notification through the test client: a few thousand malformed requests.

Every answer must be a 4xx with a JSON error (never a 5xx, never a 2xx), nothing may be stored
or changed, and afterwards a genuine notification still goes through. EXAMPLES is the count of
cases per strategy (docs/security.md quotes the total).
"""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.gateway import compute_signature
from shop.payments.receiving import REQUIRED_FIELDS, TEST_ORDER_PREFIX
from shop.payments.views import NOTIFICATION_MAX_BYTES
from tests.payments.helpers import TEST_KEY, URL, for_payment, post
from tests.security.helpers import assert_refused_as_json, shop_state

EXAMPLES = {"raw bytes": 500, "any JSON": 500, "wrong types": 700, "mutated genuine": 700,
            "content types and methods": 400, "oversized": 60}

# Every character, lone surrogates included (json.dumps writes those as \udXXX escapes).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | ANY_TEXT
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=8)
# Shallow values for the fields (deep ones are test_any_json_value's): generating them costs less.
SHALLOW = SCALARS | st.lists(SCALARS, max_size=3) | st.dictionaries(ANY_TEXT, SCALARS, max_size=2)
SIGNED_FIELD_VALUES = SHALLOW | st.sampled_from(["", " ", "200", "150000.00", "0" * 128, "f" * 129])


def fuzz(strategy_name: str):
    return settings(max_examples=EXAMPLES[strategy_name], deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.fixture
def guarded(client, payment):
    """Check that the whole run changed nothing and the endpoint still takes a genuine notification.

    Nothing ever deletes a stored notification, so the same count at the end means no example stored one.
    """
    before = shop_state()
    yield
    assert shop_state() == before
    assert post(client, for_payment(payment)).status_code == 200
    db.session.expire_all()
    assert payment.order.status is OrderStatus.SUCCESS


def send(client, data, content_type="application/json", method="POST", headers=None):
    response = client.open(URL, method=method, data=data, content_type=content_type, headers=headers or {})
    assert_refused_as_json(response)
    return response


def dumps(value) -> str:
    return json.dumps(value, allow_nan=True)


@fuzz("raw bytes")
@given(body=st.binary(max_size=2048))
def test_raw_bytes(client, guarded, body):
    send(client, body)


@fuzz("any JSON")
@given(value=JSON_VALUES)
def test_any_json_value(client, guarded, value):
    send(client, dumps(value))


@st.composite
def notification_shaped(draw):
    """The four signed fields present, missing or of any type, among junk fields; maybe signed right."""
    body = draw(st.dictionaries(ANY_TEXT, SHALLOW, max_size=3))
    for name in REQUIRED_FIELDS:
        if draw(st.booleans()) or name == "order_id":
            body[name] = draw(SIGNED_FIELD_VALUES)
    order_id = body.get("order_id")
    if isinstance(order_id, str) and order_id.startswith(TEST_ORDER_PREFIX):
        body["order_id"] = "x" + order_id  # the dashboard's test notification is answered 200 by design
    if draw(st.booleans()) and all(isinstance(body.get(n), str) for n in REQUIRED_FIELDS[:3]):
        try:  # a valid signature over junk: the order is unknown (404) or the body unstorable (400)
            body["signature_key"] = compute_signature(*(body[n] for n in REQUIRED_FIELDS[:3]), TEST_KEY)
        except UnicodeEncodeError:
            pass
    return body


@fuzz("wrong types")
@given(body=notification_shaped())
def test_notification_shaped_junk(client, guarded, body):
    send(client, dumps(body))


@pytest.fixture
def genuine_body(payment):
    return for_payment(payment)


MUTATIONS = st.sampled_from(["replace", "delete", "truncate", "append", "upper", "wrap in list", "duplicate"])


@fuzz("mutated genuine")
@given(field=st.sampled_from(REQUIRED_FIELDS), how=MUTATIONS, value=SIGNED_FIELD_VALUES,
       extra=st.dictionaries(st.sampled_from(["transaction_status", "fraud_status", "transaction_id", "x"]),
                             SHALLOW, max_size=2))
def test_a_genuine_body_with_one_signed_field_tampered(client, guarded, genuine_body, field, how, value, extra):
    genuine = {**genuine_body, **extra}  # the extra fields are not signed
    original = genuine[field]
    text = None
    if how == "replace":
        genuine[field] = value
    elif how == "delete":
        del genuine[field]
    elif how == "truncate":
        genuine[field] = original[:len(original) // 2]
    elif how == "append":
        genuine[field] = original + (value if isinstance(value, str) and value else "0")
    elif how == "upper":
        genuine[field] = original.upper() if original.upper() != original else original.lower() + "x"
    elif how == "wrap in list":
        genuine[field] = [original]
    else:  # the genuine value first, then another: a parser that keeps the first would accept it
        text = dumps(genuine)[:-1] + f", {dumps(field)}: {dumps(value)}}}"
    if text is None and genuine.get(field, object()) == original:
        genuine[field] = original + "0"  # the draw left it as it was: change it for sure
    send(client, text or dumps(genuine))


CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=xyz", "application/xml", "",
                                 "application/json; charset=utf-16", "application/json; charset=latin-1"]) \
    | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
HEADERS = st.dictionaries(st.sampled_from(["X-Forwarded-For", "Accept", "Content-Encoding", "User-Agent",
                                           "X-Requested-With", "Origin"]),
                          st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60), max_size=3)


@fuzz("content types and methods")
@given(content_type=CONTENT_TYPES, headers=HEADERS, method=st.sampled_from(["POST"] * 4 + ["PUT", "PATCH", "DELETE"]),
       body=st.binary(max_size=256) | JSON_VALUES.map(dumps).map(str.encode) | st.just(b"order_id=TK-1&status_code=200"))
def test_content_types_headers_and_methods(client, guarded, content_type, headers, method, body):
    send(client, body, content_type=content_type, method=method, headers=headers)


@fuzz("oversized")
@given(size=st.integers(NOTIFICATION_MAX_BYTES + 1, 4 * NOTIFICATION_MAX_BYTES), field=st.sampled_from(
    ["order_id", "gross_amount", "signature_key", "padding"]))
def test_oversized_bodies_get_413_json(client, guarded, payment, size, field):
    body = dumps({**for_payment(payment), field: "9" * size})
    assert send(client, body).status_code == 413
