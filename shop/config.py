"""Settings read from the environment (and `.env`, loaded by `create_app`).

The embedded default -- nothing set at all -- runs the whole shop: a SQLite file under
`instance/`, tasks run in-process, a local cache, and the bundled Midtrans emulator.
Nothing here runs at import time: `create_app` calls `settings_from_env()` then `finalize()`.
"""
import ipaddress
import os
import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from sqlalchemy.engine import make_url

from shop.celery_config import OPERATIONS_DEFAULTS, RECONCILIATION_DEFAULTS, celery_settings
from shop.numbers import ascii_digits
from shop.production import DEVELOPMENT_SECRET_KEY, UnsafeProduction, check_production

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

# Keys the emulator accepts; they only ever authenticate against our own emulator.
EMULATOR_SERVER_KEY = "SB-Mid-server-emulator"
EMULATOR_CLIENT_KEY = "SB-Mid-client-emulator"
EMULATOR_PREFIX = "/_emulator/midtrans"

# Settings that must be given explicitly when SHOP_PRODUCTION is on.
REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY", "DATABASE_URL", "BASE_URL", "REDIS_URL",
    "MIDTRANS_SERVER_KEY", "MIDTRANS_CLIENT_KEY",
)


class ConfigError(RuntimeError):
    """A setting is missing or contradicts another one."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    """A setting as text, surrounding spaces dropped; `default` when unset or empty."""
    return (env.get(name) or default).strip()


def _database_url(url: str) -> str:
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'shop.db'}"
    # Heroku-style URLs say postgres://; SQLAlchemy wants the psycopg 3 driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def settings_from_env(env: Mapping[str, str] = os.environ) -> dict:
    """Read every setting the shop knows from `env`."""
    get = partial(_text, env)
    return {
        "SHOP_PRODUCTION": _bool(env.get("SHOP_PRODUCTION")),
        "SECRET_KEY": get("SECRET_KEY"),
        # Unset: this machine on PORT, so `flask ...` commands in another terminal reach `PORT=5100 bin/dev`.
        "BASE_URL": get("BASE_URL", f"http://127.0.0.1:{get('PORT', '5000')}").rstrip("/"),
        "SQLALCHEMY_DATABASE_URI": _database_url(get("DATABASE_URL")),
        "DB_POOL_SIZE": int(get("DB_POOL_SIZE", "10")),
        "DB_POOL_TIMEOUT": float(get("DB_POOL_TIMEOUT", "10")),
        "DB_CONNECT_TIMEOUT": int(get("DB_CONNECT_TIMEOUT", "5")),
        "REDIS_URL": get("REDIS_URL"),
        "CELERY_BROKER_URL": get("CELERY_BROKER_URL"),
        **midtrans_settings(env),
        "TRUSTED_PROXY_COUNT": int(get("TRUSTED_PROXY_COUNT", "0")),
        "PAYMENT_EXPIRY_MINUTES": int(get("PAYMENT_EXPIRY_MINUTES", str(24 * 60))),
        "CACHE_DEFAULT_TIMEOUT": int(get("CACHE_DEFAULT_TIMEOUT", "300")),
        "STATUS_PUSH": _bool(env.get("STATUS_PUSH"), True),
        "STATUS_PUSH_MAX_STREAMS": int(get("STATUS_PUSH_MAX_STREAMS", "800")),
        "STATUS_PUSH_STREAMS_PER_USER": int(get("STATUS_PUSH_STREAMS_PER_USER", "6")),
        "STATUS_PUSH_STREAMS_PER_SESSION": int(get("STATUS_PUSH_STREAMS_PER_SESSION", "3")),
        "MAIL_SERVER": get("MAIL_SERVER"),
        "MAIL_PORT": int(get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": get("MAIL_DEFAULT_SENDER", "Toko Kita <toko@localhost>"),
        "MAIL_TIMEOUT": float(get("MAIL_TIMEOUT", "30")),
        "EMAIL_CLAIM_LEASE_SECONDS": _whole_number(env, "EMAIL_CLAIM_LEASE_SECONDS", 900, 60),
        "PASSWORD_RESET_MINUTES": _whole_number(env, "PASSWORD_RESET_MINUTES", 60, 5),
        "DEV_MAIL_DIR": get("DEV_MAIL_DIR", str(INSTANCE_DIR / "dev-mail")),
        # Development without a broker: reconciliation and the sweeper every N seconds in-process (0: off).
        "IN_PROCESS_JOBS_SECONDS": float(get("IN_PROCESS_JOBS_SECONDS", "0")),
        **reconciliation_settings(env),
        **operations_settings(env),
        **{name: _whole_number(env, name, *limits) for name, limits in ADDRESS_THROTTLE_DEFAULTS.items()},
    }


def midtrans_settings(env: Mapping[str, str]) -> dict:
    """The Midtrans keys, addresses, timeouts and the emulator's settings."""
    get = partial(_text, env)
    return {
        "MIDTRANS_SERVER_KEY": get("MIDTRANS_SERVER_KEY"),
        "MIDTRANS_CLIENT_KEY": get("MIDTRANS_CLIENT_KEY"),
        "MIDTRANS_IS_PRODUCTION": _bool(env.get("MIDTRANS_IS_PRODUCTION")),
        "MIDTRANS_API_BASE_URL": get("MIDTRANS_API_BASE_URL").rstrip("/"),
        "MIDTRANS_SNAP_BASE_URL": get("MIDTRANS_SNAP_BASE_URL").rstrip("/"),
        "MIDTRANS_EMULATOR": _bool(env.get("MIDTRANS_EMULATOR")) if get("MIDTRANS_EMULATOR") else None,
        "MIDTRANS_EMULATOR_DB": get("MIDTRANS_EMULATOR_DB", str(INSTANCE_DIR / "midtrans-emulator.sqlite3")),
        "MIDTRANS_EMULATOR_NOTIFICATION_URL": get("MIDTRANS_EMULATOR_NOTIFICATION_URL"),
        "MIDTRANS_EMULATOR_ALLOW_REMOTE": _bool(env.get("MIDTRANS_EMULATOR_ALLOW_REMOTE")),
        "MIDTRANS_EMULATOR_RETRY_DELAYS": retry_delays(get("MIDTRANS_EMULATOR_RETRY_DELAYS", "1,2,3,5,8")),
        "MIDTRANS_VERIFY_STATUS": _bool(env.get("MIDTRANS_VERIFY_STATUS"), True),
        "MIDTRANS_NOTIFICATION_ALLOWED_IPS": get("MIDTRANS_NOTIFICATION_ALLOWED_IPS"),
        "MIDTRANS_CONNECT_TIMEOUT": float(get("MIDTRANS_CONNECT_TIMEOUT", "3.05")),
        "MIDTRANS_READ_TIMEOUT": float(get("MIDTRANS_READ_TIMEOUT", "10")),
        "MIDTRANS_MAX_RETRIES": int(get("MIDTRANS_MAX_RETRIES", "3")),
        # GET status calls in flight at once from one process (Midtrans rate-limits).
        "MIDTRANS_STATUS_CONCURRENCY": _whole_number(env, "MIDTRANS_STATUS_CONCURRENCY", 32, 1),
        "MIDTRANS_BACKOFF_SECONDS": float(get("MIDTRANS_BACKOFF_SECONDS", "0.5")),
    }


