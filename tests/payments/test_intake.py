"""The webhook's group commit (shop.payments.intake): batches, each request's own answer, failures."""
import json
import logging
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shop.extensions import db
from shop.models import utcnow
from shop.payments import intake as intake_module
from shop.payments import queueing, receiving
from shop.payments.intake import Intake, NotStored, intake_for, store_rows
from shop.payments.models import Notification, NotificationState
from tests.payments.helpers import committed_payment, for_payment, post, wait_until


class GatedStore:
    """A store that records its batches, holds the first one until `release()`, and fails on `bad` rows."""

    def __init__(self, hold_first: bool = True):
        self.batches: list[list[dict]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        if not hold_first:
            self.gate.set()

    def __call__(self, rows):
        self.batches.append([row["n"] for row in rows])
        self.entered.set()
        assert self.gate.wait(10), "the test never released the store"
        if any(row.get("bad") for row in rows):
            raise ValueError("the database refused a row")
        return [row["n"] * 10 if not row.get("unknown") else None for row in rows]

    def release(self):
        self.gate.set()


def submit_in_threads(intake: Intake, rows: list[dict], queue: bool = True) -> tuple[list, list[threading.Thread]]:
    answers: list = [None] * len(rows)

    def run(i):
        try:
            answers[i] = ("id", intake.submit(rows[i], queue))
        except BaseException as error:  # noqa: BLE001 -- the test looks at what each request got
            answers[i] = ("error", error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(rows))]
    for thread in threads:
        thread.start()
    return answers, threads


def join(threads):
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


def leader_holding(intake: Intake, store: GatedStore, row: dict):
    """Start a first request and wait until it is inside the store (so later ones must wait)."""
    answers, threads = submit_in_threads(intake, [row])
    assert store.entered.wait(10)
    return answers, threads


def two_behind_a_held_first(intake: Intake, calls: list, release: threading.Event) -> list:
    """Row 1 into the store (which holds until `release`), rows 2 and 3 waiting behind it; their answers."""
    first, first_threads = submit_in_threads(intake, [{"n": 1}])
    wait_until(lambda: calls, "the first store")
    answers, threads = submit_in_threads(intake, [{"n": 2}, {"n": 3}])
    wait_until(lambda: intake.waiting == 2, "two requests waiting")
    release.set()
    join(first_threads + threads)
    return answers


def test_a_lone_notification_is_stored_at_once_alone_then_queued():
    store, queued = GatedStore(hold_first=False), []
    intake = Intake(store, queued.append)
    assert intake.submit({"n": 1}, queue=True) == 10
    assert store.batches == [[1]]
    assert queued == [[10]]


def test_notifications_arriving_during_a_store_are_stored_together_next_each_with_its_own_id():
    store, queued = GatedStore(), []
    intake = Intake(store, queued.append)
    first, first_threads = leader_holding(intake, store, {"n": 1})
    answers, threads = submit_in_threads(intake, [{"n": 2}, {"n": 3}, {"n": 4}])
    wait_until(lambda: intake.waiting == 3, "three requests waiting")
    store.release()
    join(first_threads + threads)
    assert first == [("id", 10)]
    assert answers == [("id", 20), ("id", 30), ("id", 40)]
    assert store.batches[0] == [1]
    assert sorted(store.batches[1]) == [2, 3, 4]  # one statement for the three
    assert len(store.batches) == 2
    assert queued == [[10], [n * 10 for n in store.batches[1]]]  # one LPUSH a batch, in its order
    assert intake.waiting == 0


def test_only_the_rows_asking_for_it_are_queued_and_an_unknown_payment_is_none():
    store, queued = GatedStore(), []
    intake = Intake(store, queued.append)
    first, first_threads = leader_holding(intake, store, {"n": 1})
    quiet, quiet_threads = submit_in_threads(intake, [{"n": 2}], queue=False)
    unknown, unknown_threads = submit_in_threads(intake, [{"n": 3, "unknown": True}])
    wait_until(lambda: intake.waiting == 2, "two requests waiting")
    store.release()
    join(first_threads + quiet_threads + unknown_threads)
    assert (first, quiet, unknown) == ([("id", 10)], [("id", 20)], [("id", None)])
    assert queued == [[10]]  # 2 did not ask, 3 was not stored


