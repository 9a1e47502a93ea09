"""Queueing the payments' tasks after the commit that made them needed.

Tasks are published by name, so nothing here imports shop.payments.tasks (the tasks import the
services). A notification whose task could not be queued is marked for the sweeper's next run.
"""
import logging
from functools import cache

from flask import current_app
from sqlalchemy import Update, bindparam, update
from sqlalchemy.exc import SQLAlchemyError

from shop import broker, extensions
from shop.models import utcnow
from shop.payments.models import Notification, NotificationState

log = logging.getLogger(__name__)

PROCESS_NOTIFICATION = "payments.process_notification"  # shop.payments.tasks.process_notification
SEND_PAYMENT_EMAIL = "payments.send_payment_email"  # shop.payments.tasks.send_payment_email
SEND_REFUND_EMAILS = "payments.send_refund_emails"  # shop.payments.tasks.send_refund_emails


def enqueue_notifications(notification_ids: list[int]) -> None:
    """Queue the processing of stored notifications, in this order, with one LPUSH (after the commit).

    When the broker fails, the rows are marked for the sweeper's next run, and the error is raised.
    """
    try:
        broker.publish_each(current_app.extensions["celery"], PROCESS_NOTIFICATION,
                            [(notification_id,) for notification_id in notification_ids])
    except Exception as error:
        mark_unqueued(notification_ids, f"{type(error).__name__}: {error}")
        raise


def queue_payment_email(message_id: int) -> None:
    """Queue the e-mail that goes with the shopper's inbox message about a payment (after the commit)."""
    broker.publish(current_app.extensions["celery"], SEND_PAYMENT_EMAIL, message_id)


def queue_refund_emails(order_id: int) -> None:
    """Queue the e-mails of the order's bank-confirmed refunds not e-mailed yet (after the commit)."""
    broker.publish(current_app.extensions["celery"], SEND_REFUND_EMAILS, order_id)


def mark_unqueued(notification_ids: list[int], reason: str) -> None:
    """Their tasks could not be queued after the commit (the broker failed): mark them for the
    sweeper's next run, instead of a whole SWEEP_DELAY_SECONDS later, and say why in their
    `error` for the dashboard until they are processed (commits on its own).

    Only the delay depends on the mark: when it cannot be written either, the sweeper still
    finds them once the delay has passed.
    """
    try:
        with extensions.autocommit_connection() as connection:
            connection.execute(_unqueued_mark(), {"ids": list(notification_ids), "now": utcnow(),
                                                  "error": f"not queued yet ({reason})"[:500]})
    except SQLAlchemyError as error:  # the database too, or its pool: the delay still brings them back
        log.warning("notifications=%s not marked as unqueued (%s); the sweeper finds them after its delay",
                    notification_ids[:20], type(error).__name__)


@cache
def _unqueued_mark() -> Update:
    table = Notification.__table__
    return (update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.state == NotificationState.RECEIVED)
            .values(queue_failed_at=bindparam("now", type_=table.c.queue_failed_at.type), error=bindparam("error")))