PAID_ORDER_MODES = ("order", "digest", "off")
LOG_FORMATS = ("text", "json")


def operations_settings(env: Mapping[str, str]) -> dict:
    """Metrics credentials, the merchant's alerts and messages, Sentry and the log format."""
    get = partial(_text, env)
    settings = {name: _whole_number(env, name, *limits) for name, limits in OPERATIONS_DEFAULTS.items()}
    if settings["DAILY_SUMMARY_HOUR"] > 23:
        raise ConfigError("DAILY_SUMMARY_HOUR must be an hour of the day, 0 to 23")
    settings.update(METRICS_TOKEN=get("METRICS_TOKEN"), METRICS_BASIC_AUTH=get("METRICS_BASIC_AUTH"),
                    MERCHANT_ALERT_EMAIL=get("MERCHANT_ALERT_EMAIL"), SENTRY_DSN=get("SENTRY_DSN"),
                    MERCHANT_PAID_ORDER_MODE=_choice(env, "MERCHANT_PAID_ORDER_MODE", PAID_ORDER_MODES),
                    LOG_FORMAT=_choice(env, "LOG_FORMAT", LOG_FORMATS))
    return settings


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = _text(env, name, choices[0]).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


# Log-in and registration attempts per client address: name -> (default, smallest allowed value).
# Generous enough for a shared office or mobile-carrier address; the per-account lock stays at 5.
ADDRESS_THROTTLE_DEFAULTS = {
    "LOGIN_FAILURES_PER_ADDRESS": (20, 1),
    "REGISTRATIONS_PER_ADDRESS": (10, 1),
    "RESETS_PER_ADDRESS": (10, 1),
    "ADDRESS_THROTTLE_MINUTES": (15, 1),
}