def test_a_refused_batch_is_stored_row_by_row_and_only_the_bad_row_fails(caplog):
    store, queued = GatedStore(), []
    intake = Intake(store, queued.append)
    first, first_threads = leader_holding(intake, store, {"n": 1})
    answers, threads = submit_in_threads(intake, [{"n": 2}, {"n": 3, "bad": True}, {"n": 4}])
    wait_until(lambda: intake.waiting == 3, "three requests waiting")
    with caplog.at_level(logging.WARNING, logger="shop.payments.intake"):
        store.release()
        join(first_threads + threads)
    assert answers[0] == ("id", 20) and answers[2] == ("id", 40)
    assert answers[1][0] == "error" and str(answers[1][1]) == "the database refused a row"
    assert sorted(store.batches[1]) == [2, 3, 4] and sorted(store.batches[2:]) == [[2], [3], [4]]
    assert sorted(queued[1]) == [20, 40]
    assert "storing them one by one" in caplog.text


def test_a_database_that_cannot_be_reached_fails_the_whole_batch_without_trying_each_row():
    calls = []
    release = threading.Event()

    def store(rows):
        calls.append(len(rows))
        if len(calls) == 1:
            release.wait(10)
            return [1]
        raise OperationalError("INSERT ...", {}, Exception("connection refused"))

    answers = two_behind_a_held_first(Intake(store, lambda ids: None), calls, release)
    assert calls == [1, 2]  # no third and fourth call, one per row
    assert [type(answer[1]) for answer in answers] == [OperationalError, OperationalError]


def test_batches_on_postgresql_one_row_at_a_time_elsewhere(app):
    expected = intake_module.MAX_BATCH if db.engine.dialect.name == "postgresql" else 1
    assert intake_for(app).max_batch == expected


def test_a_lone_refused_row_fails_its_request_and_the_intake_goes_on():
    store = GatedStore(hold_first=False)
    intake = Intake(store, lambda ids: None)
    with pytest.raises(ValueError, match="refused"):
        intake.submit({"n": 1, "bad": True}, queue=True)
    assert intake.submit({"n": 2}, queue=True) == 20


def test_a_failing_queue_still_answers_with_the_stored_ids(caplog):
    def broker_down(ids):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    intake = Intake(GatedStore(hold_first=False), broker_down)
    with caplog.at_level(logging.ERROR, logger="shop.payments.intake"):
        assert intake.submit({"n": 5}, queue=True) == 50
    assert "notifications=[50] stored but not queued" in caplog.text


class Interrupted(BaseException):
    pass


def test_a_leader_stopped_mid_store_wakes_its_batch_unstored_and_hands_the_store_on():
    calls = []
    release = threading.Event()

    def store(rows):
        calls.append([row["n"] for row in rows])
        if len(calls) == 1:
            release.wait(10)
        if len(calls) == 2:
            raise Interrupted()  # a greenlet killed inside the store: no Exception, no answer
        return [row["n"] for row in rows]

    intake = Intake(store, lambda ids: None)
    answers = two_behind_a_held_first(intake, calls, release)
    kinds = sorted(type(answer[1]).__name__ for answer in answers)
    assert kinds == ["Interrupted", "NotStored"]  # the leader sees its own interruption
    assert intake.submit({"n": 4}, queue=False) == 4  # not left busy


def test_a_long_queue_is_cut_into_batches():
    store = GatedStore()
    intake = Intake(store, lambda ids: None, max_batch=2)
    first, first_threads = leader_holding(intake, store, {"n": 1})
    answers, threads = submit_in_threads(intake, [{"n": n} for n in range(2, 7)])
    wait_until(lambda: intake.waiting == 5, "five requests waiting")
    store.release()
    join(first_threads + threads)
    assert sorted(len(batch) for batch in store.batches) == [1, 1, 2, 2]
    assert answers == [("id", n * 10) for n in range(2, 7)]


