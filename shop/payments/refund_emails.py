"""The shopper's e-mail about each bank-confirmed refund (or manual bank refund), once per refund.

Queued after the commit that recorded the refund (shop.payments.announcing) and sent by a task of
its own. Each refund's row is locked while its mail goes out and marked sent before the task
commits, so two runs never both send it.
"""
import logging

from flask import current_app
from flask_mail import Message
from sqlalchemy import select

from shop.extensions import db, mail
from shop.models import utcnow
from shop.orders.models import Order
from shop.payments.models import MoneyEvent, MoneyEventKind

log = logging.getLogger(__name__)


def email_refunds_once(order_id: int) -> int:
    """E-mail each confirmed refund of the order not e-mailed yet; how many went out (flushes)."""
    refunds = db.session.scalars(select(MoneyEvent).where(
        MoneyEvent.order_id == order_id, MoneyEvent.kind == MoneyEventKind.REFUNDED, MoneyEvent.emailed_at.is_(None))
        .order_by(MoneyEvent.id).with_for_update()).all()
    for refund in refunds:
        send_refund_email(refund)
        refund.emailed_at = utcnow()
    return len(refunds)


def send_refund_email(refund: MoneyEvent) -> None:
    """E-mail the shopper that `refund` went back to them (text and HTML, in Indonesian)."""
    order = db.session.get(Order, refund.order_id)
    context = {"order": order, "refund": refund, "config": current_app.config}
    env = current_app.jinja_env
    mail.send(Message(subject=f"Dana pesanan #{order.id} sudah dikembalikan", recipients=[order.user.email],
                      body=env.get_template("emails/refund_confirmed.txt").render(**context),
                      html=env.get_template("emails/refund_confirmed.html").render(**context)))
    log.info("email refund_confirmed order=%s refund=%s to_user=%s", order.id, refund.id, order.user_id)
