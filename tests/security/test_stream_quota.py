"""One shopper cannot take the status-stream budget of a web process.

Before, only the per-process cap (STATUS_PUSH_MAX_STREAMS, 800) counted: one shopper opening
800 streams on their own order left every other shopper's page with 503.
"""
from flask import g

from shop.extensions import db
from shop.orders.quota import StreamQuota
from shop.payments.models import PaymentStatus
from tests.factories import PaymentFactory
from tests.orders.helpers import log_in


def pending_order():
    payment = PaymentFactory(status=PaymentStatus.PENDING)
    db.session.commit()  # the stream releases its database session between reads
    return payment.order


def open_streams(client, order, count: int) -> list:
    path = f"/orders/{order.id}/events"
    g.pop("_login_user", None)  # the test's app context is every request's: let each load its own user
    return [client.get(path) for _ in range(count)]


def test_one_shopper_cannot_take_every_stream(app):
    mine, theirs = pending_order(), pending_order()
    per_session, per_user = app.config["STATUS_PUSH_STREAMS_PER_SESSION"], app.config["STATUS_PUSH_STREAMS_PER_USER"]
    sessions = [app.test_client() for _ in range(per_user // per_session + 1)]
    for client in sessions:
        log_in(client, mine.user)
    neighbour = app.test_client()
    log_in(neighbour, theirs.user)  # before any stream: a stream lets go of the database session
    held = []
    try:
        first = open_streams(sessions[0], mine, per_session + 5)
        held += first
        assert [r.status_code for r in first] == [200] * per_session + [429] * 5  # per session cookie
        others = [r for client in sessions[1:] for r in open_streams(client, mine, per_session)]
        held += others
        assert sum(r.status_code == 200 for r in others) == per_user - per_session  # per user, all sessions
        held += open_streams(neighbour, theirs, 1)
        assert held[-1].status_code == 200  # another shopper is still served
    finally:
        for response in reversed(held):  # streams hold request contexts: the last opened closes first
            response.close()
    assert app.extensions["order_push"].hub.count() == 0
    again = open_streams(sessions[0], mine, 1)[0]
    again.close()
    assert again.status_code == 200  # closed streams gave their places back


def test_a_quota_refuses_past_any_holders_limit_and_takes_back():
    quota = StreamQuota()
    assert quota.take({"user:1": 2, "session:a": 1})
    assert not quota.take({"user:1": 2, "session:a": 1})
    assert quota.take({"user:1": 2, "session:b": 1})
    assert not quota.take({"user:1": 2, "session:c": 1})
    quota.give_back(["user:1", "session:a"])
    assert quota.take({"user:1": 2, "session:a": 1})
