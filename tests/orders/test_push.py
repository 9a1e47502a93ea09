"""Pushing a status change to open order pages (Server-Sent Events)."""
import json
import os
import queue

import pytest
import redis

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.orders.push import RESYNC, LocalPush, RedisPush, StatusHub
from shop.payments.models import PaymentStatus
from tests.factories import PaymentFactory
from tests.orders.helpers import log_in, record_status_change

REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"
WAIT = 10  # seconds; only an upper bound on waiting for an event that should come at once


def events(response):
    """The SSE events of a streamed response, parsed as they arrive."""
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if text.startswith("event: status"):
            yield json.loads(text.split("data: ", 1)[1])


def pending_order():
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    db.session.commit()  # the stream releases its database session between reads
    return payment.order


def test_hub_delivers_only_to_the_streams_of_that_order():
    hub = StatusHub()
    mine, other = hub.open(1), hub.open(2)

    hub.deliver(1, "SUCCESS")

    assert mine.get_nowait() == "SUCCESS"
    assert other.empty()
    hub.close(1, mine)
    hub.close(2, other)
    assert hub.count() == 0


def test_stream_sends_the_stored_status_first_then_the_change_then_ends(app, client):
    order = pending_order()
    log_in(client, order.user)
    response = client.get(f"/orders/{order.id}/events")
    assert response.mimetype == "text/event-stream"
    stream = events(response)

    assert next(stream) == {"status": "PENDING", "is_final": False}
    record_status_change(order, OrderStatus.SUCCESS, PaymentStatus.SUCCESS)
    assert next(stream) == {"status": "SUCCESS", "is_final": True}
    assert next(stream, "ended") == "ended"
    response.close()
    assert app.extensions["order_push"].hub.count() == 0


def test_a_stream_opened_after_the_change_starts_with_it(client):
    order = pending_order()
    record_status_change(order, OrderStatus.EXPIRED, PaymentStatus.EXPIRED)
    log_in(client, order.user)

    response = client.get(f"/orders/{order.id}/events")

    assert list(events(response)) == [{"status": "EXPIRED", "is_final": True}]
    response.close()


def test_a_resync_rereads_the_database(app, client):
    order = pending_order()
    log_in(client, order.user)
    response = client.get(f"/orders/{order.id}/events")
    stream = events(response)
    assert next(stream)["status"] == "PENDING"
    db.session.get(Order, order.id).status = OrderStatus.CANCELLED  # while the listener was away
    db.session.commit()

    app.extensions["order_push"].hub.resync_all()

    assert next(stream)["status"] == "CANCELLED"
    response.close()
    assert app.extensions["order_push"].hub.count() == 0


def test_with_push_off_the_page_polls_only(app, client):
    saved = app.extensions.pop("order_push")
    try:
        order = pending_order()
        log_in(client, order.user)
        html = client.get(f"/orders/{order.id}").get_data(as_text=True)
        events_status = client.get(f"/orders/{order.id}/events").status_code
    finally:
        app.extensions["order_push"] = saved

    assert 'data-events-url=""' in html and 'data-poll-seconds="10"' in html
    assert events_status == 404


def test_the_signal_reaches_local_streams(app):
    push = app.extensions["order_push"]
    assert isinstance(push, LocalPush)  # no REDIS_URL in the test settings
    order = pending_order()
    stream = push.hub.open(order.id)
    try:
        record_status_change(order, OrderStatus.SUCCESS)
        assert stream.get_nowait() == "SUCCESS"
    finally:
        push.hub.close(order.id, stream)


@pytest.mark.integration
def test_redis_listener_fans_out_and_survives_a_bad_message():
    push = RedisPush(REDIS_URL)
    mine, other = push.hub.open(7), push.hub.open(8)
    push.listen()
    assert mine.get(timeout=WAIT) == RESYNC  # sent once the subscription stands
    assert other.get(timeout=WAIT) == RESYNC

    push.redis.publish("shop:order-status", b"not json")
    push.publish(7, "SUCCESS")
    push.publish(8, "EXPIRED")

    assert mine.get(timeout=WAIT) == "SUCCESS"
    assert other.get(timeout=WAIT) == "EXPIRED"  # and nothing of order 7's before it
    with pytest.raises(queue.Empty):
        mine.get_nowait()


@pytest.mark.integration
def test_redis_pool_is_bounded_and_waits():
    push = RedisPush(REDIS_URL)
    assert isinstance(push.redis.connection_pool, redis.BlockingConnectionPool)
    assert push.redis.connection_pool.max_connections == 10


def test_past_the_stream_limit_a_page_is_told_to_poll(app, client):
    order = pending_order()
    log_in(client, order.user)
    app.config["STATUS_PUSH_MAX_STREAMS"] = 1
    hub = app.extensions["order_push"].hub
    held = hub.open(order.id)
    before = hub.count()
    try:
        response = client.get(f"/orders/{order.id}/events")
        after = hub.count()
    finally:
        hub.close(order.id, held)
        app.config["STATUS_PUSH_MAX_STREAMS"] = 800

    assert response.status_code == 503
    assert before == after == 1  # the one held above; the refused request added none
