"""Errors to Sentry when SENTRY_DSN is set (Flask and Celery integrations); nothing at all when unset.

`scrub` runs on every event before it leaves: the Midtrans server key (and its Basic credentials),
notification signatures, and e-mail addresses (shoppers') are blanked wherever they appear --
messages, exception values, local variables, request bodies and headers, breadcrumbs.
"""
import re

from shop.logs import HIDDEN, redact, secrets_of

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SECRET_KEYS = {"signature_key", "signature", "authorization", "password", "server_key", "midtrans_server_key",
               "secret_key", "cookie", "email", "metrics_token", "metrics_basic_auth"}


def init_error_reporting(config) -> bool:
    """Start Sentry for this process when SENTRY_DSN is set; True when started."""
    if not config.get("SENTRY_DSN"):
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration

    secrets = secrets_of(config)
    sentry_sdk.init(dsn=config["SENTRY_DSN"], integrations=[FlaskIntegration(), CeleryIntegration()],
                    send_default_pii=False, environment="production" if config["SHOP_PRODUCTION"] else "development",
                    before_send=lambda event, hint: scrub(event, secrets),
                    before_breadcrumb=lambda crumb, hint: scrub(crumb, secrets))
    return True


def scrub(value, secrets: list[str]):
    """`value` (an event, or any part of one) with every secret and e-mail address blanked."""
    if isinstance(value, dict):
        return {k: HIDDEN if str(k).lower() in SECRET_KEYS else scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(item, secrets) for item in value)
    if isinstance(value, str):
        return EMAIL.sub(HIDDEN, redact(value, secrets))
    return value
