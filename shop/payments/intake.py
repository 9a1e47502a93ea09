"""The webhook's store: notifications that arrive together are committed together (group commit).

A web process serves many notifications at once (greenlets under gevent, or threads). Each used
to take a round trip to the database and one to Redis of its own, and most of its time went to
the client work around them (bench/README.md). Now the first request to find the store idle
becomes its leader: it stores every notification waiting at that moment with one statement,
which commits itself, wakes their requests, and queues their tasks with one LPUSH. Each request
answers once its own row is committed (the leader once the batch is queued, too). Nothing ever
waits for a batch to fill: a lone notification is stored at once, alone, and under load batches
form by themselves from those that arrive while a store is in flight. When a batch is committed,
the oldest waiting request leads the next one, so no request serves others' batches for longer
than its own.

On PostgreSQL a batch is one `WITH ... INSERT` statement (ids drawn from the table's sequence
first, so each request learns its own row's id); elsewhere (SQLite, which takes one write at a
time anyway) every batch is one row. A batch the database refuses is tried again row by row, so
one bad row never fails the others; a database that cannot be reached fails the whole batch.
The queueing happens after the commit; when it fails the rows stay RECEIVED, marked for the
sweeper's next run (shop.payments.queueing).
"""
import json
import logging
import threading
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import bindparam, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shop import extensions
from shop.payments.models import Notification, NotificationSource, NotificationState
from shop.payments import queueing

log = logging.getLogger(__name__)

MAX_BATCH = 100  # rows in one statement; more waiting go in the next
# Errors that say the database cannot be reached, not that a row was refused: not retried row by row.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
SUMMARY = ("midtrans_order_id", "transaction_id", "transaction_status", "fraud_status", "status_code", "gross_amount")
BOUND = ("body", "received_at", *SUMMARY)  # a row's values; plus "order_id", the payment it is for
CONSTANTS = {"source": f"'{NotificationSource.WEBHOOK.name}'", "state": f"'{NotificationState.RECEIVED.name}'",
             "attempts": "0"}


class NotStored(RuntimeError):
    """The batch's leader stopped before this row's fate was known: nothing is known stored."""


@dataclass(eq=False)
class _Slot:
    row: dict
    queue: bool
    # Looked up at each call: gevent's patched Event once gunicorn's worker has patched threading.
    ready: threading.Event = field(default_factory=lambda: threading.Event())
    lead: bool = False
    done: bool = False
    notification_id: int | None = None
    error: BaseException | None = None

    def outcome(self) -> int | None:
        if self.error is not None:
            raise self.error
        if not self.done:
            raise NotStored("the store stopped before this notification was committed")
        return self.notification_id


class Intake:
    """One per app and process: takes rows from concurrent requests, stores them in batches."""

    def __init__(self, store, queue, max_batch: int = MAX_BATCH):
        self._store = store  # rows -> their ids (None: no such payment), all or none committed
        self._queue = queue  # ids -> None: queue their tasks
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Slot] = []
        self._busy = False

    @property
    def max_batch(self) -> int:
        return self._max_batch

    @property
    def waiting(self) -> int:
        """Requests waiting for the next batch."""
        with self._lock:
            return len(self._waiting)

    def submit(self, row: dict, queue: bool) -> int | None:
        """Store `row` (committed) and, with `queue`, queue its task; its id, or None for an unknown payment."""
        slot = _Slot(row, queue)
        with self._lock:
            self._waiting.append(slot)
            leads, self._busy = not self._busy, True
        if not leads:
            slot.ready.wait()
            if not slot.lead:
                return slot.outcome()
        self._lead()
        return slot.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
        try:
            self._store_batch(batch)
        finally:  # whatever happened, wake the batch and hand the store on
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                if successor is not None:
                    successor.lead = True
                else:
                    self._busy = False
            if successor is not None:  # first: its statement is on its way while the batch answers
                successor.ready.set()
            for slot in batch:
                slot.ready.set()
        self._queue_batch(batch)  # the rows are committed: their requests answer meanwhile

    def _store_batch(self, batch: list[_Slot]) -> None:
        try:
            ids = self._store([slot.row for slot in batch])
        except Exception as error:  # noqa: BLE001 -- each request answers for its own row
            if len(batch) == 1 or isinstance(error, UNAVAILABLE):  # the database's trouble, not a row's
                for slot in batch:
                    slot.error = error
                return
            log.warning("a batch of %s notifications was refused (%s); storing them one by one",
                        len(batch), type(error).__name__)
            ids = []
            for slot in batch:
                try:
                    ids.append(self._store([slot.row])[0])
                except Exception as one:  # noqa: BLE001
                    slot.error = one
                    ids.append(None)
        for slot, notification_id in zip(batch, ids):
            if slot.error is None:
                slot.notification_id, slot.done = notification_id, True

    def _queue_batch(self, batch: list[_Slot]) -> None:
        stored = [slot.notification_id for slot in batch if slot.queue and slot.notification_id is not None]
        if not stored:
            return
        try:  # committed: whatever happens here, the answer is 200 and the sweeper has the rows
            self._queue(stored)
        except Exception:  # noqa: BLE001
            log.exception("notifications=%s stored but not queued; left RECEIVED for the sweeper", stored)


