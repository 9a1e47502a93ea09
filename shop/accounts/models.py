from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from shop.extensions import db
from shop.models import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(db.String(254), unique=True)
    name: Mapped[str] = mapped_column(db.String(120))
    password_hash: Mapped[str] = mapped_column(db.String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Bumped on logout / password change so old session cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    inbox = relationship("InboxMessage", back_populates="user", order_by="InboxMessage.id.desc()")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class InboxMessage(db.Model):
    """An in-app notification shown to a shopper (for example: payment received)."""

    __tablename__ = "inbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(db.ForeignKey("orders.id"), nullable=True)
    text: Mapped[str] = mapped_column(db.String(500))
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User", back_populates="inbox")
