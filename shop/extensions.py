"""Extensions, created unbound; `create_app` binds them to the app."""
from celery import Celery, Task
from flask import Flask
from flask_caching import Cache
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
cache = Cache()
csrf = CSRFProtect()
login_manager = LoginManager()
mail = Mail()


def autocommit_connection():
    """A pooled connection on which every statement commits itself: one round trip, no BEGIN/COMMIT.

    Use it as a context manager. The tests' per-test rollback puts its own connection here.
    """
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for `app`; every task runs inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
