"""Security headers on every response."""


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
