"""A local emulator of the parts of Midtrans the shop uses (never in production).

Mounted on the shop at EMULATOR_PREFIX when MIDTRANS_EMULATOR is on, or run on its own port
with `python -m shop.emulator --port N` (built by `make_emulator_app`).
"""
import logging
from pathlib import Path

from flask import Flask

from shop import vocabulary
from shop.config import EMULATOR_PREFIX, EMULATOR_SERVER_KEY, settings_from_env

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = TEMPLATES.parent / "static"  # the shop's: emulator.css and the favicon
SETTING_NAMES = ("MIDTRANS_EMULATOR_DB", "MIDTRANS_EMULATOR_NOTIFICATION_URL", "MIDTRANS_EMULATOR_RETRY_DELAYS",
                 "MIDTRANS_EMULATOR_ALLOW_REMOTE")


def register_emulator(app: Flask) -> None:
    """Mount the emulator on `app`; its API routes are authenticated by key, not by CSRF token."""
    from shop.emulator.views import API_VIEWS, bp
    from shop.extensions import csrf

    for view in API_VIEWS:
        csrf.exempt(view)
    app.register_blueprint(bp, url_prefix=EMULATOR_PREFIX)
    log.warning("Midtrans emulator in use at %s%s (record %s): no real payment is taken",
                app.config["BASE_URL"], EMULATOR_PREFIX, app.config["MIDTRANS_EMULATOR_DB"])


def make_emulator_app(config: dict | None = None) -> Flask:
    """The emulator alone, for tests and benchmarks. Not the shop: `create_app` builds that.

    `config` may set BASE_URL (where this app is reachable), MIDTRANS_SERVER_KEY and the
    MIDTRANS_EMULATOR_* settings; the rest comes from the environment.
    """
    env = settings_from_env()
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.update({name: env[name] for name in SETTING_NAMES})
    app.config.update(BASE_URL="http://127.0.0.1:8765",
                      MIDTRANS_SERVER_KEY=env["MIDTRANS_SERVER_KEY"] or EMULATOR_SERVER_KEY)
    app.config.update(config or {})
    vocabulary.register(app)
    register_emulator(app)
    return app