def test_a_request_waits_on_the_event_class_threading_has_now(monkeypatch):
    """gevent patches threading when gunicorn's worker starts, maybe after this module was imported."""

    class Patched(threading.Event):
        pass

    monkeypatch.setattr(threading, "Event", Patched)
    assert type(intake_module._Slot({"n": 1}, queue=False).ready) is Patched


def test_not_stored_is_what_an_unfinished_slot_answers():
    slot = intake_module._Slot({"n": 1}, queue=False)
    with pytest.raises(NotStored):
        slot.outcome()


# --- the statements, on the test's database (PostgreSQL: one WITH ... INSERT; SQLite: one by one)

def row_for(body: dict) -> dict:
    return {"body": json.dumps(body), "received_at": utcnow(), "order_id": body["order_id"],
            **receiving.summary_columns(body)}


def test_each_row_gets_its_own_id_in_the_order_given_and_unknown_payments_none():
    first, second = committed_payment(), committed_payment()
    settlement = for_payment(first)
    pending = for_payment(second, transaction_status="pending", status_code="201")
    unknown = dict(settlement, order_id="ORDER-NOBODY-HAS")
    rows = [row_for(settlement), row_for(unknown), row_for(pending), row_for(settlement)]
    ids = store_rows(rows)
    assert ids[1] is None
    assert len({ids[0], ids[2], ids[3]}) == 3  # the same body twice: two rows, two ids
    stored = {n.id: n for n in db.session.scalars(select(Notification))}
    assert sorted(stored) == sorted([ids[0], ids[2], ids[3]])
    for row, notification_id in zip(rows, ids):
        if notification_id is not None:
            notification = stored[notification_id]
            assert notification.body == row["body"]
            assert notification.payment_id == (first if row is not rows[2] else second).id
            assert notification.received_at == row["received_at"]
            assert notification.state is NotificationState.RECEIVED and notification.attempts == 0
    assert stored[ids[2]].transaction_status == "pending"


def test_the_raw_body_is_stored_exactly_whatever_it_holds():
    payment = committed_payment()
    row = row_for(for_payment(payment))
    row["body"] = row["body"][:-1] + ', "note": "kopi \\"susu\\" \\\\ \\u0000 \\n\ttab \u00e9\u20ac \U0001f600 \'"}'
    received = row["received_at"]
    [notification_id] = store_rows([row])
    stored = db.session.get(Notification, notification_id)
    assert stored.body == row["body"] and stored.received_at == received


@pytest.mark.integration
@pytest.mark.postgres
def test_concurrent_webhook_requests_share_one_statement_and_each_is_queued_once(app, clean_db, monkeypatch):
    """Real requests on threads, real commits: one held in the store, five stored together next."""
    payments = [committed_payment() for _ in range(6)]
    bodies = [for_payment(payment) for payment in payments]  # read here: the threads have no session
    gate, entered, batches = threading.Event(), threading.Event(), []

    def held_store(rows):
        batches.append(len(rows))
        entered.set()
        gate.wait(10)
        return store_rows(rows)

    queued = []
    monkeypatch.setattr(queueing, "enqueue_notifications", queued.extend)
    intake = Intake(held_store, intake_module.queue_rows)
    monkeypatch.setitem(app.extensions, "notification_intake", intake)
    statuses = [None] * 6

    def send(i):
        statuses[i] = post(app.test_client(), bodies[i]).status_code

    threads = [threading.Thread(target=send, args=(0,))]
    threads[0].start()
    assert entered.wait(10)
    threads += [threading.Thread(target=send, args=(i,)) for i in range(1, 6)]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: intake.waiting == 5, "five requests waiting")
    gate.set()
    join(threads)
    assert statuses == [200] * 6
    assert batches == [1, 5]
    rows = db.session.execute(select(Notification.id, Notification.payment_id)).all()
    assert sorted(payment_id for _, payment_id in rows) == sorted(p.id for p in payments)
    assert sorted(queued) == sorted(id_ for id_, _ in rows)  # each row queued once, after its commit
