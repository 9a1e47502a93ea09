"""The development default exposes nothing to the network: the emulator (which can "pay" any order)
answers loopback only unless allowed, and gunicorn binds 127.0.0.1 outside production.
Before, its pages and API answered anyone who reached the port, and gunicorn bound 0.0.0.0."""
import runpy
from pathlib import Path

import pytest

from shop.config import EMULATOR_PREFIX

CONF = Path(__file__).resolve().parent.parent.parent / "gunicorn.conf.py"
PAGES = [("get", "/transactions"), ("get", "/v2/TK-1/status"), ("post", "/snap/v1/transactions"),
         ("post", "/snap/v1/transactions/no-such-token/cancel"),
         ("post", "/transactions/TK-1/settle"), ("get", "/snap/v3/redirection/no-such-token")]


@pytest.mark.parametrize("method, path", PAGES)
@pytest.mark.parametrize("address", ["203.0.113.5", "192.168.1.20", "10.0.0.2", "::ffff:192.168.1.20", "2001:db8::1"])
def test_the_emulator_refuses_other_machines(emulator_shop, monkeypatch, method, path, address):
    monkeypatch.setitem(emulator_shop.config, "WTF_CSRF_ENABLED", False)  # with it, forms are refused sooner (400)
    response = getattr(emulator_shop.test_client(), method)(EMULATOR_PREFIX + path, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 403


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_the_emulator_serves_this_machine(emulator_shop, address):
    response = emulator_shop.test_client().get(EMULATOR_PREFIX + "/transactions", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200


def test_the_emulator_serves_others_when_allowed(emulator_shop, monkeypatch):
    monkeypatch.setitem(emulator_shop.config, "MIDTRANS_EMULATOR_ALLOW_REMOTE", True)
    response = emulator_shop.test_client().get(EMULATOR_PREFIX + "/transactions",
                                               environ_base={"REMOTE_ADDR": "192.168.1.20"})
    assert response.status_code == 200


@pytest.mark.parametrize("production, bind", [("", "127.0.0.1:8000"), ("1", "0.0.0.0:8000")])
def test_gunicorn_binds_loopback_outside_production(monkeypatch, production, bind):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.setenv("SHOP_PRODUCTION", production)
    assert runpy.run_path(str(CONF))["bind"] == bind
