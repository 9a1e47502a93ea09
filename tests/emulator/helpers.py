"""Small steps shared by the emulator's tests: create a Snap transaction, pay on its page, compare JSON shapes."""
from urllib.parse import parse_qs, urlsplit

from tests.emulator.conftest import basic_auth

PREFIX = "/_emulator/midtrans"


def snap_payload(order_id: str = "TK-000001-1", amount: int = 150000, **extra) -> dict:
    payload = {
        "transaction_details": {"order_id": order_id, "gross_amount": amount},
        "item_details": [{"id": "SKU-1", "price": amount // 2, "quantity": 2, "name": "Kopi Gayo"}],
        "callbacks": {"finish": "http://shop.test/orders/finish"},
    }
    return payload | extra


def create(client, payload: dict | None = None, headers: dict | None = None):
    return client.post(f"{PREFIX}/snap/v1/transactions", json=payload or snap_payload(),
                       headers=basic_auth() | (headers or {}))


def token_of(response) -> str:
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def choose(client, token: str, method: str, outcome: str):
    return client.post(f"{PREFIX}/snap/v3/redirection/{token}", data={"method": method, "outcome": outcome})


def status(client, ident: str, headers: dict | None = None):
    return client.get(f"{PREFIX}/v2/{ident}/status", headers=headers or basic_auth())


def finish_query(response) -> dict:
    """The query string of the redirect to the shop's finish URL, one value per key."""
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def json_shape(value):
    """The JSON type of `value`; for lists and objects, the shape of what they hold."""
    if isinstance(value, dict):
        return {key: json_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_shape(value[0])] if value else []
    return type(value).__name__
