"""The emulator's own record of Snap tokens, transactions and deliveries.

A small SQLite file through the stdlib `sqlite3` (MIDTRANS_EMULATOR_DB), never the shop's
database: the emulator stands in for Midtrans's side, and several processes (the web server,
`flask midtrans trigger`) must see the same record. One connection per call; writes that
read first take SQLite's write lock up front (BEGIN IMMEDIATE) so two requests cannot race.
"""
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shop.emulator.notifications import Transaction
from shop.jakarta import to_midtrans

SCHEMA = """
CREATE TABLE IF NOT EXISTS snap_tokens (
    token TEXT PRIMARY KEY, order_id TEXT NOT NULL, gross_amount INTEGER NOT NULL,
    notify_urls TEXT NOT NULL, finish_url TEXT, enabled_payments TEXT,
    active INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_snap_tokens_order_id ON snap_tokens (order_id);
CREATE TABLE IF NOT EXISTS closed_tokens (token TEXT PRIMARY KEY, closed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    order_id TEXT PRIMARY KEY, transaction_id TEXT NOT NULL UNIQUE, method TEXT NOT NULL,
    gross_amount INTEGER NOT NULL, transaction_time TEXT NOT NULL, notify_urls TEXT NOT NULL,
    finish_url TEXT, body TEXT, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT, refund_key TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL,
    amount INTEGER NOT NULL, reason TEXT, created_at TEXT NOT NULL, bank_confirmed_at TEXT);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, transaction_status TEXT,
    url TEXT NOT NULL, attempt INTEGER NOT NULL, answer TEXT NOT NULL, at TEXT NOT NULL);
"""
# A late or replayed notification never moves the record backwards (pending after settlement).
RANK = {"pending": 0, "authorize": 1, "capture": 1}
FINAL_RANK = 2
PAID = {"capture", "settlement"}


class OrderIdTaken(Exception):
    """A method was already chosen for this order id: Midtrans refuses to reuse it."""

    def __init__(self, paid: bool):
        super().__init__("paid" if paid else "taken")
        self.paid = paid


class TokenUnusable(Exception):
    """The Snap token is unknown, was replaced by a newer one, or its order is already under way."""


class StatusNotAllowed(Exception):
    """The transaction's current status does not allow the requested change."""


@dataclass(frozen=True)
class SnapToken:
    token: str
    order_id: str
    gross_amount: int
    notify_urls: list
    finish_url: str | None
    enabled_payments: list | None
    active: bool
    closed: bool = False  # by the merchant (Snap's session cancel), before any method was chosen


@dataclass(frozen=True)
class Record:
    txn: Transaction
    notify_urls: list
    finish_url: str | None
    body: dict | None  # the last notification sent; None until the first one

    @property
    def transaction_status(self) -> str | None:
        return self.body["transaction_status"] if self.body else None


@dataclass(frozen=True)
class Undo:
    """What a recorded status replaced, to put back when its notification was not delivered."""

    order_id: str
    written: str
    previous: str | None


