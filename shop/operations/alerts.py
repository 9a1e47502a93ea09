"""Alerts to the merchant: an e-mail when a condition starts holding, at most one per condition per
hour, and one "resolved" e-mail when it stops. The conditions are shop.operations.health's; their
state is kept in `alert_states`, so a restart neither repeats nor forgets an alert. Owes the
e-mails through the outbox (shop.operations.mailing) and flushes; the task commits and queues them
(shop.operations.tasks).
"""
import logging
from datetime import datetime, timedelta

from flask_mail import Message

from shop import jakarta
from shop.extensions import db
from shop.operations.health import alert_conditions
from shop.operations.mailing import ALERT, RESOLVED, merchant_address, owe, to_merchant
from shop.operations.models import AlertState
from shop.operations.snapshot import take_snapshot
from shop.outbox import services as outbox

log = logging.getLogger(__name__)

AT_MOST_EVERY = timedelta(hours=1)
TITLES = {
    "silence": "notifikasi Midtrans tidak datang",
    "reconciler": "banyak pembayaran dilunasi lewat rekonsiliasi",
    "processing": "notifikasi gagal atau menunggu terlalu lama",
    "emails": "e-mail pembayaran gagal terkirim",
}
# What to do first; docs/operations.md has the whole runbook.
ADVICE = {
    "silence": "Periksa Payment Notification URL di Dashboard Midtrans (Settings > Configuration), "
               "sertifikat HTTPS, redirect, dan firewall/WAF di depan toko.",
    "reconciler": "Notifikasi tidak sampai atau ditolak: periksa URL notifikasi dan log webhook (jawaban 4xx/5xx).",
    "processing": "Periksa proses worker Celery, Redis, dan koneksi ke Midtrans; notifikasi FAILED bisa diputar ulang "
                  "dari halaman detail pesanan.",
    "emails": "Periksa MAIL_SERVER dan kredensialnya; e-mail yang tertunda dikirim ulang otomatis setelah diperbaiki.",
}


def check_alerts(now: datetime) -> dict[str, int]:
    """Compare each condition with its remembered state and owe the merchant what changed.

    Returns the e-mails owed, "alert:<name>" or "resolved:<name>" -> outbox id (flushes).
    """
    if merchant_address() is None:
        return {}
    owed = {}
    for name, reason in alert_conditions(take_snapshot(now)).items():
        state = db.session.get(AlertState, name, with_for_update=True) or _new_state(name, now)
        _step(state, reason, now, owed)
    db.session.flush()
    return owed


def _new_state(name: str, now: datetime) -> AlertState:
    state = AlertState(name=name, firing=False, alerted=False, changed_at=now)
    db.session.add(state)
    return state


def _step(state: AlertState, reason: str | None, now: datetime, owed: dict[str, int]) -> None:
    if reason is not None:
        if not state.firing:
            state.firing, state.changed_at = True, now
        state.reason = reason[:500]
        if state.last_alert_at is None or now - state.last_alert_at >= AT_MOST_EVERY:
            state.alerted, state.last_alert_at = True, now
            log.warning("alert %s: %s", state.name, reason)
            owe(owed, f"alert:{state.name}", ALERT, _key(state.name, now))
        return
    if state.firing:
        state.firing, state.changed_at = False, now
        if state.alerted:
            state.alerted = False
            log.info("alert %s resolved", state.name)
            owe(owed, f"resolved:{state.name}", RESOLVED, _key(state.name, now))


def _key(name: str, moment: datetime) -> str:
    return f"{name}:{moment.isoformat(timespec='seconds')}"


def _state(key: str) -> tuple[AlertState, datetime]:
    name, moment = key.split(":", 1)
    return db.session.get(AlertState, name), datetime.fromisoformat(moment)


@outbox.renders(ALERT)
def alert_email(key: str) -> Message | None:
    """The alert, with the condition's reason as last seen: the newest when it still holds."""
    state, _ = _state(key)
    return to_merchant(f"Peringatan: {TITLES[state.name]}", [
        state.reason or "-", ADVICE[state.name],
        "Kami kirim paling banyak satu peringatan per jam untuk masalah ini, dan satu e-mail lagi ketika sudah normal."])


@outbox.renders(RESOLVED)
def resolved_email(key: str) -> Message | None:
    state, moment = _state(key)
    return to_merchant(f"Sudah normal: {TITLES[state.name]}", [
        f"Masalah ini sudah tidak terjadi lagi (dicek {jakarta.for_people(moment)}).",
        f"Sebelumnya: {state.reason or '-'}"])
