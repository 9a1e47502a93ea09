"""shop.broker: the webhook's one-LPUSH enqueue writes exactly the message Celery writes."""
import base64
import json
import os

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from shop import broker, create_app
from shop.celery_config import EMAIL_PRIORITY, PERIODIC_QUEUE, RECONCILE_QUEUE
from shop.config import TEST_SETTINGS
from shop.outbox.tasks import send_email
from shop.payments.tasks import process_notification

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
EMAILS = "celery\x06\x169"  # kombu's list for the default queue's priority step 9
QUEUES = ("celery", PERIODIC_QUEUE, RECONCILE_QUEUE, EMAILS)
PER_MESSAGE = {("headers", "id"), ("headers", "root_id"), ("properties", "correlation_id"),
               ("properties", "delivery_tag")}


@pytest.fixture
def on_redis(app):
    """This app's Celery, pointed at a real Redis broker (tasks queued, not run)."""
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                           CELERY_BROKER_URL=REDIS_URL))
    queue = redis.Redis.from_url(REDIS_URL)
    queue.delete(*QUEUES)
    with shop.app_context():
        yield shop.extensions["celery"], queue
    queue.delete(*QUEUES)


def queued_message(queue, name: str = "celery") -> dict:
    raw = queue.rpop(name)
    assert raw is not None, "nothing was queued"
    return json.loads(raw)


def without_per_message_fields(message: dict) -> dict:
    copy = json.loads(json.dumps(message))
    for part, field in PER_MESSAGE:
        copy[part].pop(field)
    return copy


def test_the_message_is_the_one_celery_writes(on_redis):
    celery_app, queue = on_redis
    celery_app.tasks[process_notification.name].apply_async((42,))
    celerys = queued_message(queue)
    broker.publish(celery_app, process_notification.name, 42)
    ours = queued_message(queue)
    assert without_per_message_fields(ours) == without_per_message_fields(celerys)
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    assert ours["headers"]["id"] != celerys["headers"]["id"]
    assert json.loads(base64.b64decode(ours["body"]))[0] == [42]


def test_an_email_is_the_message_celery_writes_on_the_list_of_its_priority(on_redis):
    celery_app, queue = on_redis
    assert celery_app.tasks[send_email.name].priority == EMAIL_PRIORITY == 9
    celery_app.tasks[send_email.name].apply_async((5,))
    celerys = queued_message(queue, EMAILS)
    broker.publish_each(celery_app, send_email.name, [(5,), (6,)])
    ours = queued_message(queue, EMAILS)
    assert without_per_message_fields(ours) == without_per_message_fields(celerys)
    assert ours["properties"]["priority"] == 9
    assert queue.llen("celery") == 0 and queue.llen(EMAILS) == 1
    assert broker.waiting(celery_app) == 1  # kombu counts every priority of the queue


def test_every_message_has_its_own_ids(on_redis):
    celery_app, queue = on_redis
    for notification_id in (1, 2):
        broker.publish(celery_app, process_notification.name, notification_id)
    first, second = queued_message(queue), queued_message(queue)
    assert first["headers"]["id"] != second["headers"]["id"]
    assert first["properties"]["delivery_tag"] != second["properties"]["delivery_tag"]


def test_a_change_to_the_task_shows_in_the_next_message(on_redis, monkeypatch):
    celery_app, queue = on_redis
    task = celery_app.tasks[process_notification.name]
    broker.publish(celery_app, process_notification.name, 1)
    assert queued_message(queue)["headers"]["timelimit"] == [task.time_limit, task.soft_time_limit]
    monkeypatch.setattr(task, "time_limit", task.soft_time_limit + 1)
    task.apply_async((2,))
    celerys = queued_message(queue)
    broker.publish(celery_app, process_notification.name, 2)
    ours = queued_message(queue)
    assert ours["headers"]["timelimit"] == [task.soft_time_limit + 1, task.soft_time_limit]
    assert without_per_message_fields(ours) == without_per_message_fields(celerys)


