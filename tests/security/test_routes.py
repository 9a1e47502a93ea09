"""Walk every route in the URL map as anonymous, as another shopper, as an admin (and as the owner).

The expected answer comes from each endpoint's class in tests/security/routes.py; an endpoint
missing there fails. Every answer must carry the security headers and none may be a 5xx.
"""
import warnings
from dataclasses import dataclass

import pytest

from shop.extensions import db
from shop.payments.models import Notification
from tests.factories import OrderFactory, PaymentFactory, ProductFactory, UserFactory
from tests.security.routes import ADMIN, EMULATOR, ENDPOINTS, LOGIN, OWNER, PUBLIC, WEBHOOK, path_class

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


@pytest.fixture
def world():
    owner, shopper, admin = UserFactory(), UserFactory(), UserFactory(is_admin=True)
    product = ProductFactory(name="Kopi Gayo")
    order = OrderFactory(user=owner)
    payment = PaymentFactory(order=order)
    notification = Notification(payment=payment, midtrans_order_id=payment.midtrans_order_id, body="{}",
                                transaction_status="pending", status_code="201", gross_amount="100000.00")
    db.session.add(notification)
    db.session.commit()  # into the test's outer transaction: a view's rollback must not undo it
    return World(owner, shopper, admin, order, product, payment, notification)


def sample_values(world: World) -> dict:
    """A value for every URL argument the shop's routes take."""
    return {"sku": world.product.sku, "order_id": world.order.id, "id": world.order.id,
            "payment_id": world.payment.id, "notification_id": world.notification.id,
            "filename": "shop.css", "token": "no-such-token", "ident": "no-such-id"}


def shop_rules(app):
    return [rule for rule in app.url_map.iter_rules() if ENDPOINTS.get(rule.endpoint) != EMULATOR]


def client_as(app, world: World, role: str):
    client = app.test_client()
    user = {"shopper": world.shopper, "admin": world.admin, "owner": world.owner}.get(role)
    if user is not None:
        db.session.refresh(user)  # a walked log-out bumped its session version
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


def sent_to_login(v: Visit) -> bool:
    return v.status in (301, 302, 303) and v.location.startswith("/login")


def refused_anonymous(v: Visit) -> bool:
    return sent_to_login(v) or v.status in (401, 403, 404)


def served(v: Visit) -> bool:
    return v.status < 400 and not sent_to_login(v)


EXPECTED = {
    # The walk posts empty forms: the cart answers that malformed request with a 400 and its message.
    PUBLIC: lambda v: served(v) or (v.method == "POST" and v.status == 400),
    LOGIN: lambda v: refused_anonymous(v) if v.role == "anonymous" else served(v),
    OWNER: lambda v: {"anonymous": refused_anonymous(v), "owner": served(v)}.get(v.role, v.status == 404),
    ADMIN: lambda v: {"anonymous": refused_anonymous(v), "admin": served(v)}.get(v.role, v.status in (403, 404)),
    # An empty form body: refused before anything (not JSON: 415), whoever sends it.
    WEBHOOK: lambda v: v.status in (400, 415),
}


def test_every_endpoint_is_in_the_access_table(app, emulator_shop):
    endpoints = {rule.endpoint for shop in (app, emulator_shop) for rule in shop.url_map.iter_rules()}
    missing = sorted(endpoints - set(ENDPOINTS))
    assert not missing, f"endpoints missing from tests/security/routes.py ENDPOINTS: {missing}"
    absent = sorted(set(ENDPOINTS) - endpoints)
    if absent:
        warnings.warn(f"rows in ENDPOINTS for endpoints that do not exist (yet): {absent}", stacklevel=1)


def test_urls_agree_with_their_class(app, emulator_shop):
    wrong = [(rule.rule, rule.endpoint, ENDPOINTS[rule.endpoint], path_class(rule.rule))
             for shop in (app, emulator_shop) for rule in shop.url_map.iter_rules()
             if path_class(rule.rule) and ENDPOINTS.get(rule.endpoint) != path_class(rule.rule)]
    assert not wrong


def test_every_route_answers_each_role_as_its_class_says(app, world):
    visits = walk(app, world)
    assert {v.endpoint for v in visits} == {rule.endpoint for rule in shop_rules(app)}
    unexpected = [(v.role, v.method, v.path, v.status, v.location) for v in visits
                  if not EXPECTED[ENDPOINTS[v.endpoint]](v)]
    assert not unexpected


def test_every_answer_carries_the_security_headers_and_none_is_a_5xx(app, world):
    for v in walk(app, world):
        assert v.status < 500, (v.role, v.method, v.path, v.status)
        csp = v.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, v.path
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, v.path
        assert v.headers.get("X-Content-Type-Options") == "nosniff", v.path
        assert v.headers.get("X-Frame-Options") == "DENY", v.path


def test_production_never_mounts_the_emulator(production):
    classes = {ENDPOINTS.get(rule.endpoint) for rule in production.url_map.iter_rules()}
    assert EMULATOR not in classes
