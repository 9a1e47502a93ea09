"""What a payment change did to its order, and the side effects that follow its commit.

Every boundary that commits a change to an order (the notification task, reconciliation, the
dashboard, the CLI, checkout's "pay again") calls `announce_order_change` right after its commit:
the four cached pages are cleared, open pages are told, and the e-mails the change made due are queued.
"""
import logging
from dataclasses import dataclass

from flask import current_app

from shop.caching import clear_order_pages
from shop.orders.models import OrderStatus
from shop.outbox import services as outbox
from shop.payments.models import NotificationOutcome, PaymentStatus
from shop.signals import order_status_changed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderChange:
    """What applying one status (or opening an attempt) did, for the side effects after the commit."""

    outcome: NotificationOutcome | None  # None: the notification had been processed already
    order_id: int
    user_id: int
    before: OrderStatus
    after: OrderStatus
    payment_status: PaymentStatus | None  # None: an order that never had a payment
    email_ids: tuple[int, ...] = ()  # outbox rows the change added (shop.outbox), to queue
    money_moved: bool = False  # the ledger recorded a movement (a refund can leave every status as it was)

    @classmethod
    def new_attempt(cls, payment, before: OrderStatus) -> "OrderChange":
        """A payment attempt was opened: the order's pages show it, and a failed order is pending again."""
        order = payment.order
        return cls(NotificationOutcome.APPLIED, order.id, order.user_id, before, order.status, payment.status)

    @property
    def order_changed(self) -> bool:
        return self.before != self.after

    @property
    def pages_changed(self) -> bool:
        return self.order_changed or self.outcome is NotificationOutcome.APPLIED or self.money_moved


def announce_order_change(change: OrderChange | None) -> None:
    """After the commit: queue the e-mails it made due, clear the order's cached pages, tell listeners."""
    if change is None:
        return
    outbox.queue_after_commit(change.email_ids)
    if not change.pages_changed:
        return
    _quietly("clear cached pages", clear_order_pages, change.order_id, change.user_id)
    if not change.order_changed:
        return
    _quietly("send order_status_changed", order_status_changed.send, current_app._get_current_object(),
             order_id=change.order_id, user_id=change.user_id, status=change.after)


def _quietly(what: str, action, *args, **kwargs) -> None:
    # The change is committed; a failing side effect is logged, never undoes or repeats it.
    try:
        action(*args, **kwargs)
    except Exception:  # noqa: BLE001
        log.exception("could not %s after the commit", what)
