"""Optional allow-list of Midtrans's notification source addresses, and the client address behind a proxy."""
import logging

import pytest

from shop import config as settings
from shop.config import TEST_SETTINGS, ConfigError, ip_networks
from tests.payments.helpers import URL, for_payment, post
from tests.security.helpers import shop_state

MIDTRANS_IPS = "8.215.30.222, 147.139.209.49, 103.208.23.0/24"


def post_from(client, body, address: str, **headers):
    return client.post(URL, json=body, environ_base={"REMOTE_ADDR": address}, headers=headers)


@pytest.fixture
def allow_midtrans(app, monkeypatch):
    monkeypatch.setitem(app.config, "MIDTRANS_NOTIFICATION_ALLOWED_IPS", ip_networks(MIDTRANS_IPS))


def test_off_by_default_as_midtrans_advises(app, client, payment):
    assert settings.settings_from_env({})["MIDTRANS_NOTIFICATION_ALLOWED_IPS"] == ""
    assert app.config["MIDTRANS_NOTIFICATION_ALLOWED_IPS"] == ()
    assert post_from(client, for_payment(payment), "203.0.113.9").status_code == 200


@pytest.mark.parametrize("address", ["8.215.30.222", "103.208.23.77", "::ffff:147.139.209.49"])
def test_listed_sources_are_served(client, payment, allow_midtrans, address):
    assert post_from(client, for_payment(payment), address).status_code == 200


@pytest.mark.parametrize("address", ["203.0.113.9", "8.215.30.223", "103.208.24.1", "::1", "2001:db8::1"])
def test_other_sources_get_403_are_logged_and_store_nothing(client, payment, allow_midtrans, caplog, address):
    before = shop_state()
    with caplog.at_level(logging.WARNING, logger="shop.payments.views"):
        response = post_from(client, for_payment(payment), address)
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden_source"
    assert shop_state() == before
    assert f"forbidden_source {address}" in caplog.text


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(client, payment, allow_midtrans):
    response = post_from(client, for_payment(payment), "203.0.113.9", **{"X-Forwarded-For": "8.215.30.222"})
    assert response.status_code == 403


@pytest.fixture
def behind_one_proxy(other_app):
    with other_app(dict(TEST_SETTINGS, TRUSTED_PROXY_COUNT=1, MIDTRANS_NOTIFICATION_ALLOWED_IPS=MIDTRANS_IPS)) as shop:
        yield shop.test_client()


def test_behind_one_proxy_the_client_is_the_address_the_proxy_saw(behind_one_proxy, payment):
    proxy = "10.0.0.5"
    allowed = post_from(behind_one_proxy, for_payment(payment), proxy, **{"X-Forwarded-For": "8.215.30.222"})
    assert allowed.status_code == 200


def test_behind_one_proxy_a_forged_first_hop_does_not_help(behind_one_proxy, payment):
    # The client sent "X-Forwarded-For: 8.215.30.222"; the proxy appended the real address.
    forged = {"X-Forwarded-For": "8.215.30.222, 203.0.113.9"}
    response = post_from(behind_one_proxy, for_payment(payment), "10.0.0.5", **forged)
    assert response.status_code == 403


@pytest.mark.parametrize("text", ["8.215.30.222, nonsense", "8.215.30.0/33", "8.215.30.1/24"])
def test_a_bad_allow_list_stops_the_app_from_starting(text):
    with pytest.raises(ConfigError, match="MIDTRANS_NOTIFICATION_ALLOWED_IPS"):
        ip_networks(text)


def test_the_allow_list_reads_addresses_and_blocks():
    assert [str(n) for n in ip_networks(" 8.215.30.222 ,103.208.23.0/24,, ")] == ["8.215.30.222/32", "103.208.23.0/24"]
