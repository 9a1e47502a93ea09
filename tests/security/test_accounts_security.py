"""Accounts under attack: stored passwords, redirects after log-in, cookies in production,
session fixation, log-in and registration throttled per client address, e-mail enumeration.

Throttling after five failures and log-out ending every copy of a session are tested in
tests/accounts/test_accounts.py.
"""
import os
import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from shop import create_app
from shop.accounts import services
from shop.accounts.models import User
from shop.config import TEST_SETTINGS
from shop.extensions import cache, db
from tests.factories import PASSWORD, ProductFactory, UserFactory

TOO_MANY = "Terlalu banyak percobaan dari alamat Anda."

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


def test_login_starts_a_fresh_session_that_keeps_only_the_cart(app, client, monkeypatch):
    """Session fixation: a cookie planted before log-in carries nothing but the cart into it."""
    UserFactory(email="budi@example.com")
    product = ProductFactory(name="Kopi Gayo")
    with client.session_transaction() as session:
        session.update(planted="attacker", csrf_token="secret-the-attacker-knows", cart={str(product.id): 2})
    assert client.post("/login", data={"email": "budi@example.com", "password": PASSWORD}).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("csrf_token") != "secret-the-attacker-knows"
        assert session["cart"] == {str(product.id): 2} and session["_user_id"]
    assert "Kopi Gayo" in client.get("/keranjang").get_data(as_text=True)
    # A token made from the planted CSRF secret no longer works in the logged-in session.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    forged = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("secret-the-attacker-knows")
    assert client.post("/logout", data={"csrf_token": forged}).status_code == 400


def log_in_from(client, address: str, email: str, password: str = "salah-sekali", **headers):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_failed_logins_from_one_address_block_it_for_accounts_under_attack(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", 3)
    UserFactory(email="budi@example.com")
    for _ in range(services.UNDER_ATTACK):  # budi's account is now under attack, and the address over its limit
        assert log_in_from(client, "203.0.113.5", "budi@example.com").status_code == 200
    # Refused before the password is looked at: the right one, for a known and an unknown e-mail alike.
    for email in ("budi@example.com", "tidak-ada@example.com"):
        for _ in range(services.UNDER_ATTACK if email.startswith("tidak") else 0):
            log_in_from(client, "198.51.100.9", email)  # attacked from elsewhere
        response = log_in_from(client, "203.0.113.5", email, PASSWORD)
        assert response.status_code == 429 and TOO_MANY in response.get_data(as_text=True)
    assert "Keluar" not in client.get("/", environ_base={"REMOTE_ADDR": "203.0.113.5"}).get_data(as_text=True)
    assert log_in_from(client, "198.51.100.7", "budi@example.com", PASSWORD).status_code == 302


def test_the_address_limit_counts_the_client_behind_a_trusted_proxy(app, other_app):
    settings = dict(TEST_SETTINGS, TRUSTED_PROXY_COUNT=1, LOGIN_FAILURES_PER_ADDRESS=2)
    with other_app(settings) as shop:
        UserFactory(email="budi@example.com")
        client = shop.test_client()
        for _ in range(services.UNDER_ATTACK):
            log_in_from(client, "10.0.0.1", "budi@example.com", **{"X-Forwarded-For": "203.0.113.5"})
        blocked = log_in_from(client, "10.0.0.1", "budi@example.com", PASSWORD, **{"X-Forwarded-For": "203.0.113.5"})
        assert blocked.status_code == 429
        other = log_in_from(client, "10.0.0.1", "budi@example.com", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
        assert other.status_code == 302  # same proxy, another client


def test_on_redis_the_address_count_is_shared_by_every_process(app, other_app):
    """Two apps stand for two web processes: failures counted by one block the address in the other."""
    settings = dict(TEST_SETTINGS, LOGIN_FAILURES_PER_ADDRESS=2, ADDRESS_THROTTLE_MINUTES=15,
                    REDIS_URL=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12"))
    key = "throttle:login:address=192.0.2.44"
    with other_app(settings) as first:
        cache.clear()
        try:
            for _ in range(services.UNDER_ATTACK):
                log_in_from(first.test_client(), "192.0.2.44", "a@example.com")
            redis, full_key = cache.cache._write_client, cache.cache._get_prefix() + key
            assert int(redis.get(full_key)) == services.UNDER_ATTACK and 0 < redis.ttl(full_key) <= 15 * 60
            second = create_app(dict(settings, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
            assert log_in_from(second.test_client(), "192.0.2.44", "a@example.com").status_code == 429
        finally:
            cache.clear()


def register_from(client, address: str, email: str, password: str = "panjang123"):
    return client.post("/daftar", data={"name": "Tamu", "email": email, "password": password, "confirm": password},
                       environ_base={"REMOTE_ADDR": address})


def test_registering_a_taken_email_changes_nothing_and_logs_nobody_in(client):
    """Registration logs the shopper in, so a taken e-mail is told as such; the throttle below
    keeps that from listing accounts quickly, and nothing about the account changes."""
    user = UserFactory(email="budi@example.com", name="Budi")
    db.session.commit()  # into the test's outer transaction: the view's rollback must not undo it
    before = (user.name, user.password_hash)
    response = register_from(client, "203.0.113.5", "BUDI@example.com")
    assert response.status_code == 200 and "Email ini sudah terdaftar" in response.get_data(as_text=True)
    assert "Keluar" not in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert (user.name, user.password_hash) == before
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_registrations_from_one_address_are_throttled_alike(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATIONS_PER_ADDRESS", 2)
    UserFactory(email="budi@example.com")
    register_from(client, "203.0.113.5", "baru@example.com")
    register_from(client, "203.0.113.5", "budi@example.com")
    count = db.session.scalar(db.select(db.func.count(User.id)))
    for email in ("lain@example.com", "budi@example.com"):
        response = register_from(client, "203.0.113.5", email)
        assert response.status_code == 429 and TOO_MANY in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == count
    assert register_from(client, "198.51.100.7", "lain@example.com").status_code == 302
