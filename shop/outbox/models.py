from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class OutboxEmail(db.Model):
    """One e-mail the shop owes someone: `kind` says which template, `key` which thing it is about.

    The row is written in the transaction that made the e-mail due, at most once per (kind, key);
    its content is rendered when it is sent. `claimed_at` is committed before the SMTP server is
    contacted and `sent_at` after it accepted the message.
    """

    __tablename__ = "email_outbox"
    __table_args__ = (db.UniqueConstraint("kind", "key"),
                      db.Index("ix_email_outbox_unsent", "created_at", postgresql_where=db.text("outcome IS NULL"),
                               sqlite_where=db.text("outcome IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(40))
    key: Mapped[str] = mapped_column(db.String(120))
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # When the sweeper last queued it again (it never went out): at most once an hour.
    queued_at = mapped_column(UTCDateTime(), nullable=True)
    # Committed before sending: while the claim is fresh nobody else sends it.
    claimed_at = mapped_column(UTCDateTime(), nullable=True)
    claims: Mapped[int] = mapped_column(default=0)
    sent_at = mapped_column(UTCDateTime(), nullable=True)
    # None while owed; then "sent", "skipped" (nothing to say any more: paid before its reminder
    # went out) or "gave_up" (a day of failures).
    outcome: Mapped[str | None] = mapped_column(db.String(10), nullable=True)
    error: Mapped[str | None] = mapped_column(db.String(300), nullable=True)
