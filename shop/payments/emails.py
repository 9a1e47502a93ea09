"""E-mails about payments. Sent only after the commit that made them true, by a task of their own
(queued by shop.payments.queueing)."""
import logging

from flask import current_app
from flask_mail import Message
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import InboxMessage
from shop.extensions import db, mail
from shop.models import utcnow
from shop.orders.models import Order

log = logging.getLogger(__name__)

def email_payment_once(message_id: int) -> bool:
    """E-mail the payment an inbox message tells of, unless it was e-mailed already (flushes).

    The message's row is locked while the mail goes out and marked sent before the caller
    commits, so two runs of the task never both send it. Only a worker lost between the SMTP
    server's acceptance and the commit makes a retry send it twice.
    """
    message = db.session.get(InboxMessage, message_id, with_for_update=True)
    if message is None or message.emailed_at is not None:
        return False
    send_payment_success_email(message.order_id)
    message.emailed_at = utcnow()
    return True


def send_payment_success_email(order_id: int) -> None:
    """E-mail the shopper that their payment arrived (text and HTML, in Indonesian)."""
    order = db.session.get(Order, order_id, options=[joinedload(Order.user), selectinload(Order.lines)])
    message = Message(subject=f"Pembayaran pesanan #{order.id} sudah diterima",
                      recipients=[order.user.email],
                      body=_render("emails/payment_success.txt", order=order),
                      html=_render("emails/payment_success.html", order=order))
    mail.send(message)
    sent = "suppressed (MAIL_SUPPRESS_SEND)" if current_app.config["MAIL_SUPPRESS_SEND"] else "sent"
    log.info("email payment_success order=%s to_user=%s %s", order.id, order.user_id, sent)


def _render(name: str, **context) -> str:
    # Without the request's context processors: an e-mail is about its recipient, never about
    # whoever happens to be logged in to the request that triggered it (eager mode).
    return current_app.jinja_env.get_template(name).render(config=current_app.config, **context)
