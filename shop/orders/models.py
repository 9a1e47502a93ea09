import enum

from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class OrderStatus(str, enum.Enum):
    """What the shopper sees. Changed only through shop.payments.states."""

    PENDING = "PENDING"
    REVIEW = "REVIEW"  # card payment challenged by fraud detection; an admin decides
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    CHARGEBACK = "CHARGEBACK"

    @property
    def is_final(self) -> bool:
        return self not in (OrderStatus.PENDING, OrderStatus.REVIEW)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (db.Index("ix_orders_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(
        db.Enum(OrderStatus, name="order_status", native_enum=False, length=20),
        default=OrderStatus.PENDING,
    )
    total: Mapped[int] = mapped_column(db.BigInteger)  # whole rupiah
    shipping_name: Mapped[str] = mapped_column(db.String(120), default="")
    shipping_phone: Mapped[str] = mapped_column(db.String(30), default="")
    shipping_address: Mapped[str] = mapped_column(db.String(500), default="")
    # Set once the reserved stock went back to the shelf, so it is never returned twice.
    stock_released: Mapped[bool] = mapped_column(default=False)
    # An admin must look at it (card challenge, amount mismatch, ...).
    needs_review: Mapped[bool] = mapped_column(default=False)
    paid_at = mapped_column(UTCDateTime(), nullable=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    user = relationship("User")
    lines = relationship("OrderLine", back_populates="order", order_by="OrderLine.id",
                         cascade="all, delete-orphan")
    payments = relationship("Payment", back_populates="order", order_by="Payment.attempt")

    @property
    def latest_payment(self):
        return self.payments[-1] if self.payments else None

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.status.value}>"


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(db.ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(db.ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(db.String(40))
    name: Mapped[str] = mapped_column(db.String(120))
    unit_price: Mapped[int] = mapped_column(db.BigInteger)
    quantity: Mapped[int]

    order = relationship("Order", back_populates="lines")
    product = relationship("Product")

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity
