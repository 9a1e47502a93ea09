"""E-mail to the merchant (MERCHANT_ALERT_EMAIL): alerts, paid orders, the day's summary. Indonesian.

Through the outbox, like the shopper's (shop.outbox.services): the job that decides an e-mail is
due owes it with `owe(kind, key)` in its own transaction (at most once per key), queues it after
its commit (shop.operations.tasks), and the renderer registered for the kind writes it when it is
sent, from what the database says then. A failing mail server leaves it owed: the task retries
and the sweeper queues it again; nothing is sent inside the deciding transaction.
"""
from flask import current_app
from flask_mail import Message

from shop.outbox import services as outbox

PREFIX = "merchant."  # every kind of the merchant's e-mails starts so (the shopper's never do)
ALERT = PREFIX + "alert"  # key <condition>:<when it alerted>
RESOLVED = PREFIX + "resolved"  # key <condition>:<when it stopped holding>
PAID_ORDER = PREFIX + "paid_order"  # key order:<id>
PAID_DIGEST = PREFIX + "paid_digest"  # key digest:<when it was decided>
DAILY_SUMMARY = PREFIX + "daily_summary"  # key <the day, ISO>


def merchant_address() -> str | None:
    return current_app.config["MERCHANT_ALERT_EMAIL"] or None


def owe(owed: dict[str, int], label: str, kind: str, key: str) -> None:
    """Owe the merchant the e-mail (kind, key) in the caller's transaction and note its outbox id in
    `owed` under `label`, to queue after the commit; nothing when it is owed already (flushes)."""
    email_id = outbox.add(kind, key)
    if email_id is not None:
        owed[label] = email_id


def to_merchant(subject: str, lines: list[str]) -> Message | None:
    """One e-mail of `lines` (paragraphs) to the merchant, text and HTML; None once there is no address."""
    if merchant_address() is None:
        return None
    context = {"subject": subject, "lines": lines}
    return Message(subject=f"[Toko Kita] {subject}", recipients=[merchant_address()],
                   body=outbox.render_template("emails/merchant.txt", **context),
                   html=outbox.render_template("emails/merchant.html", **context))
