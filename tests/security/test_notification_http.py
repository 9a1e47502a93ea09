"""Raw HTTP oddities against a real server on loopback (werkzeug in a thread), not the test client.

Duplicated keys, invalid UTF-8, other encodings, odd content types, chunked and oversized bodies,
then a hypothesis batch: every answer a 4xx with a JSON error, nothing stored, and afterwards a
genuine notification still goes through the same server.
"""
import http.client
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

from shop.extensions import db
from shop.payments.views import NOTIFICATION_MAX_BYTES
from tests.payments.helpers import URL, for_payment
from tests.security.helpers import shop_state

HTTP_EXAMPLES = 300


@pytest.fixture
def server(app):
    """The shop on 127.0.0.1, one request at a time (it shares the test's database connection)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join(timeout=5)


def send_raw(port: int, body: bytes, headers: dict, method: str = "POST") -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, URL, skip_accept_encoding=True)
        for name, value in {"Connection": "close", **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(payload) if is_json else None
    finally:
        connection.close()


def post_raw(port: int, body: bytes, content_type: str | None = "application/json", **extra) -> tuple:
    headers = {"Content-Length": str(len(body)), **extra}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return send_raw(port, body, headers)


def assert_json_4xx(answer: tuple) -> None:
    status, payload = answer
    assert 400 <= status < 500, answer
    assert isinstance(payload, dict) and isinstance(payload.get("error"), str), answer


def chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def genuine(payment) -> bytes:
    return json.dumps(for_payment(payment)).encode()


ODDITIES = {
    "signed field repeated": lambda p: genuine(p)[:-1] + b', "gross_amount": "1.00"}',
    "unsigned field repeated": lambda p: genuine(p)[:-1] + b', "transaction_status": "settlement"}',
    "invalid UTF-8 in a string": lambda p: genuine(p).replace(b'"settlement"', b'"settl\xff\xfement"'),
    "UTF-16 body": lambda p: genuine(p).decode().encode("utf-16"),
    "UTF-8 BOM": lambda p: b"\xef\xbb\xbf" + genuine(p),
    "Latin-1 text": lambda p: '{"order_id": "café"}'.encode("latin-1"),
    "form-encoded": lambda p: b"order_id=TK-1&status_code=200&gross_amount=1.00&signature_key=ab",
    "truncated JSON": lambda p: genuine(p)[:-10],
    "NUL bytes": lambda p: b"\x00" * 64,
    "JSON then junk": lambda p: genuine(p) + b"\x00garbage",
}


@pytest.mark.parametrize("make_body", ODDITIES.values(), ids=ODDITIES.keys())
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_raw_oddities_get_a_json_4xx_and_change_nothing(server, payment, make_body, content_type):
    before = shop_state()
    assert_json_4xx(post_raw(server, make_body(payment), content_type))
    assert shop_state() == before


def test_oversized_body_gets_413_json(server, payment):
    body = json.dumps(for_payment(payment, padding="x" * NOTIFICATION_MAX_BYTES)).encode()
    status, payload = post_raw(server, body)
    assert status == 413 and payload["error"] == "request_entity_too_large"


def test_oversized_chunked_body_gets_413_json(server, payment):
    body = json.dumps(for_payment(payment, padding="x" * NOTIFICATION_MAX_BYTES)).encode()
    answer = send_raw(server, chunked(body), {"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    assert answer[0] == 413 and answer[1]["error"] == "request_entity_too_large"


def test_a_content_length_that_is_not_a_number_is_refused(server, payment):
    answer = send_raw(server, genuine(payment), {"Content-Length": "12abc", "Content-Type": "application/json"})
    assert_json_4xx(answer)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_json(server, method):
    assert send_raw(server, b"", {"Content-Length": "0"}, method=method)[0] == 405


@settings(max_examples=HTTP_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.binary(max_size=512) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6).map(lambda v: json.dumps(v).encode()),
    content_type=st.sampled_from(["application/json", "text/plain", "application/octet-stream", None]))
def test_random_bodies_over_http(server, body, content_type):
    assert_json_4xx(post_raw(server, body, content_type))


def test_the_server_still_takes_a_genuine_notification_afterwards(server, payment):
    before = shop_state()
    for make_body in ODDITIES.values():
        assert_json_4xx(post_raw(server, make_body(payment)))
    assert shop_state() == before
    assert post_raw(server, genuine(payment)) == (200, {"status": "received"})
    # Stored and handed to the (in-memory) broker: eager mode does not reach the server's thread.
    db.session.expire_all()
    assert [n.midtrans_order_id for n in payment.notifications] == [payment.midtrans_order_id]
