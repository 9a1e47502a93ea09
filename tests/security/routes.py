"""Who may use which endpoint: the table every route in the URL map must be in.

A new endpoint without a row fails tests/security/test_routes.py. To add one, put its
endpoint name in ENDPOINTS with its class; if its URL takes an argument the walk does not
know yet, add a sample value to `sample_values` in tests/security/walk.py.
"""
PUBLIC = "public"  # anyone, logged in or not
LOGIN = "login required"  # anonymous -> the login page; any logged-in user
OWNER = "owner only"  # anonymous -> the login page; anyone but the order's owner -> 404
ADMIN = "admin only"  # anonymous and shoppers refused (login page, 403 or 404)
WEBHOOK = "notification webhook"  # no login, no CSRF token: the Midtrans signature decides
EMULATOR = "dev-only emulator"  # mounted only when MIDTRANS_EMULATOR is on; never in production
METRICS = "metrics credentials"  # METRICS_TOKEN or METRICS_BASIC_AUTH, whoever is logged in; 404 in production unset

ENDPOINTS = {
    "static": PUBLIC,
    "favicon": PUBLIC,
    "health.healthz": PUBLIC,
    "operations.metrics": METRICS,
    "catalog.index": PUBLIC,
    "catalog.detail": PUBLIC,
    "accounts.register": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.logout": LOGIN,
    "accounts.forgot_password": PUBLIC,
    "accounts.reset_password": PUBLIC,  # the signed token in the URL decides
    "cart.show": PUBLIC,
    "cart.add": PUBLIC,
    "cart.update": PUBLIC,
    "cart.remove": PUBLIC,
    "checkout.checkout": LOGIN,
    "payments.midtrans_notification": WEBHOOK,
    "midtrans_emulator.snap_create": EMULATOR,
    "midtrans_emulator.snap_close": EMULATOR,
    "midtrans_emulator.status": EMULATOR,
    "midtrans_emulator.cancel": EMULATOR,
    "midtrans_emulator.expire": EMULATOR,
    "midtrans_emulator.approve": EMULATOR,
    "midtrans_emulator.deny": EMULATOR,
    "midtrans_emulator.refund": EMULATOR,
    "midtrans_emulator.payment_page": EMULATOR,
    "midtrans_emulator.choose": EMULATOR,
    "midtrans_emulator.transactions": EMULATOR,
    "midtrans_emulator.settle": EMULATOR,
    "midtrans_emulator.expire_now": EMULATOR,
    "midtrans_emulator.qr_code": EMULATOR,  # like Midtrans's QR URL: an image for whoever has the transaction id
    "orders.index": LOGIN,
    "orders.finish": LOGIN,  # looks the Midtrans order id up among the shopper's own orders only
    "orders.show": OWNER,
    "orders.status": OWNER,
    "orders.status_area": OWNER,
    "orders.events": OWNER,
    "orders.pay_again": OWNER,
    "dashboard.home": ADMIN,
    "dashboard.orders": ADMIN,
    "dashboard.orders_csv": ADMIN,
    "dashboard.order_detail": ADMIN,
    "dashboard.recheck": ADMIN,
    "dashboard.replay": ADMIN,
    "dashboard.refund_confirm": ADMIN,
    "dashboard.refund": ADMIN,
    "dashboard.manual_refund": ADMIN,
    "dashboard.payment_action": ADMIN,
}

# Whatever an endpoint is called, its URL says which class it must be in.
PATH_RULES = (
    ("/dashboard", ADMIN),
    ("/orders/<", OWNER),
    ("/_emulator/", EMULATOR),
    ("/api/midtrans/notification", WEBHOOK),
    ("/metrics", METRICS),
)

# State-changing routes that take no CSRF token: Midtrans cannot send one, and the emulator's
# API stands in for Midtrans's (its HTML forms are protected like the shop's).
CSRF_EXEMPT = {
    "payments.midtrans_notification",
    "midtrans_emulator.snap_create", "midtrans_emulator.snap_close", "midtrans_emulator.cancel",
    "midtrans_emulator.expire",
    "midtrans_emulator.approve", "midtrans_emulator.deny", "midtrans_emulator.refund",
}


def path_class(rule: str) -> str | None:
    """The class a URL forces on its endpoint, if any."""
    for prefix, klass in PATH_RULES:
        if rule.startswith(prefix):
            return klass
    return None
