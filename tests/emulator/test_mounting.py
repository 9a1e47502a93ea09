"""The emulator is mounted on the shop only when enabled; its API skips CSRF, its pages do not."""
import logging

import pytest

from shop import create_app
from shop.config import EMULATOR_SERVER_KEY, TEST_SETTINGS
from tests.emulator.conftest import basic_auth
from tests.emulator.helpers import PREFIX, snap_payload


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append((record.levelname, record.getMessage()))


@pytest.fixture
def start_up_log():
    collect = Collect()
    logging.getLogger("shop.emulator").addHandler(collect)
    yield collect.messages
    logging.getLogger("shop.emulator").removeHandler(collect)


@pytest.fixture
def shop_with_emulator(app, tmp_path, start_up_log):
    settings = dict(TEST_SETTINGS, MIDTRANS_EMULATOR=True, MIDTRANS_SERVER_KEY="", MIDTRANS_CLIENT_KEY="",
                    MIDTRANS_API_BASE_URL="", MIDTRANS_SNAP_BASE_URL="", WTF_CSRF_ENABLED=True,
                    MIDTRANS_EMULATOR_DB=str(tmp_path / "emulator.sqlite3"),
                    SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.db'}")
    shop = create_app(settings)
    yield shop
    app.extensions["celery"].set_default()  # create_app made the new app's Celery the default


def test_the_shop_says_at_start_up_that_the_emulator_is_in_use(shop_with_emulator, start_up_log):
    assert len(start_up_log) == 1
    level, message = start_up_log[0]
    assert level == "WARNING"
    assert message.startswith("Midtrans emulator in use at http://shop.test/_emulator/midtrans ")


def test_the_snap_api_is_mounted_and_needs_no_csrf_token(shop_with_emulator):
    response = shop_with_emulator.test_client().post(f"{PREFIX}/snap/v1/transactions", json=snap_payload(),
                                                     headers=basic_auth(EMULATOR_SERVER_KEY))
    assert response.status_code == 201
    assert response.get_json()["redirect_url"].startswith(f"http://shop.test{PREFIX}/snap/v3/redirection/")


def test_the_payment_page_form_is_csrf_protected(shop_with_emulator):
    client = shop_with_emulator.test_client()
    token = client.post(f"{PREFIX}/snap/v1/transactions", json=snap_payload(),
                        headers=basic_auth(EMULATOR_SERVER_KEY)).get_json()["token"]
    page = client.get(f"{PREFIX}/snap/v3/redirection/{token}").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    forged = client.post(f"{PREFIX}/snap/v3/redirection/{token}", data={"method": "gopay", "outcome": "pay"},
                         headers={"Accept": "application/json"})
    assert forged.status_code == 400
    assert "CSRF" in forged.get_json()["message"]


def test_nothing_is_mounted_when_the_emulator_is_off(client):
    as_api = {"Accept": "application/json"}  # the JSON error answer: no login machinery involved
    assert client.get(f"{PREFIX}/transactions", headers=as_api).status_code == 404
    assert client.post(f"{PREFIX}/snap/v1/transactions", json=snap_payload(), headers=as_api).status_code == 404
