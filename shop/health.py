"""`/healthz` for the platform's health check: is the database and the broker reachable?"""
import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from shop.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 -- any failure means unhealthy
        log.warning("healthz database unreachable: %s", type(exc).__name__)
        return False
    finally:
        db.session.rollback()


def broker_ok() -> bool | None:
    """None when there is no broker (tasks run in-process)."""
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        return None
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("healthz broker unreachable: %s", type(exc).__name__)
        return False


@bp.get("/healthz")
def healthz():
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(value is not False for value in checks.values())
    body = {name: {True: "ok", False: "down", None: "not used"}[value] for name, value in checks.items()}
    return jsonify(status="ok" if healthy else "down", **body), 200 if healthy else 503
