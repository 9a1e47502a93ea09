"""Security headers on every response, and the session cookie's signing key."""
import pytest
from flask import Response
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from shop.security import add_security_headers


def test_responses_carry_security_headers(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_form_action_allows_the_snap_redirect(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MIDTRANS_SNAP_BASE_URL", "https://app.sandbox.midtrans.com/snap/v1")
    csp = client.get("/healthz").headers["Content-Security-Policy"]
    assert "form-action 'self' https://app.sandbox.midtrans.com;" in csp


def test_error_answers_carry_them_too(client):
    response = client.get("/api/no-such-route")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_header_the_view_set_itself_is_kept_and_none_is_doubled(app):
    with app.test_request_context("/"):
        response = add_security_headers(Response("x", headers={"x-frame-options": "SAMEORIGIN"}))
        again = add_security_headers(response)
    assert again.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert len(again.headers.getlist("Content-Security-Policy")) == 1


def test_a_new_secret_key_signs_and_checks_sessions_with_it(app, monkeypatch):
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first  # built once
    cookie = first.dumps({"cart": {"1": 2}})
    monkeypatch.setattr(app, "secret_key", "another-secret")
    rotated = sessions.get_signing_serializer(app)
    with pytest.raises(BadSignature):
        rotated.loads(cookie)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [first.secret_keys[-1]])
    assert sessions.get_signing_serializer(app).loads(cookie) == {"cart": {"1": 2}}  # the old key, as a fallback


def session_headers(app, session_interface) -> list:
    """What a few requests answer about the session cookie: with and without a cookie, read or not."""
    app.session_interface = session_interface
    client = app.test_client()
    seen = []
    for method, path in [("get", "/healthz"), ("get", "/"), ("post", "/api/midtrans/notification"),
                         ("post", "/keranjang/tambah"),  # a flash message shown at once (400): a cookie
                         ("get", "/keranjang"), ("get", "/healthz"), ("post", "/api/midtrans/notification")]:
        response = getattr(client, method)(path, data={"product_id": "0"} if method == "post" else None)
        cookies = [header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")]
        seen.append((path, response.status_code, cookies, response.headers.get("Vary")))
    return seen


def test_sessions_answer_as_flasks_own_would(app, monkeypatch):
    ours = app.session_interface
    monkeypatch.setattr(app, "session_interface", ours)  # restored afterwards
    flasks = session_headers(app, SecureCookieSessionInterface())
    assert session_headers(app, ours) == flasks
    assert [bool(cookies) for _, _, cookies, _ in flasks] == [False, False, False, True, False, False, False]
