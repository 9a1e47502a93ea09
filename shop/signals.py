"""Signals between features. Sent by boundary code only, after the commit."""
from blinker import Namespace

signals = Namespace()

# Sent with sender=the app, order_id=..., user_id=..., status=OrderStatus, once per real change.
order_status_changed = signals.signal("order-status-changed")