RATE_LIMIT = re.compile(r"^[0-9]+(\.[0-9]+)?/[smh]$")


def reconciliation_settings(env: Mapping[str, str]) -> dict:
    """The periodic jobs' intervals, ages and bounds; a bad value is a ConfigError naming it."""
    settings = {name: _whole_number(env, name, *limits) for name, limits in RECONCILIATION_DEFAULTS.items()}
    rate = (env.get("RECONCILE_RATE_LIMIT") or "10/s").strip()
    if not RATE_LIMIT.match(rate):
        raise ConfigError(f"RECONCILE_RATE_LIMIT must look like 10/s, 300/m or 5000/h, not {rate!r}")
    settings["RECONCILE_RATE_LIMIT"] = rate
    return settings


def _whole_number(env: Mapping[str, str], name: str, default: int, smallest: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not ascii_digits(text) or int(text) < smallest:
        raise ConfigError(f"{name} must be a whole number of at least {smallest}, not {text!r}")
    return int(text)


def ip_networks(text: str) -> tuple:
    """Parse "8.215.30.222, 103.208.23.0/24": addresses and CIDR blocks; empty means none."""
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise ConfigError(f"MIDTRANS_NOTIFICATION_ALLOWED_IPS: {error}") from None


def retry_delays(text: str) -> tuple[float, ...]:
    """Parse "1,2,3,5,8": the emulator's waits, in seconds, before its 1st, 2nd, ... retry."""
    try:
        delays = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"MIDTRANS_EMULATOR_RETRY_DELAYS must be seconds separated by commas, not {text!r}")
    if any(delay < 0 for delay in delays):
        raise ConfigError(f"MIDTRANS_EMULATOR_RETRY_DELAYS cannot be negative: {text!r}")
    return delays


# Overrides for the test suite: a test database, no mail, tasks inline, a fake Midtrans.
TEST_SETTINGS = {
    "TESTING": True,
    "SHOP_PRODUCTION": False,
    "SECRET_KEY": "test-secret",
    "SQLALCHEMY_DATABASE_URI": os.environ.get("TEST_DATABASE_URL", "sqlite://"),
    "REDIS_URL": "",
    "CELERY_BROKER_URL": "",
    "WTF_CSRF_ENABLED": False,
    "MAIL_SERVER": "",
    "MIDTRANS_SERVER_KEY": "SB-Mid-server-test",
    "MIDTRANS_CLIENT_KEY": "SB-Mid-client-test",
    "MIDTRANS_EMULATOR": False,
    "MIDTRANS_VERIFY_STATUS": False,
    "MIDTRANS_API_BASE_URL": "http://127.0.0.1:9",
    "MIDTRANS_SNAP_BASE_URL": "http://127.0.0.1:9/snap/v1",
    "MIDTRANS_MAX_RETRIES": 2,
    "MIDTRANS_BACKOFF_SECONDS": 0.0,
    "MIDTRANS_READ_TIMEOUT": 2.0,
    "BASE_URL": "http://shop.test",
    "DEV_MAIL_DIR": "",  # the tests of the inbox page give it a folder of their own
    "IN_PROCESS_JOBS_SECONDS": 0,
    "METRICS_TOKEN": "test-metrics-token",
    "METRICS_SNAPSHOT_SECONDS": 0,  # a scrape reads what the test just wrote
    # Each test runs in one rolled-back connection, which threads cannot share; the tests of
    # concurrent reconciliation commit for real and pass --concurrency.
    "RECONCILE_CONCURRENCY": 1,
}