def test_many_calls_are_one_lpush_taken_in_the_order_given(on_redis, monkeypatch):
    celery_app, queue = on_redis
    pushes = []
    client = broker._client(celery_app.conf.broker_url)
    monkeypatch.setattr(client, "lpush", lambda name, *values: pushes.append(len(values)) or queue.lpush(name, *values))
    broker.publish_each(celery_app, process_notification.name, [(3,), (1,), (2,)])
    assert pushes == [3]
    taken = [queued_message(queue) for _ in range(3)]  # a worker takes from the tail
    assert [json.loads(base64.b64decode(message["body"]))[0] for message in taken] == [[3], [1], [2]]
    assert len({message["headers"]["id"] for message in taken}) == 3
    broker.publish_each(celery_app, process_notification.name, [])
    assert pushes == [3] and queue.llen("celery") == 0


def test_many_calls_in_process_run_each_through_celery(app, monkeypatch):
    task = app.extensions["celery"].tasks[process_notification.name]
    sent = []
    monkeypatch.setattr(task, "apply_async", lambda args, **options: sent.append(args))
    broker.publish_each(app.extensions["celery"], process_notification.name, [(4,), (5,)])
    assert sent == [(4,), (5,)]


@pytest.mark.parametrize("url, options", [("amqp://guest:guest@127.0.0.1:5672//", {}),
                                          ("redis://127.0.0.1:6379/1", {"global_keyprefix": "shop:"})])
def test_other_brokers_and_key_prefixes_go_through_celery(app, url, options, monkeypatch):
    celery_app = app.extensions["celery"]
    task = celery_app.tasks[process_notification.name]
    sent = []
    monkeypatch.setattr(task, "apply_async", lambda args, **options: sent.append(args))
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)
    broker.publish(celery_app, process_notification.name, 7)
    assert sent == [(7,)]


def test_in_process_tasks_run_through_celery(app, monkeypatch):
    celery_app = app.extensions["celery"]
    assert celery_app.conf.task_always_eager
    task = celery_app.tasks[process_notification.name]
    sent = []
    monkeypatch.setattr(task, "apply_async", lambda args, **options: sent.append(args))
    broker.publish(celery_app, process_notification.name, 8)
    assert sent == [(8,)]


def test_a_broker_that_does_not_answer_raises(on_redis, monkeypatch):
    celery_app, _ = on_redis
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    with pytest.raises(RedisConnectionError):
        broker.publish(celery_app, process_notification.name, 9)


@pytest.mark.parametrize("option, value", [("queue", "payments"), ("expires", 60)])
def test_a_task_with_options_of_its_own_goes_through_celery(on_redis, option, value, monkeypatch):
    celery_app, queue = on_redis
    task = celery_app.tasks[process_notification.name]
    sent = []
    monkeypatch.setattr(task, option, value, raising=False)
    monkeypatch.setattr(task, "apply_async", lambda args, **options: sent.append(args))
    broker.publish(celery_app, process_notification.name, 10)
    assert sent == [(10,)] and queue.llen("celery") == 0


def test_waiting_counts_the_messages_no_worker_has_taken(on_redis):
    celery_app, queue = on_redis
    assert broker.waiting(celery_app) == 0  # an empty queue: Redis keeps no key for it
    broker.publish_each(celery_app, process_notification.name, [(1,), (2,), (3,)])
    assert broker.waiting(celery_app) == 3
    queue.rpop("celery")  # a worker took one
    assert broker.waiting(celery_app) == 2


def test_waiting_at_a_priority_counts_that_list_alone(on_redis):
    celery_app, queue = on_redis
    broker.publish_each(celery_app, send_email.name, [(1,), (2,)])  # at EMAIL_PRIORITY
    assert broker.waiting(celery_app) == 2 and broker.waiting(celery_app, priority=0) == 0
    broker.publish(celery_app, process_notification.name, 3)
    assert broker.waiting(celery_app) == 3 and broker.waiting(celery_app, priority=0) == 1
    assert broker.waiting(celery_app, priority=EMAIL_PRIORITY) == 2


