"""POST /api/midtrans/notification: answers, what is stored, and what never happens."""
import json
import logging

import pytest
from kombu.exceptions import OperationalError as BrokerDown
from sqlalchemy import func, select

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import db, mail
from shop.orders.models import OrderStatus
from shop.payments import queueing, views
from shop.payments.gateway import sign
from shop.payments.models import Notification, NotificationOutcome, NotificationState, PaymentStatus
from tests.payments.helpers import TEST_KEY, URL, committed_payment, for_payment, post, sample, signed


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


@pytest.fixture
def queued(monkeypatch):
    """Record what the view enqueues instead of running it, and whether its row was stored by then."""
    events = []

    def enqueue(notification_ids):
        events.extend((id_, db.session.get(Notification, id_) is not None) for id_ in notification_ids)

    monkeypatch.setattr(queueing, "enqueue_notifications", enqueue)
    return events


def test_a_genuine_notification_is_stored_then_queued(client, payment, queued):
    body = for_payment(payment)
    response = post(client, body)
    assert response.status_code == 200
    assert response.get_json() == {"status": "received"}
    notification = db.session.scalars(select(Notification)).one()
    assert queued == [(notification.id, True)]  # queued once stored, with the row's id
    assert notification.state is NotificationState.RECEIVED
    assert notification.payment_id == payment.id
    assert json.loads(notification.body) == body  # the raw body, exactly as received
    assert (notification.transaction_status, notification.gross_amount) == ("settlement", "150000.00")


@pytest.mark.integration
@pytest.mark.postgres
def test_the_row_is_committed_before_the_task_is_queued(app, clean_db, monkeypatch):
    """Another connection (a worker) can read the row at the moment it is queued."""
    payment = committed_payment()
    seen = []

    def enqueue(notification_ids):
        with db.engine.connect() as other:  # a connection of its own: sees committed rows only
            seen.extend(other.scalars(select(Notification.state).where(Notification.id.in_(notification_ids))))

    monkeypatch.setattr(queueing, "enqueue_notifications", enqueue)
    assert post(app.test_client(), for_payment(payment)).status_code == 200
    assert seen == [NotificationState.RECEIVED]


def test_the_whole_way_through_in_eager_mode(client, payment, product):
    with mail.record_messages() as outbox:
        response = post(client, for_payment(payment))
    assert response.status_code == 200
    db.session.expire_all()
    assert payment.status is PaymentStatus.SUCCESS
    assert payment.order.status is OrderStatus.SUCCESS
    assert [m.recipients for m in outbox] == [[payment.order.user.email]]
    assert product.stock == 3  # a payment keeps the reserved stock


