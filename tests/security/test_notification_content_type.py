"""The webhook takes only what Midtrans sends: `application/json` (UTF-8 when a charset is named).
Any other Content-Type is refused with 415 before the body is read; it used to be ignored."""
import json

import pytest

from shop.emulator.sender import HEADERS as EMULATOR_HEADERS
from shop.extensions import db
from shop.orders.models import OrderStatus
from tests.payments.helpers import URL, for_payment, notification_samples, sample, signed
from tests.security.helpers import shop_state

# What Midtrans documents and its senders (the emulator's included) put on a notification.
SENT_BY_MIDTRANS = [EMULATOR_HEADERS["Content-Type"], "application/json", "application/json; charset=utf-8",
                    "application/json; charset=UTF-8", "Application/JSON"]
REFUSED = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
           "text/json", "application/jsonp", "application/json; charset=latin-1", "application/json; charset=utf-16",
           "", None]


@pytest.mark.parametrize("content_type", REFUSED)
def test_a_genuine_notification_with_another_content_type_gets_415_and_nothing_stored(client, payment,
                                                                                        content_type):
    before = shop_state()
    response = client.post(URL, data=json.dumps(for_payment(payment)), content_type=content_type)
    assert response.status_code == 415 and response.get_json()["error"] == "unsupported_media_type"
    assert shop_state() == before


@pytest.mark.parametrize("content_type", SENT_BY_MIDTRANS)
def test_what_midtrans_sends_is_accepted(client, payment, content_type):
    response = client.post(URL, data=json.dumps(for_payment(payment)), content_type=content_type)
    assert response.status_code == 200
    db.session.expire_all()
    assert payment.order.status is OrderStatus.SUCCESS


@pytest.mark.parametrize("name", notification_samples())
def test_every_sample_passes_the_content_type_check(client, name):
    """Unknown order ids, so 404 -- but never 415: the samples are what Midtrans really sends."""
    response = client.post(URL, data=json.dumps(signed(sample(name))), content_type="application/json")
    assert response.status_code != 415
