"""CSRF: every state-changing route refuses a request without a token, except the listed exempt ones.

The routes are taken from the URL map of the shop as `bin/dev` builds it (emulator mounted), so a
new POST/PUT/PATCH/DELETE route is checked without anyone adding it here.
"""
from tests.security.routes import CSRF_EXEMPT, ENDPOINTS, WEBHOOK

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
AS_API = {"Accept": "application/json"}  # the JSON error answer says what was refused


def state_changing_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & STATE_CHANGING):
            path = app.url_map.bind("shop.test").build(rule.endpoint, {name: "1" for name in rule.arguments})
            yield rule.endpoint, method, path


def is_csrf_refusal(response) -> bool:
    return response.status_code == 400 and "CSRF" in (response.get_json() or {}).get("message", "")


def test_every_state_changing_route_but_the_exempt_ones_needs_a_token(emulator_shop):
    routes = list(state_changing_routes(emulator_shop))
    assert len({endpoint for endpoint, _, _ in routes} - CSRF_EXEMPT) >= 7  # the shop's own forms are there
    for endpoint, method, path in routes:
        if endpoint in CSRF_EXEMPT:
            continue
        response = emulator_shop.test_client().open(path, method=method, headers=AS_API)
        assert is_csrf_refusal(response), (endpoint, method, response.status_code)


def test_a_wrong_or_foreign_token_is_refused_too(emulator_shop):
    client = emulator_shop.test_client()
    client.get("/login")  # this session now has a token of its own
    for token in ("", "x" * 20, "IjAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OSI.bad.sig"):
        response = client.post("/keranjang/tambah", data={"product_id": "1", "csrf_token": token}, headers=AS_API)
        assert is_csrf_refusal(response), token


def test_the_exempt_routes_are_the_webhook_and_the_emulators_api_only(emulator_shop):
    exempt = {endpoint for endpoint, _, _ in state_changing_routes(emulator_shop) if endpoint in CSRF_EXEMPT}
    assert exempt == CSRF_EXEMPT
    assert {e for e in exempt if ENDPOINTS[e] == WEBHOOK} == {"payments.midtrans_notification"}
    assert all(e.startswith("midtrans_emulator.") for e in exempt - {"payments.midtrans_notification"})
    for endpoint, method, path in state_changing_routes(emulator_shop):
        if endpoint in exempt:
            response = emulator_shop.test_client().open(path, method=method, headers=AS_API)
            # Refused for what they are (no body 400, not JSON 415, no key 401), never for a missing token.
            assert not is_csrf_refusal(response) and response.status_code in (400, 401, 415), \
                (endpoint, response.status_code)
