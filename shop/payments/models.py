import enum

from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class PaymentStatus(str, enum.Enum):
    """One payment attempt's state. Changed only through shop.payments.states."""

    CREATED = "CREATED"  # Snap transaction made; the shopper has not picked a method yet
    PENDING = "PENDING"  # method picked, waiting for the money (VA, store, e-wallet, 3DS)
    AUTHORIZED = "AUTHORIZED"  # card pre-authorisation
    CHALLENGE = "CHALLENGE"  # card captured but held by fraud detection
    SUCCESS = "SUCCESS"  # capture (accepted) or settlement
    DENIED = "DENIED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    PARTIALLY_CHARGEBACK = "PARTIALLY_CHARGEBACK"
    CHARGEBACK = "CHARGEBACK"

    @property
    def is_open(self) -> bool:
        """The shopper may still pay through this attempt."""
        return self in (PaymentStatus.CREATED, PaymentStatus.PENDING,
                        PaymentStatus.AUTHORIZED, PaymentStatus.CHALLENGE)


class Payment(db.Model):
    """One attempt to pay an order, with its own Midtrans order id."""

    __tablename__ = "payments"
    __table_args__ = (
        db.UniqueConstraint("order_id", "attempt", name="uq_payments_order_id_attempt"),
        db.Index("ix_payments_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(db.ForeignKey("orders.id"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    midtrans_order_id: Mapped[str] = mapped_column(db.String(50), unique=True)
    status: Mapped[PaymentStatus] = mapped_column(
        db.Enum(PaymentStatus, name="payment_status", native_enum=False, length=20),
        default=PaymentStatus.CREATED,
    )
    gross_amount: Mapped[int] = mapped_column(db.BigInteger)  # whole rupiah we asked for
    # What Midtrans told us last, as it said it.
    transaction_id: Mapped[str | None] = mapped_column(db.String(64), index=True)
    transaction_status: Mapped[str | None] = mapped_column(db.String(30))
    fraud_status: Mapped[str | None] = mapped_column(db.String(20))
    payment_type: Mapped[str | None] = mapped_column(db.String(40))
    va_numbers = mapped_column(db.JSON, nullable=True)  # [{"bank": "bca", "va_number": "..."}]
    bill_key: Mapped[str | None] = mapped_column(db.String(40))
    biller_code: Mapped[str | None] = mapped_column(db.String(20))
    payment_code: Mapped[str | None] = mapped_column(db.String(40))
    store: Mapped[str | None] = mapped_column(db.String(20))
    # QRIS (and GoPay): "on-us" when paid from the acquirer's own app, else "off-us"; Midtrans refunds
    # the one for 45 days and the other for 7.
    transaction_type: Mapped[str | None] = mapped_column(db.String(10))
    refund_amount: Mapped[int | None] = mapped_column(db.BigInteger)
    amount_mismatch: Mapped[bool] = mapped_column(default=False)
    snap_token: Mapped[str | None] = mapped_column(db.String(64))
    redirect_url: Mapped[str | None] = mapped_column(db.String(500))
    expires_at = mapped_column(UTCDateTime(), nullable=True)
    transaction_time = mapped_column(UTCDateTime(), nullable=True)
    settlement_time = mapped_column(UTCDateTime(), nullable=True)
    last_checked_at = mapped_column(UTCDateTime(), nullable=True)  # last GET status, asked or queued
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    order = relationship("Order", back_populates="payments")
    notifications = relationship("Notification", back_populates="payment",
                                 order_by="Notification.id")

    def __repr__(self) -> str:
        return f"<Payment {self.midtrans_order_id} {self.status.value}>"


class NotificationSource(str, enum.Enum):
    WEBHOOK = "WEBHOOK"  # POSTed by Midtrans to /api/midtrans/notification
    RECONCILE = "RECONCILE"  # our own GET status, from the beat job or an admin
    REPLAY = "REPLAY"  # a stored notification re-applied by an operator

    @property
    def actor(self) -> str:
        """Who a movement of money or a timeline entry from this source is attributed to."""
        return {"WEBHOOK": "webhook", "RECONCILE": "reconciler", "REPLAY": "system"}[self.value]


class NotificationState(str, enum.Enum):
    RECEIVED = "RECEIVED"  # stored, task not finished yet
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"  # gave up after bounded attempts; an admin looks at it


class NotificationOutcome(str, enum.Enum):
    APPLIED = "APPLIED"  # changed the payment
    DUPLICATE = "DUPLICATE"  # same state again; nothing to do
    STALE = "STALE"  # older than what we already have (e.g. pending after settlement)
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    UNKNOWN_STATUS = "UNKNOWN_STATUS"
    REJECTED = "REJECTED"  # GET status disagreed, or an illegal move


class Notification(db.Model):
    """Every notification received from Midtrans, raw, plus what we made of it."""

    __tablename__ = "midtrans_notifications"
    __table_args__ = (db.Index("ix_midtrans_notifications_state_received_at", "state", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(db.ForeignKey("payments.id"), index=True)
    source: Mapped[NotificationSource] = mapped_column(
        db.Enum(NotificationSource, name="notification_source", native_enum=False, length=12),
        default=NotificationSource.WEBHOOK,
    )
    midtrans_order_id: Mapped[str] = mapped_column(db.String(50))
    transaction_id: Mapped[str | None] = mapped_column(db.String(64))
    transaction_status: Mapped[str | None] = mapped_column(db.String(30))
    fraud_status: Mapped[str | None] = mapped_column(db.String(20))
    status_code: Mapped[str | None] = mapped_column(db.String(5))
    gross_amount: Mapped[str | None] = mapped_column(db.String(30))  # as received, unparsed
    body: Mapped[str] = mapped_column(db.Text)  # the raw body, exactly as received
    state: Mapped[NotificationState] = mapped_column(
        db.Enum(NotificationState, name="notification_state", native_enum=False, length=12),
        default=NotificationState.RECEIVED,
    )
    outcome: Mapped[NotificationOutcome | None] = mapped_column(
        db.Enum(NotificationOutcome, name="notification_outcome", native_enum=False, length=20),
        nullable=True,
    )
    attempts: Mapped[int] = mapped_column(default=0)  # times processing started (or was forced)
    error: Mapped[str | None] = mapped_column(db.String(500))
    received_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    processed_at = mapped_column(UTCDateTime(), nullable=True)
    # When processing last started or the sweeper last queued it: the sweeper waits from here.
    last_attempt_at = mapped_column(UTCDateTime(), nullable=True)
    # When queueing its task failed after it was stored (the broker was down): the sweeper's next
    # run queues it, without waiting. Cleared when the sweeper queues it.
    queue_failed_at = mapped_column(UTCDateTime(), nullable=True)

    payment = relationship("Payment", back_populates="notifications")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.midtrans_order_id} {self.transaction_status}>"


class MoneyEventKind(str, enum.Enum):
    """A movement of an order's money, as Midtrans reported it."""

    PAID = "PAID"  # an attempt was paid (capture or settlement, or implied by a later refund)
    REVERSED = "REVERSED"  # a paid attempt was reversed or voided (Permata, Mandiri bill, Indomaret, card void)
    REFUND_REQUESTED = "REFUND_REQUESTED"  # a refund Midtrans accepted; the bank has not confirmed it yet
    REFUNDED = "REFUNDED"  # a refund the bank confirmed
    CHARGEBACK = "CHARGEBACK"  # money the card issuer took back


class MoneyEvent(db.Model):
    """One movement of money for an order: the ledger's amounts are sums of these, never counters.

    Recorded once: `key` names the movement (the payment for PAID and REVERSED, Midtrans's
    refund_chargeback_id or refund_key for refunds and chargebacks), unique per order and kind.
    """

    __tablename__ = "money_events"
    __table_args__ = (db.UniqueConstraint("order_id", "kind", "key", name="uq_money_events_order_id_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up by order through the unique key, whose first column it is: no index of its own.
    order_id: Mapped[int] = mapped_column(db.ForeignKey("orders.id"))
    payment_id: Mapped[int] = mapped_column(db.ForeignKey("payments.id"))
    kind: Mapped[MoneyEventKind] = mapped_column(
        db.Enum(MoneyEventKind, name="money_event_kind", native_enum=False, length=20))
    key: Mapped[str] = mapped_column(db.String(120))
    amount: Mapped[int] = mapped_column(db.BigInteger)  # whole rupiah, never negative
    fee: Mapped[int] = mapped_column(db.BigInteger, default=0)  # Midtrans's fee paid by the shopper, on PAID
    actor: Mapped[str] = mapped_column(db.String(120))  # webhook, reconciler, admin e-mail, system
    reason: Mapped[str | None] = mapped_column(db.String(300))
    # The refund_key of a refund (the shop's own, or Midtrans's for one made in its dashboard): how a
    # refund the shop asked for is matched with the movement Midtrans reports for it.
    refund_key: Mapped[str | None] = mapped_column(db.String(120))
    happened_at = mapped_column(UTCDateTime(), nullable=False)  # as Midtrans dated it, else when recorded
    recorded_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<MoneyEvent {self.kind.value} {self.amount} order={self.order_id}>"


class PaymentActionKind(str, enum.Enum):
    """Something an admin did to an order's money from the dashboard or the CLI."""

    REFUND = "REFUND"  # a refund asked of Midtrans
    MANUAL_REFUND = "MANUAL_REFUND"  # money sent back by the merchant's own bank transfer (VA, bill, store)
    CANCEL = "CANCEL"
    EXPIRE = "EXPIRE"
    APPROVE = "APPROVE"  # a card held by fraud review
    DENY = "DENY"


class PaymentActionState(str, enum.Enum):
    PENDING = "PENDING"  # stored before the call; Midtrans's answer is not known yet (retry with the same key)
    DONE = "DONE"  # Midtrans accepted it (or, for a manual refund, it was recorded)
    FAILED = "FAILED"  # Midtrans refused it; nothing moved


class PaymentAction(db.Model):
    """One admin action on an attempt, stored (with its refund_key) before Midtrans is called."""

    __tablename__ = "payment_actions"
    __table_args__ = (db.Index("ix_payment_actions_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(db.ForeignKey("orders.id"))
    payment_id: Mapped[int] = mapped_column(db.ForeignKey("payments.id"))
    kind: Mapped[PaymentActionKind] = mapped_column(
        db.Enum(PaymentActionKind, name="payment_action_kind", native_enum=False, length=20))
    state: Mapped[PaymentActionState] = mapped_column(
        db.Enum(PaymentActionState, name="payment_action_state", native_enum=False, length=10),
        default=PaymentActionState.PENDING)
    actor: Mapped[str] = mapped_column(db.String(120))  # the admin's e-mail
    amount: Mapped[int | None] = mapped_column(db.BigInteger)  # refunds: whole rupiah
    reason: Mapped[str | None] = mapped_column(db.String(300))
    refund_key: Mapped[str | None] = mapped_column(db.String(64), unique=True)
    transfer_reference: Mapped[str | None] = mapped_column(db.String(120))  # manual refunds
    transferred_on = mapped_column(db.Date(), nullable=True)
    return_stock: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(db.String(500))
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    finished_at = mapped_column(UTCDateTime(), nullable=True)

    payment = relationship("Payment")

    def __repr__(self) -> str:
        return f"<PaymentAction {self.kind.value} {self.state.value} order={self.order_id}>"