@pytest.mark.parametrize("body,message", [
    (b"", "not JSON"),
    (b"order_id=1&status_code=200", "not JSON"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'"settlement"', "not a JSON object"),
    (b"{}", "order_id, status_code, gross_amount, signature_key"),
    (b'{"order_id": "TK-1", "status_code": "200", "gross_amount": "1.00"}', "signature_key"),
    (b'{"order_id": "TK-1", "status_code": 200, "gross_amount": "1.00", "signature_key": "ab"}', "status_code"),
    (b'{"order_id": "", "status_code": "200", "gross_amount": "1.00", "signature_key": "ab"}', "order_id"),
])
def test_malformed_bodies_get_400_and_change_nothing(client, payment, queued, body, message):
    response = post(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_notification"
    assert message in response.get_json()["message"]
    assert stored() == 0 and queued == []


def test_unknown_fields_and_missing_optional_fields_are_fine(client, payment, queued):
    body = {k: v for k, v in for_payment(payment).items() if k in ("order_id", "status_code", "gross_amount",
                                                                    "signature_key", "transaction_status")}
    body["brand_new_midtrans_field"] = {"nested": [1, 2, 3]}
    assert post(client, body).status_code == 200
    assert stored() == 1


@pytest.mark.parametrize("change", [
    {"gross_amount": "150000"},  # reformatted amount: the signature covers the string as sent
    {"status_code": "201"},
    {"signature_key": "0" * 128},
    {"signature_key": "not hex at all ✓"},
])
def test_bad_signature_gets_400_is_logged_and_changes_nothing(client, payment, queued, caplog, change):
    body = {**for_payment(payment), **change}
    with caplog.at_level(logging.WARNING):
        response = post(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_signature"
    assert stored() == 0 and queued == []
    assert "bad_signature" in caplog.text
    db.session.expire_all()
    assert payment.status is PaymentStatus.CREATED


def test_signed_with_another_environments_key_is_refused(client, payment, queued):
    body = for_payment(payment)
    assert post(client, sign(body, "SB-Mid-server-someone-else")).status_code == 400
    assert post(client, sign(body, TEST_KEY)).status_code == 200


def test_unknown_order_gets_404(client, payment, queued):
    response = post(client, signed(sample("credit_card_capture.json")))
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown_order"
    assert stored() == 0 and queued == []


def test_dashboard_test_notification_is_acknowledged_and_changes_nothing(client, queued, caplog):
    body = signed(sample("credit_card_capture.json"), order_id="payment_notif_test_G141532850_abc")
    with caplog.at_level(logging.INFO):
        response = post(client, body)
    assert response.status_code == 200
    assert stored() == 0 and queued == []
    assert "payment_notif_test_G141532850_abc" in caplog.text and "signature_valid=True" in caplog.text


def test_oversized_body_gets_413(client, payment, queued):
    body = for_payment(payment, padding="x" * (views.NOTIFICATION_MAX_BYTES + 1))
    response = post(client, body)
    assert response.status_code == 413
    assert response.is_json
    assert stored() == 0 and queued == []


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_never_redirects(client, payment, queued, path):
    response = post(client, for_payment(payment), path=path)
    assert response.status_code == 200
    for method in ("get", "put", "delete"):
        answer = getattr(client, method)(path)
        assert answer.status_code == 405 and answer.is_json


def test_exempt_from_csrf(app, client, payment, queued, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert post(client, for_payment(payment)).status_code == 200


def test_enqueue_failure_still_answers_200_and_leaves_the_row_for_the_sweeper(client, payment, monkeypatch):
    def broker_down(notification_ids):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(queueing, "enqueue_notifications", broker_down)
    assert post(client, for_payment(payment)).status_code == 200
    assert db.session.scalars(select(Notification)).one().state is NotificationState.RECEIVED


def test_a_failing_eager_task_does_not_turn_into_a_5xx(client, payment, verify_status):
    verify_status.script("GET", f"/v2/{sample('fixture_credit_card_settlement_sbtest.json')['transaction_id']}/status",
                         401, {"status_code": "401", "status_message": "Unauthorized"})
    assert post(client, for_payment(payment)).status_code == 200
    db.session.expire_all()
    notification = db.session.scalars(select(Notification)).one()
    assert notification.state is NotificationState.FAILED
    assert "refused the server key" in notification.error
    db.session.expire_all()
    assert payment.status is PaymentStatus.CREATED


def test_database_down_answers_503(payment):
    body = for_payment(payment)
    down = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/shop",
                           SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}))
    response = post(down.test_client(), body)
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_secrets_never_reach_the_logs(client, payment, caplog):
    body = for_payment(payment, masked_card="48111111-1114")
    with caplog.at_level(logging.DEBUG):
        post(client, body)
        post(client, {**body, "signature_key": "f" * 128})
    assert caplog.text  # the flow did log
    assert TEST_KEY not in caplog.text
    assert body["signature_key"] not in caplog.text and "f" * 128 not in caplog.text
    assert "48111111-1114" not in caplog.text


def test_duplicate_deliveries_are_stored_each_and_mail_once(client, payment):
    body = for_payment(payment)
    with mail.record_messages() as outbox:
        for _ in range(3):
            assert post(client, body).status_code == 200
    outcomes = [n.outcome for n in db.session.scalars(select(Notification).order_by(Notification.id))]
    assert outcomes == [NotificationOutcome.APPLIED, NotificationOutcome.DUPLICATE, NotificationOutcome.DUPLICATE]
    assert len(outbox) == 1
