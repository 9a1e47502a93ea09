"""The webhook's health as the database tells it: one read shared by /metrics, the dashboard and the alerts.

Nothing here is kept in memory: every number is counted from the stored notifications, payments
and inbox messages at the moment it is asked for, so it is the same whichever process asks, and
survives restarts. Every query is served by an existing index (notifications by state and
received_at, payments by status, unsent inbox messages by created_at).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from shop.extensions import db
from shop.operations import mailing
from shop.outbox.models import OutboxEmail
from shop.payments import states
from shop.payments.models import (Notification, NotificationOutcome, NotificationSource, NotificationState,
                                  Payment)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
EVERY_STATE = tuple(NotificationState)  # lets the (state, received_at) index serve a range of received_at
PAID_STATUSES = ("settlement", "capture")


@dataclass(frozen=True)
class Snapshot:
    """What the webhook, the processing and the reconciler did lately, read at `now`."""

    now: datetime
    last_received_at: datetime | None  # the last notification Midtrans posted (not our own checks)
    received_last_hour: int
    received_last_day: int
    settled_in_silence: int  # payments the reconciler found paid within the silence window
    settled_last_hour: int
    settled_last_day: int
    waiting: int  # stored, not processed yet
    oldest_waiting_at: datetime | None
    failed_last_hour: int
    failed_last_day: int
    open_payments: int
    oldest_open_at: datetime | None
    unsent_emails: int  # e-mails to shoppers (shop.outbox) still owed ALERT_WAITING_MINUTES after they became due

    def age(self, moment: datetime | None) -> float | None:
        return None if moment is None else max((self.now - moment).total_seconds(), 0.0)

    @property
    def silent_minutes(self) -> float | None:
        age = self.age(self.last_received_at)
        return None if age is None else age / 60


def take_snapshot(now: datetime) -> Snapshot:
    """Count everything the health panel, the alerts and the gauges need, as of `now`."""
    config = current_app.config
    silence = now - timedelta(minutes=config["ALERT_SILENCE_MINUTES"])
    return Snapshot(now, last_webhook_at(), *webhook_counts(now), *settled_counts(now, silence),
                    *waiting(), *failed_counts(now), *open_payments(),
                    unsent_emails(now, timedelta(minutes=config["ALERT_WAITING_MINUTES"])))


def last_webhook_at() -> datetime | None:
    return db.session.scalar(select(Notification.received_at).where(Notification.source == NotificationSource.WEBHOOK)
                             .order_by(Notification.id.desc()).limit(1))


def _since(column, moment: datetime):
    return func.count(case((column >= moment, 1)))


def webhook_counts(now: datetime) -> tuple[int, int]:
    received = Notification.received_at
    return tuple(db.session.execute(
        select(_since(received, now - HOUR), func.count())
        .where(Notification.state.in_(EVERY_STATE), received >= now - DAY,
               Notification.source == NotificationSource.WEBHOOK)).one())


def settled_counts(now: datetime, silence: datetime) -> tuple[int, int, int]:
    """Payments the reconciler's GET status found paid (and applied): in the silence window, hour, day."""
    received = Notification.received_at
    return tuple(db.session.execute(
        select(_since(received, silence), _since(received, now - HOUR), func.count())
        .where(Notification.state == NotificationState.PROCESSED, received >= min(now - DAY, silence),
               Notification.source == NotificationSource.RECONCILE,
               Notification.outcome == NotificationOutcome.APPLIED,
               Notification.transaction_status.in_(PAID_STATUSES))).one())


def waiting() -> tuple[int, datetime | None]:
    return tuple(db.session.execute(select(func.count(), func.min(Notification.received_at))
                                    .where(Notification.state == NotificationState.RECEIVED)).one())


def failed_counts(now: datetime) -> tuple[int, int]:
    received = Notification.received_at
    return tuple(db.session.execute(
        select(_since(received, now - HOUR), func.count())
        .where(Notification.state == NotificationState.FAILED, received >= now - DAY)).one())


def open_payments() -> tuple[int, datetime | None]:
    return tuple(db.session.execute(select(func.count(), func.min(Payment.created_at))
                                    .where(Payment.status.in_(states.OPEN))).one())


def unsent_emails(now: datetime, after: timedelta) -> int:
    """The shoppers' owed e-mails; the merchant's own are not counted, or an alert that cannot be
    sent would owe another one about itself."""
    return db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.outcome.is_(None), OutboxEmail.created_at <= now - after, OutboxEmail.created_at > now - DAY,
        OutboxEmail.kind.not_like(f"{mailing.PREFIX}%")))