def test_waiting_is_unknown_without_a_broker_or_when_it_does_not_answer(app, caplog):
    assert broker.waiting(app.extensions["celery"]) is None  # tasks in-process
    down = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                           CELERY_BROKER_URL="redis://127.0.0.1:1/0"))
    assert broker.waiting(down.extensions["celery"]) is None
    assert "could not count the messages waiting in celery" in caplog.text


def test_periodic_runs_and_reconciliation_checks_have_queues_of_their_own(on_redis):
    celery_app, queue = on_redis
    for entry in celery_app.conf.beat_schedule.values():  # as beat sends them
        celery_app.tasks[entry["task"]].apply_async((), {}, **entry["options"])
    celery_app.tasks["payments.reconcile_payment"].delay(7)  # a reconciliation run's fan-out
    broker.publish(celery_app, process_notification.name, 8)  # the webhook's and the sweeper's
    assert [queue.llen(name) for name in QUEUES] == [1, len(celery_app.conf.beat_schedule), 1, 0]  # beat's: periodic
    assert broker.waiting(celery_app) == 1  # what the sweeper asks about: the notification queue alone


def test_a_priority_given_by_the_caller_is_the_messages_own(on_redis):
    celery_app, queue = on_redis
    celery_app.tasks[send_email.name].apply_async((5,), priority=0)
    celerys = queued_message(queue)
    broker.publish_each(celery_app, send_email.name, [(5,)], priority=0)
    ours = queued_message(queue)
    assert without_per_message_fields(ours) == without_per_message_fields(celerys)
    assert ours["properties"]["priority"] == 0 and queue.llen(EMAILS) == 0
    broker.publish_each(celery_app, send_email.name, [(6,)])  # the task's own again
    assert queue.llen("celery") == 0 and queued_message(queue, EMAILS)["properties"]["priority"] == 9


def test_a_priority_given_by_the_caller_goes_through_celery_in_process(app, monkeypatch):
    task = app.extensions["celery"].tasks[send_email.name]
    sent = []
    monkeypatch.setattr(task, "apply_async", lambda args, **options: sent.append((args, options)))
    broker.publish_each(app.extensions["celery"], send_email.name, [(4,)], priority=0)
    broker.publish_each(app.extensions["celery"], send_email.name, [(5,)])
    assert sent == [((4,), {"priority": 0}), ((5,), {"priority": EMAIL_PRIORITY})]


def test_a_worker_takes_waiting_notifications_before_waiting_emails(on_redis):
    celery_app, _ = on_redis
    broker.publish_each(celery_app, send_email.name, [(1,), (2,)])
    broker.publish_each(celery_app, process_notification.name, [(3,), (4,)])
    with celery_app.connection_for_read() as connection:
        taken = connection.SimpleQueue("celery", no_ack=True)  # kombu's Redis channel, as a worker reads
        names = [taken.get(timeout=1).headers["task"] for _ in range(4)]
        taken.close()
    assert names == [process_notification.name] * 2 + [send_email.name] * 2


@pytest.mark.parametrize("priority", [2, 5, 7, 12])
def test_any_priority_goes_to_the_list_celery_puts_it_in(on_redis, monkeypatch, priority):
    celery_app, queue = on_redis
    task = celery_app.tasks[process_notification.name]
    monkeypatch.setattr(task, "priority", priority)
    lists = ["celery"] + [f"celery\x06\x16{step}" for step in (3, 6, 9)]
    task.apply_async((1,))
    [celerys] = [name for name in lists if queue.llen(name)]
    queue.delete(*lists)
    broker.publish(celery_app, process_notification.name, 1)
    assert [name for name in lists if queue.llen(name)] == [celerys]
    queue.delete(*lists)
