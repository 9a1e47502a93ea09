"""The emulated refund (`POST /v2/<id>/refund`), approve and deny, and the refund and chargeback bodies.

A refund is kept once per refund_key (406 "Duplicate refund ID" for a key seen before), only for
a settled transaction (412 otherwise), within what is left of the amount (414 beyond). Midtrans
then sends two notifications: the refund requested (`refunds[]` without `bank_confirmed_at`) and,
a little later, bank-confirmed (with it); the emulator waits MIDTRANS_EMULATOR_REFUND_DELAY
seconds (2 unless set) between them. `flask midtrans trigger` builds the same bodies.
"""
import logging
import threading

from flask import current_app

from shop import jakarta
from shop.emulator import notifications as shapes
from shop.emulator import services
from shop.emulator.sender import Dispatch, send_in_background
from shop.emulator.store import Record, StatusNotAllowed

log = logging.getLogger(__name__)

REFUNDABLE = {"settlement", "partial_refund"}
DEFAULT_DELAY = 2.0


class DuplicateRefund(Exception):
    """This refund_key was refunded already: nothing is refunded again (406)."""


class RefundRejected(Exception):
    """The amount is invalid or more than what is left to refund (414)."""


def refund(ident: str, request) -> tuple[dict, Dispatch]:
    """Record a refund, answer like Midtrans, and send its two notifications in the background."""
    conf = services.settings()
    key, amount = _key_and_amount(request)
    record, entry, entries = _add(conf.store, ident, key, amount, (request or {}).get("reason"))
    requested = refund_body(record.txn, entries, conf.server_key, record.body)
    conf.store.record_status(requested)
    dispatch = services.notify([requested], record.notify_urls)
    delay = current_app.config.get("MIDTRANS_EMULATOR_REFUND_DELAY", DEFAULT_DELAY)
    threading.Timer(delay, _confirm, (conf, record, entry["refund_chargeback_id"])).start()
    log.info("emulator refund order_id=%s key=%s amount=%s", record.txn.order_id, key, amount)
    answer = {k: v for k, v in requested.items() if k not in ("signature_key", "refunds")} | {
        "status_code": "200", "status_message": "Success, refund request is approved",
        "refund_chargeback_id": entry["refund_chargeback_id"], "refund_amount": entry["refund_amount"],
        "refund_key": key}
    return answer, dispatch


def _key_and_amount(request) -> tuple[str, int | None]:
    if not isinstance(request, dict) or not isinstance(request.get("refund_key"), str) or not request["refund_key"]:
        raise RefundRejected("refund_key is required")
    amount = request.get("amount")
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
        raise RefundRejected("amount must be an integer")
    return request["refund_key"], amount


def _add(store, ident: str, key: str, amount: int | None, reason) -> tuple[Record, dict, list[dict]]:
    """Check and keep one refund, atomically; the transaction's record and its refunds after it."""
    with store.connect(immediate=True) as conn:
        record = _record(store, conn, ident)
        if conn.execute("SELECT 1 FROM refunds WHERE refund_key = ?", (key,)).fetchone():
            raise DuplicateRefund(key)
        if record.transaction_status not in REFUNDABLE:
            raise StatusNotAllowed(record.transaction_status)
        left = record.txn.gross_amount - _refunded(conn, record.txn.order_id)
        amount = left if amount is None else amount
        if amount < 1 or amount > left:
            raise RefundRejected(f"amount {amount} is more than the {left} left to refund")
        conn.execute("INSERT INTO refunds (refund_key, order_id, amount, reason, created_at) VALUES (?, ?, ?, ?, ?)",
                     (key, record.txn.order_id, amount, str(reason or "")[:255], jakarta.to_midtrans()))
        entries = _entries(conn, record.txn.order_id)
    return record, entries[-1], entries


def _record(store, conn, ident: str) -> Record:
    found = store.transaction_in(conn, ident)
    if found is None:
        raise LookupError(ident)
    return found


def _refunded(conn, order_id: str) -> int:
    return conn.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = ?", (order_id,)).fetchone()[0]


def _entries(conn, order_id: str) -> list[dict]:
    rows = conn.execute("SELECT * FROM refunds WHERE order_id = ? ORDER BY id", (order_id,)).fetchall()
    return [refund_entry(row["id"], row["amount"], row["refund_key"], row["reason"], row["created_at"],
                         row["bank_confirmed_at"]) for row in rows]


def refund_entry(refund_id: int, amount: int, key: str, reason, created_at: str, confirmed_at: str | None) -> dict:
    """One entry of `refunds[]`, as Midtrans writes it."""
    return {"refund_chargeback_id": refund_id, "refund_amount": shapes.rupiah(amount), "created_at": created_at,
            "reason": reason or "", "refund_key": key, "refund_method": "", "bank_confirmed_at": confirmed_at}


def _confirm(conf, record: Record, refund_id: int) -> None:
    """The bank confirmed the refund: the second notification, with bank_confirmed_at."""
    with conf.store.connect(immediate=True) as conn:
        conn.execute("UPDATE refunds SET bank_confirmed_at = ? WHERE id = ?", (jakarta.to_midtrans(), refund_id))
        entries = _entries(conn, record.txn.order_id)
        current = conf.store.transaction_in(conn, record.txn.order_id)
    confirmed = refund_body(record.txn, entries, conf.server_key, current.body)
    # A timer thread has no app context: the settings read with the request are used.
    send_in_background([confirmed], record.notify_urls, conf.retry_delays, conf.store.record_status,
                       conf.store.record_delivery)


def refund_body(txn: shapes.Transaction, entries: list[dict], server_key: str, last: dict | None,
                chargeback: bool = False) -> dict:
    """The signed refund (or chargeback) notification listing `entries`; refund_amount is their sum."""
    body = shapes.build_notification(txn, "settlement", server_key)
    total = sum(int(float(entry["refund_amount"])) for entry in entries)
    whole = "chargeback" if chargeback else "refund"
    body.update(transaction_status=whole if total >= txn.gross_amount else f"partial_{whole}",
                refund_amount=shapes.rupiah(total), refunds=entries)
    if last and last.get("settlement_time"):
        body["settlement_time"] = last["settlement_time"]
    return body


# --- fraud review ---------------------------------------------------------------------------

def approve(ident: str) -> tuple[dict, Dispatch]:
    """POST /v2/<id>/approve: a challenged card is accepted: capture, then settlement."""
    return _review(ident, ["capture", "settlement"], "Success, transaction is approved")


def deny(ident: str) -> tuple[dict, Dispatch]:
    """POST /v2/<id>/deny: a challenged card is refused."""
    return _review(ident, ["deny"], "Success, transaction is denied")


def _review(ident: str, statuses: list[str], message: str) -> tuple[dict, Dispatch]:
    conf = services.settings()
    bodies = []

    def build(record: Record) -> dict:
        if (record.body or {}).get("fraud_status") != "challenge":
            raise StatusNotAllowed(record.transaction_status)
        bodies.extend(shapes.build_notification(record.txn, status, conf.server_key) for status in statuses)
        return bodies[0]

    record, body = conf.store.change_status(ident, {"capture"}, build)
    answer = {k: v for k, v in body.items() if k != "signature_key"} | {"status_code": "200", "status_message": message}
    return answer, services.notify(bodies, record.notify_urls)


def stored_refunds(store, order_id: str) -> list[dict]:
    """The refunds kept for `order_id` (for tests and the shell)."""
    with store.connect() as conn:
        return _entries(conn, order_id)
