"""Nobody can lock someone else out by failing to log in as them.

Before: five wrong passwords from anyone locked the account (the admin's too) for 15 minutes,
for its owner as well; the lock message said the account existed; and behind a proxy with
TRUSTED_PROXY_COUNT=0, twenty failures from anyone refused every shopper's correct password.
"""
from shop.accounts import services
from tests.factories import PASSWORD, UserFactory

ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"


def log_in_from(client, address: str, email: str, password: str = "salah-sekali"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_failures_from_an_attacker_never_keep_the_owner_out(client):
    UserFactory(email="admin@example.com", is_admin=True)
    for _ in range(3 * services.MAX_FAILED_LOGINS):
        log_in_from(client, ATTACKER, "admin@example.com")
    assert log_in_from(client, ATTACKER, "admin@example.com", PASSWORD).status_code == 429  # the pair waits
    assert log_in_from(client, OWNER, "admin@example.com", PASSWORD).status_code == 302  # its owner does not


def test_the_pause_reads_the_same_for_a_known_and_an_unknown_email(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", 100)
    UserFactory(email="budi@example.com")
    answers = []
    for email in ("budi@example.com", "tidak-ada@example.com"):
        for _ in range(services.MAX_FAILED_LOGINS):
            assert log_in_from(client, ATTACKER, email).status_code == 200
        response = log_in_from(client, ATTACKER, email)
        answers.append((response.status_code, response.get_data(as_text=True).replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429 and services.LOGIN_PAUSED in answers[0][1]


def test_a_shared_address_over_its_limit_still_lets_a_correct_password_in(app, client):
    """Every shopper behind one proxy address: an attacker's failures there refuse nobody else."""
    UserFactory(email="budi@example.com")
    proxy = "10.0.0.1"
    for n in range(app.config["LOGIN_FAILURES_PER_ADDRESS"] + 5):
        log_in_from(client, proxy, f"korban{n}@example.com")
    assert services.address_over_limit("login", proxy)
    assert log_in_from(client, proxy, "budi@example.com", PASSWORD).status_code == 302


def test_an_address_over_its_limit_may_not_go_on_with_an_account_under_attack(app, client):
    UserFactory(email="budi@example.com")
    proxy = "10.0.0.1"
    for n in range(app.config["LOGIN_FAILURES_PER_ADDRESS"]):
        log_in_from(client, proxy, f"korban{n}@example.com")
    for _ in range(services.UNDER_ATTACK):
        log_in_from(client, "192.0.2.1", "budi@example.com")
    assert log_in_from(client, proxy, "budi@example.com", PASSWORD).status_code == 429