def intake_for(app: Flask) -> Intake:
    """The app's intake in this process, made at its first use (after gevent patched threading).

    Batches on PostgreSQL only, where one statement stores them all or none; SQLite takes one
    write at a time anyway, so there rows are stored one by one, in turn.
    """
    intake = app.extensions.get("notification_intake")
    if intake is None:
        batch = MAX_BATCH if extensions.db.engine.dialect.name == "postgresql" else 1
        intake = app.extensions.setdefault("notification_intake", Intake(store_rows, queue_rows, batch))
    return intake


def queue_rows(notification_ids: list[int]) -> None:
    """Queue the batch's tasks (looked up at each call: tests put a stand-in broker there)."""
    queueing.enqueue_notifications(notification_ids)


def store_rows(rows: list[dict]) -> list[int | None]:
    """Store rows for their payments, committed; ids in row order.

    On PostgreSQL in one statement (all or none); elsewhere one statement a row (give it one row).
    """
    with extensions.autocommit_connection() as connection:
        if connection.dialect.name == "postgresql":
            batch = json.dumps([{"n": n, **row, "received_at": row["received_at"].isoformat()}
                                for n, row in enumerate(rows)], ensure_ascii=False)
            found = dict(connection.execute(STORE_BATCH, {"rows": batch}).all())
            return [found.get(n) for n in range(len(rows))]
        return [connection.execute(STORE_ONE, row).scalar() for row in rows]


def _store_one():
    """INSERT ... SELECT: find the payment and store the notification in one statement (no row: no payment)."""
    table = Notification.__table__
    columns = ["payment_id", *CONSTANTS, *BOUND]
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"SELECT payments.id, {', '.join([*CONSTANTS.values(), *(':' + name for name in BOUND)])} "
           f"FROM payments WHERE payments.midtrans_order_id = :order_id RETURNING id")
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in BOUND))


def _store_batch():
    """PostgreSQL: many rows in one statement, each row's id returned with its place in the batch.

    The rows come as one JSON array (json.dumps in C; psycopg would escape text arrays element by
    element in Python: a tenth of the webhook's time). The ids are drawn from the table's sequence
    in a materialized CTE before the insert, so the answer maps places to ids without relying on
    the order of RETURNING. Rows whose order id no payment has are neither inserted nor returned.
    The payment is found by a subquery per row: the planner cannot know how many rows the JSON
    holds (it guesses 100) and would join them by a sequential scan of the payments.
    """
    table = Notification.__table__
    fields = {"n": "integer", "order_id": "text", "body": "text", "received_at": "timestamptz",
              **{name: "text" for name in SUMMARY}}
    record = ", ".join(f"{name} {kind}" for name, kind in fields.items())
    columns = ["id", "payment_id", *CONSTANTS, *BOUND]
    return text(
        f"WITH found AS MATERIALIZED ("
        f" SELECT v.*, (SELECT payments.id FROM payments WHERE payments.midtrans_order_id = v.order_id) AS payment_id"
        f" FROM json_to_recordset(CAST(:rows AS json)) AS v({record})),"
        f" incoming AS MATERIALIZED ("
        f" SELECT n, nextval(pg_get_serial_sequence('{table.name}', 'id')) AS id, payment_id, {', '.join(BOUND)}"
        f" FROM found WHERE payment_id IS NOT NULL),"
        f" stored AS (INSERT INTO {table.name} ({', '.join(columns)})"
        f" SELECT id, payment_id, {', '.join(CONSTANTS.values())}, {', '.join(BOUND)} FROM incoming RETURNING id)"
        f" SELECT incoming.n, stored.id FROM incoming JOIN stored ON stored.id = incoming.id")


STORE_ONE = _store_one()
STORE_BATCH = _store_batch()
