"""The outbox: e-mails written where they became due, claimed before sending, recorded after.

Any feature adds an e-mail with `add(kind, key)` in the transaction that made it due (at most one
row per (kind, key): adding twice changes nothing) and registers how to write it with
`@renders(kind)`; after the commit, `queue` hands the row's id to the `outbox.send_email` task.

Sending one row:
1. `claim` commits `claimed_at` on its own before the SMTP server is contacted; a fresh claim
   (younger than EMAIL_CLAIM_LEASE_SECONDS) keeps every other run of the task away.
2. The renderer writes the message from what the database says now (None: nothing to say any
   more). Its `Message-ID` comes from the row, so the same e-mail always carries the same one.
3. The SMTP server refused or dropped us: `release` the claim and let the task retry.
4. It accepted: `record` the outcome by a commit of its own, retried without sending again; when
   the database stays away, the `outbox.record_outcome` task keeps trying; the claim meanwhile
   keeps the e-mail from being sent twice. Only a worker killed between the SMTP server's
   acceptance and the record leaves a claim to expire; the sweeper then sends it again, with
   the same Message-ID, so a mail client shows it once.
"""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Callable
from urllib.parse import urlsplit

from flask import current_app
from flask_mail import Message
from sqlalchemy import Insert, Update, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from shop import broker, extensions
from shop.extensions import db
from shop.models import utcnow
from shop.outbox.models import OutboxEmail

log = logging.getLogger(__name__)

SEND_EMAIL = "outbox.send_email"  # shop.outbox.tasks.send_email
RECORD_OUTCOME = "outbox.record_outcome"  # shop.outbox.tasks.record_outcome
RECORD_PAUSES = (0.1, 0.5, 2.0)  # between the tries of the record, on fresh connections
# An owed e-mail the sweeper finds unsent is queued again at most this often, and given up after a day.
EMAIL_REQUEUE_EVERY = timedelta(hours=1)
EMAIL_GIVE_UP_AFTER = timedelta(days=1)
# Kind -> a function of the key that writes the message (None: nothing to send any more).
RENDERERS: dict[str, Callable[[str], Message | None]] = {}


@dataclass(frozen=True)
class Claim:
    """An outbox row this run may send: the claim is committed."""

    id: int
    kind: str
    key: str
    claims: int


def renders(kind: str):
    """Register the function that writes the e-mails of `kind` from their key."""
    def register(function):
        RENDERERS[kind] = function
        return function
    return register


def add(kind: str, key: str) -> int | None:
    """Owe the e-mail (kind, key) in the caller's transaction; its id, or None when owed already (flushes)."""
    statement = _insert_unless_owed(db.session.get_bind().dialect.name)
    return db.session.execute(statement, {"kind": kind, "key": key, "now": utcnow()}).scalar()


def queue(email_ids, priority: int | None = None) -> None:
    """Queue the sending of each e-mail (after the commit that added them), at `priority` when
    given, else at the task's own (after the notifications waiting)."""
    if email_ids:
        broker.publish_each(current_app.extensions["celery"], SEND_EMAIL, [(i,) for i in email_ids], priority)


def queue_after_commit(email_ids, priority: int | None = None) -> None:
    """`queue`, from a boundary whose commit owed them: a broker that fails is logged, never raised;
    the e-mails stay owed and the sweeper queues them."""
    try:
        queue(email_ids, priority)
    except Exception:  # noqa: BLE001
        log.exception("could not queue e-mails %s after the commit; the sweeper queues them", list(email_ids)[:20])


def claim(email_id: int) -> Claim | None:
    """Claim an owed e-mail, committed at once; None when it was sent, given up or someone holds it."""
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["EMAIL_CLAIM_LEASE_SECONDS"])
    with extensions.autocommit_connection() as connection:
        row = connection.execute(_claim(), {"email_id": email_id, "now": now, "stale": stale}).one_or_none()
    return Claim(*row) if row else None


def render(claimed: Claim) -> Message | None:
    """The message of a claimed e-mail, with its stable Message-ID; None when there is nothing to say."""
    message = RENDERERS[claimed.kind](claimed.key)
    if message is not None:
        message.msgId = message_id(claimed.id, claimed.kind)
    return message


