"""Flask-Login wiring: how a session cookie becomes a user."""
from flask_login import LoginManager

from shop.accounts.services import load_user


def configure_login(manager: LoginManager) -> None:
    manager.user_loader(load_user)
    manager.login_view = "accounts.login"
    manager.login_message = "Silakan masuk terlebih dahulu."
    manager.login_message_category = "error"
