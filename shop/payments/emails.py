"""E-mails about payments. Sent only after the commit that made them true."""
import logging

from flask import current_app
from flask_mail import Message

from shop.extensions import db, mail
from shop.orders.models import Order

log = logging.getLogger(__name__)


def send_payment_success_email(order_id: int) -> None:
    """E-mail the shopper that their payment arrived (text and HTML, in Indonesian)."""
    order = db.session.get(Order, order_id)
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
