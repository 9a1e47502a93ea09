"""Midtrans's retry policy per answer code, against a receiver that answers scripted codes."""
import socket

import pytest

from shop.emulator import notifications as shapes
from shop.emulator.sender import retries_for, send_in_background
from tests.emulator.conftest import SERVER_KEY, WAIT_SECONDS

pytestmark = pytest.mark.loopback

TXN = shapes.Transaction("TK-000009-1", "5d1c8a0e-1111-4222-8333-944445555666", 20000, "bca_va", "2026-11-27 10:00:00")


def body(status: str) -> dict:
    return shapes.build_notification(TXN, status, SERVER_KEY)


def send(bodies: list[dict], urls: list[str], attempts: list | None = None, sent: list | None = None):
    on_attempt = (lambda b, url, n, answer: attempts.append((b["transaction_status"], n, answer))) \
        if attempts is not None else (lambda *a: None)
    dispatch = send_in_background(bodies, urls, (0.0,), (sent if sent is not None else []).append, on_attempt)
    assert dispatch.wait(WAIT_SECONDS)
    return dispatch


@pytest.mark.parametrize("code,tries", [
    (200, 1), (201, 1), (204, 1),
    (500, 2), (503, 5), (400, 3), (404, 3),
    (301, 1), (302, 1), (303, 1),
    (401, 6), (403, 6), (502, 6), (504, 6),
])
def test_each_answer_gets_midtrans_number_of_tries(receiver, code, tries):
    receiver.answer("/hook", *[code] * 10)
    settlement = body("settlement")
    send([settlement], [receiver.url + "/hook"])
    assert len(receiver.requests) == tries
    assert receiver.bodies() == [settlement] * tries


def test_retries_stop_at_the_first_success(receiver):
    receiver.answer("/hook", 503, 503, 200)
    dispatch = send([body("pending")], [receiver.url + "/hook"])
    assert len(receiver.requests) == 3
    assert dispatch.deliveries[0].answers == [503, 503, 200]


def test_a_refused_connection_is_tried_six_times():
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        attempts = []
        send([body("pending")], [f"http://127.0.0.1:{bound.getsockname()[1]}/hook"], attempts)
    assert [n for _, n, _ in attempts] == [1, 2, 3, 4, 5, 6]
    assert {answer for _, _, answer in attempts} == {"ConnectionError"}


def test_a_307_is_followed_with_the_same_post(receiver):
    receiver.redirects["/old"] = (307, "/new")
    settlement = body("settlement")
    dispatch = send([settlement], [receiver.url + "/old"])
    assert [(r["method"], r["path"]) for r in receiver.requests] == [("POST", "/old"), ("POST", "/new")]
    assert receiver.bodies("/new") == [settlement]
    assert dispatch.deliveries[0].answers == [200]


def test_a_302_is_neither_followed_nor_retried(receiver):
    receiver.redirects["/old"] = (302, "/new")
    send([body("settlement")], [receiver.url + "/old"])
    assert [r["path"] for r in receiver.requests] == ["/old"]


def test_the_body_is_json_with_midtrans_headers(receiver):
    send([body("pending")], [receiver.url + "/hook"])
    headers = receiver.requests[0]["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Veritrans"
    assert receiver.bodies() == [body("pending")]


def test_a_failing_notification_does_not_hold_back_the_next(receiver):
    receiver.answer("/hook pending", 503)
    sent = []
    # Retries wait an hour here: the settlement can only arrive if it does not queue behind them.
    dispatch = send_in_background([body("pending"), body("settlement")], [receiver.url + "/hook"], (3600.0,),
                                  sent.append, lambda *a: None)
    try:
        assert receiver.wait_for(2)
        assert [b["transaction_status"] for b in receiver.bodies()] == ["pending", "settlement"]
        assert [b["transaction_status"] for b in sent] == ["pending", "settlement"]
    finally:
        dispatch.cancel()
    assert dispatch.wait(WAIT_SECONDS)
    assert [d.answers for d in dispatch.deliveries] == [[503], [200]]


def test_every_url_gets_every_notification_in_order(receiver):
    send([body("pending"), body("settlement")], [receiver.url + "/a", receiver.url + "/b"])
    for path in ("/a", "/b"):
        assert [b["transaction_status"] for b in receiver.bodies(path)] == ["pending", "settlement"]


def test_no_answer_counts_as_another_failure():
    assert retries_for(None) == 5
