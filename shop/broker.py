"""Queueing a task (the webhook's, the e-mail's): one LPUSH of the message Celery itself would write.

Celery's own publish goes through kombu's Redis transport, which builds a new Redis client object
and asks Redis for the queue's bindings on every message: 0.35 ms of CPU and two round trips per
task, a third of the webhook's time under load (bench/README.md). On a Redis broker this module
writes the same message -- Celery's task protocol 2, JSON, in kombu's Redis envelope, on the
task's default queue -- with one LPUSH on a client kept per process.
`tests/test_broker.py` compares it field by field with what `apply_async` writes, so a
Celery or kombu upgrade that changes the format fails there; real workers consume it in the
process tests. A message's priority (the task's own, as for the shopper's e-mails after every
notification waiting, or the caller's) goes to the list kombu keeps for that priority step.
Tasks with routes, a queue or expiry of their own, a key prefix on the broker, other brokers and
in-process (eager) tasks go through Celery.
"""
import base64
import json
import logging
import os
import uuid
from bisect import bisect

import redis
from celery import Celery
from celery.utils.nodenames import anon_nodename
from kombu.transport.redis import Channel as RedisChannel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

# A broker that does not answer fails the publish within about two seconds (3 tries of 0.5 s);
# the caller then leaves the stored notification to the sweeper. Celery's publish retry policy
# (shop/config.py) is the same for the tasks it sends.
SOCKET_TIMEOUT = 0.5
RETRIES = 2

log = logging.getLogger(__name__)
_clients: dict[tuple[int, str], redis.Redis] = {}


def publish(celery_app: Celery, task_name: str, *args) -> None:
    """Queue `task_name(*args)` on `celery_app`'s broker."""
    publish_each(celery_app, task_name, [args])


def publish_each(celery_app: Celery, task_name: str, calls: list[tuple], priority: int | None = None) -> None:
    """Queue `task_name(*args)` for every `args` in `calls`, in that order: one LPUSH for them all.

    At `priority` when given, else at the task's own.
    """
    task = celery_app.tasks[task_name]
    priority = task.priority if priority is None else priority
    conf = celery_app.conf
    if (conf.task_always_eager or conf.task_routes or not _is_redis(conf.broker_url)
            or (conf.broker_transport_options or {}).get("global_keyprefix")
            or getattr(task, "queue", None) or task.expires is not None):
        for args in calls:
            task.apply_async(args, priority=priority)
        return
    if not calls:
        return
    queue = conf.task_default_queue
    template = _template(task, queue, priority)
    # LPUSH puts each value at the head in turn and workers take from the tail: first in, first out.
    _client(conf.broker_url).lpush(_list_of(queue, priority),
                                   *(template.message(celery_app, args) for args in calls))


def lists_of(queue: str) -> list[str]:
    """Every Redis list kombu keeps `queue`'s messages in, one per priority step, first taken first."""
    return [_list_of(queue, step) for step in RedisChannel.priority_steps]


def _list_of(queue: str, priority: int | None) -> str:
    """The Redis list kombu keeps `queue`'s messages of `priority` in: workers empty the lists of the
    first step (0, the default) before those of the next, across all the queues they consume."""
    level = max(min(priority or 0, RedisChannel.max_priority), RedisChannel.min_priority)  # as kombu clamps it
    step = RedisChannel.priority_steps[bisect(RedisChannel.priority_steps, level) - 1]
    return f"{queue}{RedisChannel.sep}{step}" if step else queue


def waiting(celery_app: Celery, queue: str | None = None, priority: int | None = None) -> int | None:
    """Messages in `queue` (the default one) that no worker has taken yet; None when unknown.

    With `priority`, on Redis only those of its priority step (the list kombu keeps them in); other
    brokers keep every priority in one queue and count them all. Unknown: tasks run in-process (no
    broker), or the broker did not answer at once.
    """
    conf = celery_app.conf
    if conf.task_always_eager:
        return None
    name = queue or conf.task_default_queue
    try:
        with celery_app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            if priority is not None and _is_redis(conf.broker_url):  # the channel's client adds any key prefix
                return connection.default_channel.client.llen(_list_of(name, priority))
            # kombu's Redis transport keeps no key for an empty queue, so a passive declare would say
            # "no such queue"; declaring there creates nothing. RabbitMQ's queue exists once a worker
            # declared it, and a passive declare leaves its settings alone.
            declared = connection.default_channel.queue_declare(queue=name, passive=not _is_redis(conf.broker_url))
            return declared.message_count
    except Exception as error:  # noqa: BLE001 -- unknown is an answer the caller handles
        log.warning("could not count the messages waiting in %s (%s: %s)", name, type(error).__name__,
                    str(error)[:200])
        return None


class _Template:
    """Celery's protocol-2 message for a task, in kombu's Redis envelope, as JSON with stand-ins
    for what differs from one message to the next.

    Building the message as a dict and encoding it took 60 us; filling the stand-ins, a quarter.
    """

    TASK_ID, DELIVERY_TAG, REPLY_TO, BODY, ARGSREPR = (f"@shop-broker-{name}@" for name in
                                                       ("task-id", "delivery-tag", "reply-to", "body", "argsrepr"))

    def __init__(self, task, queue: str, priority: int | None):
        headers = {
            "lang": "py", "task": task.name, "id": self.TASK_ID, "shadow": None, "eta": None, "expires": None,
            "group": None, "group_index": None, "retries": 0, "timelimit": [task.time_limit, task.soft_time_limit],
            "root_id": self.TASK_ID, "parent_id": None, "argsrepr": self.ARGSREPR, "kwargsrepr": "{}",
            "origin": anon_nodename(), "ignore_result": task.ignore_result, "replaced_task_nesting": 0,
            "stamped_headers": None, "stamps": {},
        }
        properties = {
            "correlation_id": self.TASK_ID, "reply_to": self.REPLY_TO, "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue}, "priority": priority or 0,
            "body_encoding": "base64",
            "delivery_tag": self.DELIVERY_TAG,
        }
        self.text = json.dumps({"body": self.BODY, "content-encoding": "utf-8", "content-type": "application/json",
                                "headers": headers, "properties": properties})

    def message(self, celery_app: Celery, args: tuple) -> str:
        task_id = str(uuid.uuid4())
        body = json.dumps([list(args), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
        return (self.text.replace(self.TASK_ID, task_id)
                .replace(self.DELIVERY_TAG, str(uuid.uuid4()))
                .replace(self.REPLY_TO, celery_app.thread_oid)
                .replace(self.BODY, base64.b64encode(body.encode()).decode())
                .replace(self.ARGSREPR, json.dumps(repr(tuple(args)))[1:-1]))


_templates: dict[tuple, _Template] = {}


def _template(task, queue: str, priority: int | None) -> _Template:
    # Per process (the origin names it) and per what the task's headers and properties say.
    key = (os.getpid(), task.name, queue, task.time_limit, task.soft_time_limit, task.ignore_result, priority)
    template = _templates.get(key)
    if template is None:
        template = _templates[key] = _Template(task, queue, priority)
    return template


def _is_redis(url: str) -> bool:
    # Celery's own Redis URLs that redis-py reads the same way (kombu's "redis+socket://" is not one).
    return url.startswith(("redis://", "rediss://"))


def _client(url: str) -> redis.Redis:
    # One client (and connection pool) per process: a forked process makes its own.
    key = (os.getpid(), url)
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), RETRIES),
            retry_on_error=[RedisConnectionError, RedisTimeoutError])
    return client
