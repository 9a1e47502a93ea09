"""Password reset by e-mail: a signed token that expires and works once, the same answer for any
e-mail, throttled, and the log-in pauses of that e-mail lifted once the password changed."""
import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from shop.accounts import passwords, services
from shop.accounts.models import User
from shop.accounts.views import RESET_SENT
from shop.extensions import db, mail
from shop.outbox.models import OutboxEmail
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "kopi-baru-99"


@pytest.fixture
def budi():
    user = UserFactory(email="budi@example.com", name="Budi")
    db.session.commit()
    return user


def ask(client, email: str, address: str = "203.0.113.9"):
    return client.post("/lupa-sandi", data={"email": email}, environ_base={"REMOTE_ADDR": address})


def link_in(message) -> str:
    return re.search(r"http://shop\.test(/lupa-sandi/\S+)", message.body).group(1)


def reset_link(client, email: str = "budi@example.com") -> str:
    with mail.record_messages() as outbox:
        assert ask(client, email).status_code == 302
    assert len(outbox) == 1
    return link_in(outbox[0])


def set_password(client, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def test_the_e_mail_carries_a_link_that_sets_a_new_password(client, auth, budi):
    with mail.record_messages() as outbox:
        ask(client, "BUDI@example.com")
    [message] = outbox
    assert message.recipients == ["budi@example.com"] and message.subject == "Atur ulang kata sandi Toko Kita"
    assert "berlaku 60 menit" in message.body and link_in(message) in message.html
    path = link_in(message)
    assert "Buat kata sandi baru" in client.get(path).get_data(as_text=True)
    response = set_password(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    db.session.expire_all()
    assert budi.check_password(NEW_PASSWORD) and not budi.check_password(PASSWORD)
    assert auth.login(password=NEW_PASSWORD).status_code == 302


def test_the_link_works_once(client, budi):
    path = reset_link(client)
    assert set_password(client, path).status_code == 302
    again = set_password(client, path, "lagi-lagi-123")
    assert again.status_code == 400 and "tidak berlaku lagi" in again.get_data(as_text=True)
    db.session.expire_all()
    assert budi.check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused(client, budi, monkeypatch):
    made = int(time.time()) - 60 * 60 - 1  # PASSWORD_RESET_MINUTES (60) and a second ago
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: made)
    token = passwords.reset_token(budi)
    monkeypatch.undo()
    response = set_password(client, f"/lupa-sandi/{token}")
    assert response.status_code == 400 and "kedaluwarsa" in response.get_data(as_text=True)
    db.session.expire_all()
    assert budi.check_password(PASSWORD)


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),  # the signature
    lambda token: "x" + token[1:],  # the payload
    lambda token: "bukan-token",
])
def test_a_tampered_link_is_refused(client, budi, tamper):
    token = passwords.reset_token(budi)
    response = set_password(client, f"/lupa-sandi/{tamper(token)}")
    assert response.status_code == 400 and "Minta tautan baru" in response.get_data(as_text=True)
    db.session.expire_all()
    assert budi.check_password(PASSWORD)


def test_a_token_signed_with_another_key_is_refused(app, budi, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-key-entirely")
    token = passwords.reset_token(budi)
    monkeypatch.undo()
    with pytest.raises(services.AccountError):
        passwords.user_for_token(token)


def test_an_unknown_e_mail_gets_the_same_answer_and_nothing_is_sent(client, budi):
    answers = []
    for email in ("budi@example.com", "siapa@example.com"):
        with mail.record_messages() as outbox:
            response = ask(client, email)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        answers.append((response.status_code, response.headers["Location"], page, len(outbox)))
    assert answers[0][:3] == answers[1][:3]  # the whole login page with its message, byte for byte
    assert RESET_SENT.split(".")[0] in answers[0][2]
    assert (answers[0][3], answers[1][3]) == (1, 0)
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEmail)) == 1


def test_the_request_takes_the_same_path_for_a_known_and_an_unknown_e_mail(client, budi, monkeypatch):
    """The request never looks the e-mail up (a task does), so its work and its time are the same."""
    published, reads = [], []
    monkeypatch.setattr(passwords.broker, "publish", lambda celery, name, *args: published.append((name, args)))
    monkeypatch.setattr(services, "find_user_by_email", lambda email: reads.append(email))
    for email in ("Budi@example.com", "siapa@example.com"):
        assert ask(client, email).status_code == 302
    assert published == [(passwords.SEND_RESET, ("budi@example.com",)), (passwords.SEND_RESET, ("siapa@example.com",))]
    assert reads == []


def test_asking_is_throttled_per_e_mail_and_per_address_alike(app, client, budi, monkeypatch):
    for _ in range(passwords.RESETS_PER_EMAIL + 2):
        assert ask(client, "budi@example.com").status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEmail)) == passwords.RESETS_PER_EMAIL
    monkeypatch.setitem(app.config, "RESETS_PER_ADDRESS", 2)
    for email in ("budi@example.com", "siapa@example.com"):
        response = ask(client, email, address="198.51.100.3")
    for email in ("budi@example.com", "siapa@example.com"):
        response = ask(client, email, address="198.51.100.3")
        assert response.status_code == 429 and "Terlalu banyak percobaan" in response.get_data(as_text=True)


def test_a_reset_lifts_the_log_in_pause_of_that_e_mail_and_ends_its_sessions(client, auth, budi):
    old_session = budi.get_id()
    for _ in range(services.MAX_FAILED_LOGINS):
        auth.login(password="salah-salah")
    assert auth.login().status_code == 429  # paused for this e-mail from this address
    set_password(client, reset_link(client))
    assert auth.login(password=NEW_PASSWORD).status_code == 302
    assert services.load_user(old_session) is None  # every earlier session cookie is refused


def test_the_forms_are_in_indonesian(client):
    page = client.get("/lupa-sandi").get_data(as_text=True)
    assert "Lupa kata sandi" in page and "Kirim tautan" in page
    response = client.post("/lupa-sandi", data={"email": "bukan-email"})
    assert "Alamat email tidak valid." in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 0