def finalize(config: dict) -> None:
    """Derive the settings that depend on others, and refuse unsafe production set-ups."""
    production = config["SHOP_PRODUCTION"]
    if production:
        _require_production_secrets(config)
        _refuse_unsafe_production(config)
    if config["MIDTRANS_EMULATOR"] is None:
        config["MIDTRANS_EMULATOR"] = not production and not config["MIDTRANS_SERVER_KEY"]
    if config["MIDTRANS_EMULATOR"]:
        _use_emulator(config)
    config["SECRET_KEY"] = config["SECRET_KEY"] or DEVELOPMENT_SECRET_KEY
    if isinstance(config["MIDTRANS_NOTIFICATION_ALLOWED_IPS"], str):
        config["MIDTRANS_NOTIFICATION_ALLOWED_IPS"] = ip_networks(config["MIDTRANS_NOTIFICATION_ALLOWED_IPS"])
    if config["TRUSTED_PROXY_COUNT"] < 0:
        raise ConfigError("TRUSTED_PROXY_COUNT cannot be negative")
    _derive_infrastructure(config)
    _size_database_pool(config)
    # Flask's own defaults are in `config` already (MAX_CONTENT_LENGTH = None): setdefault would keep them.
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                  SESSION_COOKIE_SECURE=production, REMEMBER_COOKIE_SECURE=production,
                  REMEMBER_COOKIE_HTTPONLY=True)


def _size_database_pool(config: dict) -> None:
    """A fixed pool per process on PostgreSQL: a request waits for a connection rather than opening one.

    Opening a PostgreSQL connection costs a server process fork and an auth round trip; under
    gevent one web process serves many requests at once, and overflow connections were opened and
    closed per request. DB_POOL_SIZE x (web + worker processes) must stay under max_connections.
    """
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    options = config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("pool_size", config["DB_POOL_SIZE"])
    options.setdefault("max_overflow", 0)
    options.setdefault("pool_timeout", config["DB_POOL_TIMEOUT"])
    options.setdefault("pool_recycle", 1800)  # below common server/proxy idle cut-offs
    # A database host that does not answer (failover, a dropped route) fails a new connection within
    # DB_CONNECT_TIMEOUT seconds instead of psycopg's 130: the webhook answers 503 and Midtrans
    # retries, tasks retry with backoff. A connect_timeout in DATABASE_URL itself wins.
    if "connect_timeout" not in make_url(config["SQLALCHEMY_DATABASE_URI"]).query:
        options.setdefault("connect_args", {}).setdefault("connect_timeout", config["DB_CONNECT_TIMEOUT"])


def _require_production_secrets(config: dict) -> None:
    missing = [name for name in REQUIRED_IN_PRODUCTION if not os.environ.get(name, "").strip()]
    if missing:
        raise ConfigError("SHOP_PRODUCTION is on but these settings are missing: " + ", ".join(missing))
    if config["MIDTRANS_EMULATOR"]:
        raise ConfigError("MIDTRANS_EMULATOR cannot be on when SHOP_PRODUCTION is on")


def _refuse_unsafe_production(config: dict) -> None:
    try:
        check_production({**config, "EMULATOR_SERVER_KEY": EMULATOR_SERVER_KEY})
    except UnsafeProduction as error:
        raise ConfigError(str(error)) from None


def _use_emulator(config: dict) -> None:
    """Point the Midtrans client at the bundled emulator, mounted on this app."""
    root = config["BASE_URL"] + EMULATOR_PREFIX
    config["MIDTRANS_SERVER_KEY"] = config["MIDTRANS_SERVER_KEY"] or EMULATOR_SERVER_KEY
    config["MIDTRANS_CLIENT_KEY"] = config["MIDTRANS_CLIENT_KEY"] or EMULATOR_CLIENT_KEY
    config["MIDTRANS_API_BASE_URL"] = config["MIDTRANS_API_BASE_URL"] or root
    config["MIDTRANS_SNAP_BASE_URL"] = config["MIDTRANS_SNAP_BASE_URL"] or root + "/snap/v1"


def _derive_infrastructure(config: dict) -> None:
    broker = config["CELERY_BROKER_URL"] or config["REDIS_URL"]
    config["CELERY"] = celery_settings(broker, config["REDIS_URL"], config)
    redis_url = config["REDIS_URL"]
    config.setdefault("CACHE_TYPE", "RedisCache" if redis_url else "SimpleCache")
    config.setdefault("CACHE_REDIS_URL", redis_url or None)
    config.setdefault("CACHE_KEY_PREFIX", "shop:")
    # Without a mail server the e-mail is written to the log instead of sent.
    config["MAIL_SUPPRESS_SEND"] = config.get("TESTING", False) or not config["MAIL_SERVER"]
    config["MAIL_SERVER"] = config["MAIL_SERVER"] or "localhost"
    # Outside production a suppressed e-mail is kept there too, for the inbox page /_dev/mail.
    if config["SHOP_PRODUCTION"] or not config["MAIL_SUPPRESS_SEND"]:
        config["DEV_MAIL_DIR"] = ""
