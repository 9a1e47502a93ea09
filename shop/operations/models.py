"""What the operations jobs remember between runs, in the database so it survives restarts."""
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class AlertState(db.Model):
    """One alert condition: whether it holds, and when the merchant was last told."""

    __tablename__ = "alert_states"

    name: Mapped[str] = mapped_column(db.String(40), primary_key=True)
    firing: Mapped[bool] = mapped_column(default=False)
    alerted: Mapped[bool] = mapped_column(default=False)  # an alert went out since it started holding
    reason: Mapped[str | None] = mapped_column(db.String(500))
    last_alert_at = mapped_column(UTCDateTime(), nullable=True)
    changed_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class MerchantMessage(db.Model):
    """A paid order the merchant is told about once (alone or in a digest); the e-mail itself is an
    outbox row (shop.operations.mailing), owed in the same transaction."""

    __tablename__ = "merchant_messages"
    __table_args__ = (db.UniqueConstraint("kind", "key", name="uq_merchant_messages_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(20))  # "paid_order" (key: order id)
    key: Mapped[str] = mapped_column(db.String(40))
    # When its e-mail became owed; the column keeps the name it had when the e-mail was sent at once.
    owed_at = mapped_column("sent_at", UTCDateTime(), default=utcnow, nullable=False)
