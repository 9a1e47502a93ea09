"""What the browser tests serve with gunicorn: the shop's own app, configured from the environment.

Until the accounts feature (login, user_loader) is merged, it adds the stand-in user loader the
other tests use; the real one takes precedence as soon as it exists.
"""
from shop import create_app
from tests.orders.helpers import ensure_user_loader

app = create_app()
ensure_user_loader()
