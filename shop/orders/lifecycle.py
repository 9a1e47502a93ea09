"""An order's life: its status follows from what its payment attempts mean; its stock goes back once.

Payments decide what one attempt means for its order (shop.payments.states.ORDER_MEANING); this
module decides what all of an order's attempts together make of it, and what comes with a move.
Call these holding the order's row lock (payments lock the order, then its payments). They flush
at most and never commit.
"""
import logging
from collections.abc import Iterable
from datetime import datetime
from operator import attrgetter

from sqlalchemy import select, text, update

from shop.accounts.models import InboxMessage
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderStatus as S

log = logging.getLogger(__name__)

# Which attempt decides: a paid one (money in, then the ways it went back), then one held for
# review, then one still open -- so a failed attempt never fails an order another may still pay.
PRECEDENCE = (S.SUCCESS, S.PARTIALLY_REFUNDED, S.CHARGEBACK, S.REFUNDED, S.REVIEW, S.PENDING)
# An order in these states no longer holds its stock.
RELEASING = (S.FAILED, S.EXPIRED, S.CANCELLED)


_SQLITE_WRITE_LOCK = text("UPDATE orders SET id = id WHERE 0")  # matches nothing, changes nothing


class OrderTransitionError(Exception):
    """An order cannot make this move."""


def locked_order(order_id: int) -> Order | None:
    """The order row locked FOR UPDATE and read afresh, its attempts reloaded when next read; None when
    there is no such order. Every writer of an order takes this lock first (the notification task, checkout,
    an admin's refund or action, reconciliation), so none of them deadlock and each sees the last one's work.

    On SQLite, see `write_lock_on_sqlite`.
    """
    write_lock_on_sqlite()
    order = db.session.execute(select(Order).where(Order.id == order_id).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one_or_none()
    if order is not None:
        db.session.expire(order, ["payments"])
    return order


def write_lock_on_sqlite() -> None:
    """SQLite (the embedded default) has no row locks and ignores FOR UPDATE: there an order's writer
    first takes the database's write lock, with a write that matches no row, so what it reads next
    was written by every writer that committed before, and no other writer commits until it ends.
    Nothing on other databases. Call before reading what the order lock protects."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(_SQLITE_WRITE_LOCK)


def status_from_attempts(current: S, attempts: Iterable[tuple[int, S]]) -> S:
    """The order's status from (attempt number, what that attempt means for the order) pairs.

    Without attempts the order keeps `current`; when every attempt failed, the latest one's
    failure is the order's.
    """
    meanings = dict(attempts)
    if not meanings:
        return current
    for status in PRECEDENCE:
        if status in meanings.values():
            return status
    return meanings[max(meanings)]


def move_order(order: Order, new: S, paid_at: datetime | None) -> InboxMessage | None:
    """Move the order to `new` with what comes with that move (stock back, review, paid).

    Returns the shopper's inbox message when the order became paid (it is e-mailed too).
    """
    if new == order.status:
        return None
    log.info("order=%s %s -> %s", order.id, order.status.value, new.value)
    order.status = new
    if new in RELEASING:
        release_stock(order)
    if new is S.REVIEW:
        order.needs_review = True
    if new is S.SUCCESS:
        return _mark_paid(order, paid_at)
    return None


def expire_without_payment(order: Order) -> None:
    """Expire a PENDING order that never got a payment attempt (its checkout crashed); stock goes back."""
    if order.status is not S.PENDING:
        raise OrderTransitionError(f"order {order.status.value} cannot expire for want of a payment")
    order.status = S.EXPIRED
    release_stock(order)


def release_stock(order: Order) -> bool:
    """Put the order's reserved stock back on the shelf, once ever (call under the order lock)."""
    if order.stock_released:
        return False
    order.stock_released = True  # before the lines load: the order's row is then written once
    # In product id order, as checkout reserves: two transactions never wait on each other's rows.
    for line in sorted(order.lines, key=attrgetter("product_id")):
        db.session.execute(update(Product).where(Product.id == line.product_id)
                           .values(stock=Product.stock + line.quantity))
    return True


def _mark_paid(order: Order, paid_at: datetime | None) -> InboxMessage:
    if order.paid_at is None:
        order.paid_at = paid_at or utcnow()
    if order.stock_released:
        # Paid after its stock went back (e.g. expired, then a late VA payment): may be oversold.
        order.needs_review = True
        log.warning("order=%s paid after its stock was released; flagged for an admin", order.id)
    message = InboxMessage(user_id=order.user_id, order_id=order.id,
                           text=f"Pembayaran pesanan #{order.id} sudah kami terima. Terima kasih!")
    db.session.add(message)
    return message
