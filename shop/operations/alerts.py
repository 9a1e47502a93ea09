"""Alerts to the merchant: an e-mail when a condition starts holding, at most one per condition per
hour, and one "resolved" e-mail when it stops. The conditions are shop.operations.health's; their
state is kept in `alert_states`, so a restart neither repeats nor forgets an alert. Flushes and
sends; the task commits (shop.operations.tasks).
"""
import logging
from datetime import datetime, timedelta

from shop import jakarta
from shop.extensions import db
from shop.operations.health import alert_conditions
from shop.operations.mailing import merchant_address, send_to_merchant
from shop.operations.models import AlertState
from shop.operations.snapshot import take_snapshot

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


def check_alerts(now: datetime) -> list[str]:
    """Compare each condition with its remembered state and tell the merchant what changed.

    Returns the e-mails sent, as "alert:<name>" or "resolved:<name>" (flushes).
    """
    if merchant_address() is None:
        return []
    sent = []
    for name, reason in alert_conditions(take_snapshot(now)).items():
        state = db.session.get(AlertState, name, with_for_update=True) or _new_state(name, now)
        sent.extend(_step(state, reason, now))
    db.session.flush()
    return sent


def _new_state(name: str, now: datetime) -> AlertState:
    state = AlertState(name=name, firing=False, alerted=False, changed_at=now)
    db.session.add(state)
    return state


def _step(state: AlertState, reason: str | None, now: datetime) -> list[str]:
    if reason is not None:
        if not state.firing:
            state.firing, state.changed_at = True, now
        state.reason = reason[:500]
        if state.last_alert_at is None or now - state.last_alert_at >= AT_MOST_EVERY:
            _send_alert(state, reason, now)
            return [f"alert:{state.name}"]
        return []
    if state.firing:
        state.firing, state.changed_at = False, now
        if state.alerted:
            state.alerted = False
            _send_resolved(state, now)
            return [f"resolved:{state.name}"]
    return []


def _send_alert(state: AlertState, reason: str, now: datetime) -> None:
    state.alerted, state.last_alert_at = True, now
    log.warning("alert %s: %s", state.name, reason)
    send_to_merchant(f"Peringatan: {TITLES[state.name]}", [reason, ADVICE[state.name],
                     "Kami kirim paling banyak satu peringatan per jam untuk masalah ini, "
                     "dan satu e-mail lagi ketika sudah normal."], kind="merchant_alert")


def _send_resolved(state: AlertState, now: datetime) -> None:
    log.info("alert %s resolved", state.name)
    send_to_merchant(f"Sudah normal: {TITLES[state.name]}", [
        f"Masalah ini sudah tidak terjadi lagi (dicek {jakarta.for_people(now)}).",
        f"Sebelumnya: {state.reason or '-'}"], kind="merchant_alert")
