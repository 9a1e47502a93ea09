"""Walking the shop's routes: every method of every route, as each role, on a small world of rows."""
from dataclasses import dataclass

from shop.extensions import db
from tests.security.routes import EMULATOR, ENDPOINTS, OWNER

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
ROLES = ("anonymous", "shopper", "admin", "owner")


@dataclass
class Visit:
    role: str
    method: str
    path: str
    endpoint: str
    status: int
    location: str
    headers: dict
    body: str | None  # None for a stream (Server-Sent Events), which is never read to its end


@dataclass
class World:
    owner: object
    shopper: object
    admin: object
    order: object
    product: object
    payment: object
    notification: object


def sample_values(world: World) -> dict:
    """A value for every URL argument the shop's routes take."""
    return {"sku": world.product.sku, "order_id": world.order.id, "id": world.order.id,
            "payment_id": world.payment.id, "notification_id": world.notification.id,
            "filename": "shop.css", "token": "no-such-token", "ident": "no-such-id",
            "kind": "cancel"}


def shop_rules(app):
    return [rule for rule in app.url_map.iter_rules() if ENDPOINTS.get(rule.endpoint) != EMULATOR]


def client_as(app, world: World, role: str):
    client = app.test_client()
    user = {"shopper": world.shopper, "admin": world.admin, "owner": world.owner}.get(role)
    if user is not None:
        # Read again: a log-out bumped its session version, and a status stream removed the session
        # it was loaded in (the stream gives its connection back), so it cannot just be refreshed.
        user = db.session.get(type(user), user.id, populate_existing=True)
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user.get_id(), True
    return client


def visit(app, world: World, role: str, rule, method: str) -> Visit:
    values = sample_values(world)
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: add a sample value for {missing} to sample_values()"
    path = app.url_map.bind("shop.test").build(rule.endpoint, {name: values[name] for name in rule.arguments})
    client = client_as(app, world, role)
    # A fresh app context per request, as in a server: the test's own one would carry Flask-Login's
    # user (kept on `g`) from one request over to the next.
    with app.app_context():
        response = client.open(path, method=method)
        streaming = response.mimetype == "text/event-stream"
        body = None if streaming else response.get_data(as_text=True)
        response.close()
    return Visit(role, method, path, rule.endpoint, response.status_code, response.headers.get("Location", ""),
                 dict(response.headers), body)


def walk(app, world: World) -> list[Visit]:
    """Every method of every shop route, as every role that route's class distinguishes."""
    visits = []
    for rule in shop_rules(app):
        roles = ROLES if ENDPOINTS.get(rule.endpoint) == OWNER else ROLES[:3]
        for method in sorted(rule.methods - SKIPPED_METHODS):
            visits.extend(visit(app, world, role, rule, method) for role in roles)
    return visits
