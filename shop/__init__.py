"""The shop: `create_app()` is the only place an app is built."""
import logging
import sys

from dotenv import load_dotenv
from flask import Flask, redirect, url_for

from shop import config as settings
from shop import logs
from shop.accounts.login import configure_login
from shop.error_reporting import init_error_reporting
from shop.extensions import cache, celery_init_app, csrf, db, login_manager, mail, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding it (tests pass TEST_SETTINGS)."""
    load_dotenv()
    app = Flask(__name__, instance_path=str(settings.INSTANCE_DIR))
    configure(app, config)
    configure_logging(app)
    init_error_reporting(app.config)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_push(app)
    register_tasks()
    register_in_process_jobs(app)
    register_cli(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security(app)
    return app


def create_app_or_exit() -> Flask:
    """`create_app()` for the entry points (wsgi.py, celery_worker.py): a setting that is missing
    or unsafe is one line on stderr and exit status 1, never a traceback."""
    exit_on_bad_settings()
    return create_app()


def exit_on_bad_settings() -> None:
    """Check the environment's settings as `create_app` would; on a ConfigError print it and exit 1."""
    load_dotenv()
    try:
        settings.finalize(settings.settings_from_env())
    except settings.ConfigError as error:
        print(f"Toko Kita cannot start: {error}", file=sys.stderr)
        raise SystemExit(1) from None


def configure(app: Flask, overrides: dict | None) -> None:
    app.config.update(settings.settings_from_env())
    app.config.update(overrides or {})
    settings.finalize(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        settings.INSTANCE_DIR.mkdir(exist_ok=True)


def configure_logging(app: Flask) -> None:
    # stderr, like gunicorn's and Celery's own lines: stdout stays clean for CLI commands that
    # print JSON (`flask shop place-order`), and Procfile platforms collect both streams anyway.
    # LOG_FORMAT=json: one JSON object per line; secrets blanked either way (shop.logs).
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_shop", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(logs.TEXT_FORMAT))
        handler._shop = True
        root.addHandler(handler)
    secrets = logs.secrets_of(app.config)
    logs.prepare_handler(handler, app.config["LOG_FORMAT"], secrets)
    logs.follow_celery(app.config["LOG_FORMAT"], secrets)
    root.setLevel(logging.INFO)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    import_models()
    migrate.init_app(app, db, render_as_batch=True)
    cache.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    configure_login(login_manager)
    mail.init_app(app)
    celery_init_app(app)


def import_models() -> None:
    # Every model must be known to the metadata before migrations compare it with the database.
    import shop.accounts.models  # noqa: F401
    import shop.catalog.models  # noqa: F401
    import shop.operations.models  # noqa: F401
    import shop.orders.models  # noqa: F401
    import shop.outbox.models  # noqa: F401
    import shop.payments.models  # noqa: F401


def register_converters(app: Flask) -> None:
    # Before any rule is added: `<int:...>` in every URL takes ASCII digits only.
    from shop.numbers import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from shop.accounts.views import bp as accounts_bp
    from shop.cart.views import bp as cart_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.checkout.views import bp as checkout_bp
    from shop.dashboard.views import bp as dashboard_bp
    from shop.health import bp as health_bp
    from shop.operations.views import bp as operations_bp
    from shop.orders.views import bp as orders_bp
    from shop.payments.views import bp as payments_bp

    for bp in (catalog_bp, accounts_bp, cart_bp, checkout_bp, orders_bp, payments_bp, dashboard_bp,
               health_bp, operations_bp):
        app.register_blueprint(bp)
    if app.config["DEV_MAIL_DIR"] and not app.config["SHOP_PRODUCTION"]:
        from shop.outbox.devbox import keep_dispatched_mail
        from shop.outbox.views import bp as devmail_bp

        app.register_blueprint(devmail_bp)
        keep_dispatched_mail(app)
    if app.config["MIDTRANS_EMULATOR"]:
        from shop.emulator import register_emulator

        register_emulator(app)
    # Pages link the SVG icon; browsers and tools that ask for /favicon.ico anyway get it too, not a 404.
    app.add_url_rule("/favicon.ico", "favicon", lambda: redirect(url_for("static", filename="favicon.svg"), 301))


def register_push(app: Flask) -> None:
    # Every committed change of an order's status reaches its open pages (shop.signals).
    from shop.orders.push import init_push

    init_push(app)


def register_tasks() -> None:
    # Importing the modules registers their shared tasks with the Celery app, and the kinds of
    # e-mail with the outbox (each feature's `emails` module).
    import shop.accounts.emails  # noqa: F401
    import shop.accounts.tasks  # noqa: F401
    import shop.operations.tasks  # noqa: F401
    import shop.outbox.tasks  # noqa: F401
    import shop.payments.emails  # noqa: F401
    import shop.payments.tasks  # noqa: F401


def register_in_process_jobs(app: Flask) -> None:
    # `bin/dev` has no worker and no beat: reconciliation and the sweeper run in a thread instead.
    every = app.config["IN_PROCESS_JOBS_SECONDS"]
    if not every:
        return
    if app.config["SHOP_PRODUCTION"] or not app.config["CELERY"]["task_always_eager"]:
        logging.getLogger(__name__).warning("IN_PROCESS_JOBS_SECONDS ignored: a broker and beat run the periodic jobs")
        return
    from shop.payments.tasks import start_in_process_jobs

    app.extensions["in_process_jobs"] = start_in_process_jobs(app, every)


def register_cli(app: Flask) -> None:
    from shop.cli import shop_cli
    from shop.payments.cli import midtrans_cli

    app.cli.add_command(shop_cli)
    app.cli.add_command(midtrans_cli)


def register_errorhandlers(app: Flask) -> None:
    from shop.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from shop.formatting import register

    register(app)


def register_security(app: Flask) -> None:
    from shop.security import register

    register(app)
