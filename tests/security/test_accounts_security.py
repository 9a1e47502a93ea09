"""Accounts under attack: stored passwords, redirects after log-in, cookies in production.

Throttling after five failures and log-out ending every copy of a session are tested in
tests/accounts/test_accounts.py.
"""
import re

import pytest

from shop.accounts.models import User
from shop.extensions import db
from tests.factories import PASSWORD, UserFactory

def test_passwords_are_stored_with_scrypt_and_a_salt_each(client):
    for email in ("a@contoh.id", "b@contoh.id"):
        client.post("/daftar", data={"name": "A", "email": email, "password": "sama-sama-1", "confirm": "sama-sama-1"})
    hashes = [u.password_hash for u in db.session.scalars(db.select(User).order_by(User.id))]
    assert len(hashes) == 2 and hashes[0] != hashes[1]  # same password, different salts
    for stored in hashes:
        method, salt, digest = stored.split("$")
        algorithm, n, r, p = method.split(":")
        assert algorithm == "scrypt" and int(n) >= 2 ** 15 and len(salt) >= 16
        assert "sama-sama-1" not in stored


@pytest.mark.parametrize("target", [
    "//evil.example/x", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r\n/evil.example", "https://evil.example", "http:/evil.example", "javascript:alert(1)", "evil.example",
    "/\x7f/evil.example", " //evil.example",
])
def test_login_never_redirects_off_site(client, target):
    UserFactory(email="budi@example.com")
    response = client.post("/login", query_string={"next": target},
                           data={"email": "budi@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_keeps_a_local_next_with_its_query(client):
    UserFactory(email="budi@example.com")
    response = client.post("/login", query_string={"next": "/keranjang?x=1"},
                           data={"email": "budi@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/keranjang?x=1"


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_production_session_cookie_is_secure_httponly_and_lax(production):
    UserFactory(email="budi@example.com")
    client = production.test_client()
    # Over HTTPS Flask-WTF also wants a same-origin Referer.
    https = {"base_url": "https://toko.example", "headers": {"Referer": "https://toko.example/login"}}
    token = _csrf_token(client.get("/login", **https).get_data(as_text=True))
    response = client.post("/login", data={"email": "budi@example.com", "password": PASSWORD, "csrf_token": token},
                           **https)
    assert response.status_code == 302  # logged in
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].strip().lower() == "samesite=lax"
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 24 * 3600


def test_production_refuses_a_login_without_csrf_token(production):
    UserFactory(email="budi@example.com")
    response = production.test_client().post("/login", data={"email": "budi@example.com", "password": PASSWORD},
                                              base_url="https://toko.example")
    assert response.status_code == 400
    assert not any(v.startswith("session=") and "_user_id" in v for v in response.headers.getlist("Set-Cookie"))


def test_development_cookies_are_httponly_and_lax_but_not_secure(client):
    response = client.post("/keranjang/tambah", data={"product_id": "x"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
