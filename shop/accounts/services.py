"""Accounts: registration, password log-in with throttling, and session versions."""
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from shop.accounts.models import User
from shop.extensions import db
from shop.formatting import wib
from shop.models import utcnow

log = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
# Checked against when the e-mail is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


class AccountError(Exception):
    """A shopper-facing refusal; the message is Indonesian and safe to show."""


class EmailTaken(AccountError):
    pass


class InvalidCredentials(AccountError):
    pass


class AccountLocked(AccountError):
    def __init__(self, until: datetime):
        super().__init__(f"Akun dikunci sementara karena {MAX_FAILED_LOGINS} kali gagal masuk. "
                         f"Coba lagi setelah {wib(until)}.")
        self.until = until


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def register_user(email: str, name: str, password: str) -> User:
    """Create a shopper account; raises EmailTaken if the e-mail is in use."""
    if find_user_by_email(email) is not None:
        raise EmailTaken("Email ini sudah terdaftar. Silakan masuk.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")
    user = User(email=normalize_email(email), name=name.strip(), is_admin=False)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    log.info("account registered user=%s", user.id)
    return user


def authenticate(email: str, password: str) -> User:
    """Check a password, counting failures; raises InvalidCredentials or AccountLocked."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials("Email atau kata sandi salah.")
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not user.check_password(password):
        _count_failed_login(user, now)
        raise InvalidCredentials("Email atau kata sandi salah.")
    user.failed_logins, user.locked_until = 0, None
    return user


def _count_failed_login(user: User, now: datetime) -> None:
    if user.locked_until is not None:
        # The previous lock has run out: this failure is the first of a new count.
        user.failed_logins, user.locked_until = 1, None
    else:
        user.failed_logins = User.failed_logins + 1  # in SQL, so parallel guesses all count
        db.session.flush()
        db.session.refresh(user, ["failed_logins"])
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCK_DURATION
        log.warning("account locked user=%s failed_logins=%d until=%s", user.id, user.failed_logins,
                    user.locked_until.isoformat())


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of `user` (log-out everywhere)."""
    user.session_version = User.session_version + 1
    db.session.flush()


def load_user(session_id: str) -> User | None:
    """Flask-Login's user_loader: "id:session_version", refused if the version is stale."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user
