"""Security headers on every response, and the session cookie's signing key."""
import pytest
from flask import Response
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