class EmulatorStore:
    # Paths whose tables exist: the file is made on first use, not when an app is built.
    created: set = set()

    def __init__(self, path: str):
        self.path = path

    @contextmanager
    def connect(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection, one transaction: committed on success, rolled back on error."""
        if self.path not in self.created:
            self.create_tables()
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def create_tables(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        finally:
            conn.close()
        self.created.add(self.path)

    # --- Snap tokens ------------------------------------------------------------------------

    def save_token(self, token: SnapToken) -> None:
        """Store a new token; an earlier unused token of the same order id stops working."""
        with self.connect(immediate=True) as conn:
            found = _transaction_row(conn, token.order_id)
            if found is not None:
                raise OrderIdTaken(paid=_status_of(found) in PAID)
            conn.execute("UPDATE snap_tokens SET active = 0 WHERE order_id = ?", (token.order_id,))
            conn.execute("INSERT INTO snap_tokens VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                         (token.token, token.order_id, token.gross_amount, json.dumps(token.notify_urls),
                          token.finish_url, _dump(token.enabled_payments), to_midtrans()))

    def find_token(self, token: str) -> SnapToken | None:
        with self.connect() as conn:
            row = conn.execute("SELECT *, token IN (SELECT token FROM closed_tokens) AS closed FROM snap_tokens "
                               "WHERE token = ?", (token,)).fetchone()
        return _token(row) if row else None

    def close_token(self, token: str) -> str:
        """Snap's session cancel: "closed" (no method can be chosen on its page any more), "already",
        "in_progress" (a method was chosen: a transaction exists) or "not_found"."""
        with self.connect(immediate=True) as conn:
            row = conn.execute("SELECT * FROM snap_tokens WHERE token = ?", (token,)).fetchone()
            if row is None:
                return "not_found"
            if conn.execute("SELECT 1 FROM closed_tokens WHERE token = ?", (token,)).fetchone():
                return "already"
            if _transaction_row(conn, row["order_id"]):
                return "in_progress"
            conn.execute("INSERT INTO closed_tokens VALUES (?, ?)", (token, to_midtrans()))
            conn.execute("UPDATE snap_tokens SET active = 0 WHERE token = ?", (token,))
        return "closed"

    def open_transaction(self, token: str, method: str, transaction_id: str) -> Record:
        """The shopper chose a method on the page: the token's order becomes a transaction."""
        with self.connect(immediate=True) as conn:
            row = conn.execute("SELECT * FROM snap_tokens WHERE token = ?", (token,)).fetchone()
            if row is None or not row["active"] or _transaction_row(conn, row["order_id"]):
                raise TokenUnusable(token)
            snap = _token(row)
            txn = Transaction(snap.order_id, transaction_id, snap.gross_amount, method, to_midtrans())
            _insert_transaction(conn, txn, snap.notify_urls, snap.finish_url)
        return Record(txn, snap.notify_urls, snap.finish_url, None)

    # --- transactions -----------------------------------------------------------------------

    def find_transaction(self, ident: str) -> Record | None:
        """Look a transaction up by its order id or its transaction id, as GET status does."""
        with self.connect() as conn:
            row = _transaction_row(conn, ident)
        return _record(row) if row else None

    @staticmethod
    def transaction_in(conn: sqlite3.Connection, ident: str) -> Record | None:
        """The transaction `ident` as read in the caller's own transaction `conn`."""
        row = _transaction_row(conn, ident)
        return _record(row) if row else None

    def ensure_transaction(self, txn: Transaction, notify_urls: list) -> Record:
        """The record for `txn.order_id`, created from `txn` if the emulator never saw it."""
        with self.connect(immediate=True) as conn:
            row = _transaction_row(conn, txn.order_id)
            if row is None:
                _insert_transaction(conn, txn, notify_urls, None)
                row = _transaction_row(conn, txn.order_id)
        return _record(row)

    def record_status(self, body: dict) -> Undo | None:
        """Remember `body` as the transaction's current state unless it would move it backwards;
        what puts the state back (None: nothing was recorded)."""
        with self.connect(immediate=True) as conn:
            row = _transaction_row(conn, body["order_id"])
            if row is None or _rank(body["transaction_status"]) < _rank(_status_of(row)):
                return None
            _save_body(conn, body)
        return Undo(body["order_id"], json.dumps(body), row["body"])

    def undo(self, undo: Undo) -> bool:
        """Put a transaction's state back as `undo` says, unless something else changed it meanwhile."""
        with self.connect(immediate=True) as conn:
            changed = conn.execute("UPDATE transactions SET body = ?, updated_at = ? WHERE order_id = ? AND body = ?",
                                   (undo.previous, to_midtrans(), undo.order_id, undo.written)).rowcount
        return bool(changed)

    def change_status(self, ident: str, allowed: set, build: Callable[[Record], dict]) -> tuple[Record, dict]:
        """Atomically check the current status is in `allowed`, then store what `build` makes."""
        with self.connect(immediate=True) as conn:
            row = _transaction_row(conn, ident)
            if row is None:
                raise LookupError(ident)
            record = _record(row)
            if record.transaction_status not in allowed:
                raise StatusNotAllowed(record.transaction_status)
            body = build(record)
            _save_body(conn, body)
        return record, body

    def recent_transactions(self, limit: int = 50) -> list[Record]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM transactions ORDER BY updated_at DESC, rowid DESC LIMIT ?",
                                (limit,)).fetchall()
        return [_record(row) for row in rows]

    # --- deliveries -------------------------------------------------------------------------

    def record_delivery(self, body: dict, url: str, attempt: int, answer: str) -> None:
        with self.connect() as conn:
            conn.execute("INSERT INTO deliveries (order_id, transaction_status, url, attempt, answer, at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (body.get("order_id"), body.get("transaction_status"), url, attempt, answer,
                          to_midtrans()))

    def deliveries(self, order_id: str) -> list[dict]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM deliveries WHERE order_id = ? ORDER BY id", (order_id,)).fetchall()
        return [dict(row) for row in rows]


def _transaction_row(conn: sqlite3.Connection, ident: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM transactions WHERE order_id = ? OR transaction_id = ?",
                        (ident, ident)).fetchone()


def _insert_transaction(conn: sqlite3.Connection, txn: Transaction, urls: list, finish_url: str | None) -> None:
    conn.execute("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                 (txn.order_id, txn.transaction_id, txn.method, txn.gross_amount, txn.transaction_time,
                  json.dumps(urls), finish_url, to_midtrans()))


def _save_body(conn: sqlite3.Connection, body: dict) -> None:
    conn.execute("UPDATE transactions SET body = ?, updated_at = ? WHERE order_id = ?",
                 (json.dumps(body), to_midtrans(), body["order_id"]))


def _status_of(row: sqlite3.Row) -> str | None:
    return json.loads(row["body"])["transaction_status"] if row["body"] else None


def _rank(status: str | None) -> int:
    return -1 if status is None else RANK.get(status, FINAL_RANK)


def _dump(value) -> str | None:
    return None if value is None else json.dumps(value)


def _token(row: sqlite3.Row) -> SnapToken:
    enabled = json.loads(row["enabled_payments"]) if row["enabled_payments"] else None
    return SnapToken(row["token"], row["order_id"], row["gross_amount"], json.loads(row["notify_urls"]),
                     row["finish_url"], enabled, bool(row["active"]),
                     bool(row["closed"]) if "closed" in row.keys() else False)


def _record(row: sqlite3.Row) -> Record:
    txn = Transaction(row["order_id"], row["transaction_id"], row["gross_amount"], row["method"],
                      row["transaction_time"])
    body = json.loads(row["body"]) if row["body"] else None
    return Record(txn, json.loads(row["notify_urls"]), row["finish_url"], body)
