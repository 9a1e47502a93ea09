"""Extensions, created unbound; `create_app` binds them to the app."""
import smtplib

from celery import Celery, Task
from flask import Flask, current_app
from flask_caching import Cache
from flask_login import LoginManager
from flask_mail import Connection, Mail
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


class TimedConnection(Connection):
    """Flask-Mail's SMTP connection with a timeout (MAIL_TIMEOUT seconds) on connecting and on every
    reply: a mail server that stops answering fails the send, and the task retries later, instead of
    holding one of the worker's threads for good (the threads pool has no time limit)."""

    def configure_host(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp(self.mail.server, self.mail.port, timeout=current_app.config["MAIL_TIMEOUT"])
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class TimedMail(Mail):
    def connect(self) -> Connection:
        return TimedConnection(current_app.extensions["mail"])


mail = TimedMail()


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
