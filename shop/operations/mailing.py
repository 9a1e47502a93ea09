"""E-mail to the merchant (MERCHANT_ALERT_EMAIL): alerts, paid orders, the day's summary. Indonesian.

Sent inside the caller's transaction, after the row that records it was flushed: a failed send
raises and the caller rolls back, so the next run tries again; only a crash between the mail
server's acceptance and the commit can send one twice.
"""
import logging

from flask import current_app
from flask_mail import Message

from shop import metrics
from shop.extensions import mail

log = logging.getLogger(__name__)


def merchant_address() -> str | None:
    return current_app.config["MERCHANT_ALERT_EMAIL"] or None


def send_to_merchant(subject: str, lines: list[str], kind: str) -> None:
    """One e-mail of `lines` (paragraphs) to the merchant, text and HTML; counted by `kind`."""
    context = {"subject": subject, "lines": lines, "config": current_app.config}
    message = Message(subject=f"[Toko Kita] {subject}", recipients=[merchant_address()],
                      body=_render("emails/merchant.txt", context), html=_render("emails/merchant.html", context))
    try:
        mail.send(message)
    except Exception:
        metrics.count_email(kind, sent=False)
        raise
    metrics.count_email(kind, sent=True)
    log.info("email merchant kind=%s subject=%r", kind, subject)


def _render(name: str, context: dict) -> str:
    return current_app.jinja_env.get_template(name).render(**context)
