"""Production refuses to start with a key someone else knows, or with the debugger on.

Before, any non-empty SECRET_KEY (`x`, `changeme`, the development default) and the emulator's
public server key were accepted, so an admin's session cookie or a notification could be forged.
"""
import secrets

import pytest

from shop import create_app
from shop.config import EMULATOR_SERVER_KEY, ConfigError
from shop.production import DEVELOPMENT_SECRET_KEY, GENERATE_SECRET
from tests.security.conftest import unpublished_server_key

WEAK_SECRETS = [DEVELOPMENT_SECRET_KEY, "x", "changeme", "test-secret", "a" * 64, "ab" * 32,
                "production-secret-" + "x" * 40, "0123456789" * 4,
                GENERATE_SECRET,  # long and varied, but written in the source and the docs
                "dev-only-not-secret-dev-only-not-secret-dev-only"]


def production_env(monkeypatch, **env):
    settings = {"SHOP_PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": "sqlite://",
                "BASE_URL": "https://toko.example", "REDIS_URL": "redis://127.0.0.1:6379/9",
                "MIDTRANS_SERVER_KEY": unpublished_server_key(), "MIDTRANS_CLIENT_KEY": "SB-Mid-client-x",
                "FLASK_DEBUG": "", **env}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("secret_key", WEAK_SECRETS)
def test_production_refuses_a_weak_or_known_secret_key(monkeypatch, secret_key):
    production_env(monkeypatch, SECRET_KEY=secret_key)
    with pytest.raises(ConfigError) as refused:
        create_app()
    assert "SECRET_KEY" in str(refused.value) and GENERATE_SECRET in str(refused.value)


@pytest.mark.parametrize("server_key", [EMULATOR_SERVER_KEY, "SB-Mid-server-test", "SB-Mid-server-prod-test"])
def test_production_refuses_the_emulators_or_a_published_server_key(monkeypatch, server_key):
    production_env(monkeypatch, MIDTRANS_SERVER_KEY=server_key)
    with pytest.raises(ConfigError, match="MIDTRANS_SERVER_KEY .*Midtrans Dashboard"):
        create_app()


@pytest.mark.parametrize("debug", ["1", "true"])
def test_production_refuses_flask_debug(monkeypatch, debug):
    production_env(monkeypatch, FLASK_DEBUG=debug)
    with pytest.raises(ConfigError, match="FLASK_DEBUG"):
        create_app()


def test_production_starts_with_generated_keys(monkeypatch):
    production_env(monkeypatch)
    assert create_app().config["SHOP_PRODUCTION"]


def test_development_still_starts_on_its_default(monkeypatch):
    for name in ("SHOP_PRODUCTION", "SECRET_KEY", "MIDTRANS_SERVER_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).secret_key == DEVELOPMENT_SECRET_KEY


def test_production_behind_herokus_router_refuses_an_unset_proxy_count(monkeypatch):
    production_env(monkeypatch, DYNO="web.1")
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_COUNT"):
        create_app()
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    assert create_app().config["TRUSTED_PROXY_COUNT"] == 1


def test_production_warns_when_no_proxy_is_trusted_and_requests_come_through_one(monkeypatch, caplog):
    production_env(monkeypatch)
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    shop = create_app()
    assert "TRUSTED_PROXY_COUNT is 0 but it is not set" in caplog.text
    caplog.clear()
    shop.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.5"})
    assert "TRUSTED_PROXY_COUNT is 0 but requests carry X-Forwarded-For" in caplog.text
