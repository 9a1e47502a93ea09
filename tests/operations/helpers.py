"""Rows for the operations tests: notifications and payments with the times a test chooses; the
merchant's owed e-mails sent as the outbox's task sends them."""
from datetime import timedelta

from flask import current_app

from shop.extensions import db, mail
from shop.models import utcnow
from shop.payments.models import Notification, NotificationOutcome, NotificationSource, NotificationState, PaymentStatus
from shop.outbox.services import SEND_EMAIL
from tests.factories import PaymentFactory


def ago(now=None, **delta):
    return (now or utcnow()) - timedelta(**delta)


def note(received_at, source=NotificationSource.WEBHOOK, state=NotificationState.PROCESSED,
         outcome=NotificationOutcome.APPLIED, status="settlement", payment=None) -> Notification:
    """A stored notification of `payment` (a new paid one unless given), received at `received_at`."""
    payment = payment or PaymentFactory(status=PaymentStatus.SUCCESS)
    row = Notification(payment=payment, midtrans_order_id=payment.midtrans_order_id, transaction_status=status,
                       status_code="200", gross_amount=f"{payment.gross_amount}.00", body="{}", source=source,
                       state=state, outcome=outcome if state is NotificationState.PROCESSED else None,
                       received_at=received_at)
    db.session.add(row)
    db.session.flush()
    return row


def reconciled(received_at, **kwargs) -> Notification:
    """A payment the reconciler found paid (GET status: settlement, applied) at `received_at`."""
    return note(received_at, source=NotificationSource.RECONCILE, **kwargs)


def deliver(owed: dict[str, int]) -> list:
    """Send the owed e-mails (label -> outbox id) as the outbox's task does after the deciding
    commit; the messages the mail server took."""
    task = current_app.extensions["celery"].tasks[SEND_EMAIL]
    with mail.record_messages() as sent:
        for email_id in owed.values():
            task.apply(args=[email_id])
    return sent