def message_id(email_id: int, kind: str) -> str:
    """The e-mail's Message-ID: the same for every try of the same outbox row."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"<{kind}.{email_id}@{host}>"


def release(claimed: Claim, error: Exception) -> None:
    """The SMTP server did not take it: drop the claim so a retry may send it (commits on its own)."""
    reason = f"{type(error).__name__}: {error}"[:300]
    try:
        with extensions.autocommit_connection() as connection:
            connection.execute(_release(), {"email_id": claimed.id, "error": reason})
    except DBAPIError:
        log.warning("email=%s claim not released (database unavailable); it expires", claimed.id)


def record(email_id: int, outcome: str, pauses=RECORD_PAUSES) -> bool:
    """Record what became of a claimed e-mail, each try a commit on a fresh connection; False when all failed."""
    for pause in (*pauses, None):
        try:
            with extensions.autocommit_connection() as connection:
                connection.execute(_record(), {"email_id": email_id, "outcome": outcome,
                                               "sent_at": utcnow() if outcome == "sent" else None})
            return True
        except DBAPIError as error:
            log.warning("email=%s outcome %s not recorded yet (%s)", email_id, outcome, type(error).__name__)
            if pause is None:
                return False
            time.sleep(pause)
    return False


def due_again(now, cutoff, limit: int) -> list[int]:
    """Owed e-mails not sent since `cutoff` whose claim, if any, expired; marked queued now (flushes).

    Each is queued at most once an hour; after EMAIL_GIVE_UP_AFTER it is given up on.
    """
    config = current_app.config
    stale = now - timedelta(seconds=config["EMAIL_CLAIM_LEASE_SECONDS"])
    rows = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.outcome.is_(None), OutboxEmail.created_at <= cutoff,
               or_(OutboxEmail.queued_at.is_(None), OutboxEmail.queued_at <= now - EMAIL_REQUEUE_EVERY),
               or_(OutboxEmail.claimed_at.is_(None), OutboxEmail.claimed_at <= stale))
        .order_by(OutboxEmail.id).limit(limit).with_for_update(skip_locked=True)).all()
    for row in rows:
        if row.created_at <= now - EMAIL_GIVE_UP_AFTER:
            row.outcome = "gave_up"
            log.error("email=%s kind=%s key=%s given up: %s", row.id, row.kind, row.key, row.error)
        row.queued_at = now
    return [row.id for row in rows if row.outcome is None]


def render_template(name: str, **context) -> str:
    """A template rendered without the request's context processors: an e-mail is about its
    recipient, never about whoever is logged in to the request that made it due (eager mode)."""
    return current_app.jinja_env.get_template(name).render(config=current_app.config, **context)


@cache
def _insert_unless_owed(dialect: str) -> Insert:
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = OutboxEmail.__table__
    return (insert(table).values(kind=bindparam("kind"), key=bindparam("key"), claims=0,
                                 created_at=bindparam("now", type_=table.c.created_at.type))
            .on_conflict_do_nothing(index_elements=["kind", "key"]).returning(table.c.id))


@cache
def _claim() -> Update:
    table = OutboxEmail.__table__
    return (update(table)
            .where(table.c.id == bindparam("email_id"), table.c.outcome.is_(None),
                   or_(table.c.claimed_at.is_(None),
                       table.c.claimed_at <= bindparam("stale", type_=table.c.claimed_at.type)))
            .values(claimed_at=bindparam("now", type_=table.c.claimed_at.type), claims=table.c.claims + 1)
            .returning(table.c.id, table.c.kind, table.c.key, table.c.claims))


@cache
def _release() -> Update:
    table = OutboxEmail.__table__
    return (update(table).where(table.c.id == bindparam("email_id"), table.c.outcome.is_(None))
            .values(claimed_at=None, error=bindparam("error")))


@cache
def _record() -> Update:
    table = OutboxEmail.__table__
    return (update(table).where(table.c.id == bindparam("email_id"), table.c.outcome.is_(None))
            .values(outcome=bindparam("outcome"), error=None,
                    sent_at=bindparam("sent_at", type_=table.c.sent_at.type)))
