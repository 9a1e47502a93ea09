"""Register, log in, log out, session versions and login throttling."""

import pytest

from shop.accounts import services
from shop.accounts.models import User
from shop.extensions import db
from tests.factories import PASSWORD, UserFactory


def test_register_logs_the_shopper_in_and_goes_on_to_where_they_were(client):
    response = client.post("/daftar?next=/keranjang", data={"name": "Siti", "email": " Siti@Contoh.ID ",
                                                            "password": "kopi-gayo-1", "confirm": "kopi-gayo-1"})
    assert response.status_code == 302 and response.headers["Location"] == "/keranjang"
    user = db.session.scalar(db.select(User).filter_by(email="siti@contoh.id"))
    assert user.password_hash != "kopi-gayo-1" and user.check_password("kopi-gayo-1")
    page = client.get("/").get_data(as_text=True)
    assert "Selamat datang, Siti! Akun Anda sudah dibuat dan Anda sudah masuk." in page
    assert "Keluar" in page and "Pesanan Saya" in page


def test_register_without_next_lands_on_the_catalogue(client):
    response = client.post("/daftar", data={"name": "Siti", "email": "siti@contoh.id",
                                            "password": "kopi-gayo-1", "confirm": "kopi-gayo-1"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("data, message", [
    ({"name": "A", "email": "a@contoh.id", "password": "pendek", "confirm": "pendek"}, "minimal 8 karakter"),
    ({"name": "A", "email": "a@contoh.id", "password": "panjang123", "confirm": "lain12345"}, "tidak sama"),
    ({"name": "A", "email": "bukan-email", "password": "panjang123", "confirm": "panjang123"}, "tidak valid"),
    ({"name": "", "email": "a@contoh.id", "password": "panjang123", "confirm": "panjang123"}, "Wajib diisi"),
])
def test_register_refuses_bad_input_and_creates_nothing(client, data, message):
    before = db.session.scalar(db.select(db.func.count(User.id)))
    response = client.post("/daftar", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == before


def test_register_with_a_taken_email_whatever_its_case_changes_nothing(client):
    user = UserFactory(email="budi@example.com", name="Budi")
    db.session.commit()  # into the test's outer transaction: the view's rollback must not undo it
    hash_before = user.password_hash
    response = client.post("/daftar", data={"name": "B", "email": "BUDI@example.com",
                                            "password": "panjang123", "confirm": "panjang123"})
    assert response.status_code == 200 and "Email ini sudah terdaftar" in response.get_data(as_text=True)
    assert "Keluar" not in client.get("/").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id)).where(User.email.ilike("budi@example.com"))) == 1
    db.session.expire_all()
    assert (user.name, user.password_hash) == ("Budi", hash_before)


def test_login_and_logout(client, auth):
    UserFactory(email="budi@example.com", name="Budi")
    response = auth.login()
    assert response.status_code == 302
    assert client.get("/checkout").status_code == 302  # logged in, but the cart is empty
    assert "Keluar" in client.get("/").get_data(as_text=True)
    response = auth.logout()
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Masuk" in page and "Keluar" not in page


def test_wrong_password_is_refused_with_one_message_for_both_cases(client, auth):
    UserFactory(email="budi@example.com")
    wrong_password = auth.login(password="salah-sekali").get_data(as_text=True)
    unknown_email = auth.login(email="tidak-ada@example.com").get_data(as_text=True)
    assert "Email atau kata sandi salah." in wrong_password
    assert "Email atau kata sandi salah." in unknown_email


def test_login_redirects_only_to_local_next(client):
    UserFactory(email="budi@example.com")
    form = {"email": "budi@example.com", "password": PASSWORD}
    assert client.post("/login?next=/keranjang", data=form).headers["Location"] == "/keranjang"
    client.post("/logout")
    assert client.post("/login?next=//evil.example/x", data=form).headers["Location"] == "/"


def test_pages_that_need_login_send_to_the_login_page(client):
    response = client.get("/checkout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_ends_every_copy_of_the_session(client, auth):
    user = UserFactory(email="budi@example.com")
    auth.login()
    old_cookie = client.get_cookie("session").value
    auth.logout()
    assert user.session_version == 2
    client.set_cookie("session", old_cookie)
    assert client.get("/checkout").headers["Location"].startswith("/login")


def test_logout_needs_post_and_a_csrf_token(app, client, auth, monkeypatch):
    UserFactory(email="budi@example.com")
    auth.login()
    assert client.get("/logout").status_code == 405
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/logout").status_code == 400
    assert "Keluar" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("session_id", ["", "abc", "5", "5:", ":1", "5:x", "5:1:2"])
def test_user_loader_refuses_malformed_ids(session_id):
    UserFactory()
    assert services.load_user(session_id) is None


def test_user_loader_accepts_only_the_current_version():
    user = UserFactory()
    assert services.load_user(f"{user.id}:1") is user
    services.end_sessions(user)
    assert services.load_user(f"{user.id}:1") is None
    assert services.load_user(f"{user.id}:2") is user


def test_five_failures_pause_this_email_from_this_address_even_for_the_right_password(client, auth):
    UserFactory(email="budi@example.com")
    for _ in range(services.MAX_FAILED_LOGINS):
        assert auth.login(password="salah-sekali").status_code == 200
    response = auth.login()
    assert response.status_code == 429 and services.LOGIN_PAUSED in response.get_data(as_text=True)
    assert "Keluar" not in client.get("/").get_data(as_text=True)


def test_four_failures_do_not_pause_and_a_success_resets_the_count(auth):
    UserFactory(email="budi@example.com")
    for _ in range(4):
        auth.login(password="salah-sekali")
    assert auth.login().status_code == 302
    auth.logout()
    for _ in range(4):
        auth.login(password="salah-sekali")
    assert auth.login().status_code == 302  # counted from zero again after the success


def test_nav_shows_dashboard_only_to_admins(client, auth):
    UserFactory(email="budi@example.com")
    UserFactory(email="admin@example.com", is_admin=True)
    auth.login()
    assert "/dashboard/pesanan" not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(email="admin@example.com")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/dashboard/pesanan"' in page and 'href="/orders"' in page
