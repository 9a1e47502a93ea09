"""The webhook's health for the dashboard panel and the merchant's alerts: conditions, level, reasons.

The alert conditions are the panel's red ones, decided here once from a snapshot of the database
(shop.operations.snapshot), each with its reason in Indonesian.
"""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from shop.operations.snapshot import Snapshot, take_snapshot

GREEN, AMBER, RED = "hijau", "kuning", "merah"


@dataclass(frozen=True)
class WebhookHealth:
    level: str  # GREEN, AMBER or RED
    reasons: list[str]
    snapshot: Snapshot


def alert_conditions(snapshot: Snapshot) -> dict[str, str | None]:
    """Each alert's condition: its reason in Indonesian while it holds, else None."""
    config = current_app.config
    return {"silence": _silence(snapshot, config["ALERT_SILENCE_MINUTES"]),
            "reconciler": _reconciler(snapshot, config["ALERT_RECONCILE_SETTLED_MAX"]),
            "processing": _processing(snapshot, config["ALERT_WAITING_MINUTES"]),
            "emails": _emails(snapshot)}


def _silence(snapshot: Snapshot, minutes: int) -> str | None:
    silent = snapshot.silent_minutes
    if snapshot.settled_in_silence and (silent is None or silent >= minutes):
        since = "sama sekali" if silent is None else f"selama {int(silent)} menit"
        return (f"Tidak ada notifikasi Midtrans {since}, padahal rekonsiliasi menemukan "
                f"{snapshot.settled_in_silence} pembayaran sudah lunas. Periksa URL notifikasi di Dashboard Midtrans.")
    return None


def _reconciler(snapshot: Snapshot, most: int) -> str | None:
    if snapshot.settled_last_hour > most:
        return (f"Rekonsiliasi harus melunasi {snapshot.settled_last_hour} pembayaran dalam 1 jam terakhir "
                f"(batas {most}): notifikasi Midtrans banyak yang tidak sampai.")
    return None


def _processing(snapshot: Snapshot, minutes: int) -> str | None:
    waited = (snapshot.age(snapshot.oldest_waiting_at) or 0) / 60
    if snapshot.failed_last_hour:
        return f"{snapshot.failed_last_hour} notifikasi gagal diproses dalam 1 jam terakhir."
    if waited >= minutes:
        return f"Notifikasi tertua sudah menunggu {int(waited)} menit untuk diproses: periksa worker Celery."
    return None


def _emails(snapshot: Snapshot) -> str | None:
    if snapshot.unsent_emails:
        return f"{snapshot.unsent_emails} e-mail ke pembeli belum terkirim: periksa server e-mail."
    return None


def webhook_health(now: datetime) -> WebhookHealth:
    """The panel's level and reasons: red while an alert's condition holds, amber for softer signs."""
    snapshot = take_snapshot(now)
    red = [reason for reason in alert_conditions(snapshot).values() if reason]
    if red:
        return WebhookHealth(RED, red, snapshot)
    amber = _amber_reasons(snapshot)
    if amber:
        return WebhookHealth(AMBER, amber, snapshot)
    return WebhookHealth(GREEN, ["Notifikasi Midtrans diterima dan diproses dengan normal."], snapshot)


def _amber_reasons(snapshot: Snapshot) -> list[str]:
    reasons = []
    if snapshot.settled_last_day:
        reasons.append(f"Rekonsiliasi melunasi {snapshot.settled_last_day} pembayaran dalam 24 jam terakhir: "
                       "sebagian notifikasi tidak sampai.")
    if snapshot.failed_last_day:
        reasons.append(f"{snapshot.failed_last_day} notifikasi gagal diproses dalam 24 jam terakhir.")
    if snapshot.last_received_at is None and snapshot.open_payments:
        reasons.append("Belum pernah ada notifikasi Midtrans yang diterima.")
    return reasons
