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
    """Something the merchant was sent once: a paid order (alone or in a digest), a day's summary."""

    __tablename__ = "merchant_messages"
    __table_args__ = (db.UniqueConstraint("kind", "key", name="uq_merchant_messages_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(20))  # "paid_order" (key: order id), "daily_summary" (key: the day)
    key: Mapped[str] = mapped_column(db.String(40))
    sent_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
