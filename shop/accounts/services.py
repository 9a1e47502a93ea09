"""Accounts: registration, password log-in with throttling, and session versions."""
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from shop.accounts.models import User
from shop.extensions import cache, db
from shop.formatting import wib
from shop.models import utcnow
from shop.numbers import ascii_digits

log = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
# Checked against when the e-mail is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


class AccountError(Exception):
    """A shopper-facing refusal; the message is Indonesian and safe to show."""

    status_code = 200  # the form is shown again with the message


class TooManyAttempts(AccountError):
    """The client address used up its attempts; says nothing about any account."""

    status_code = 429


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


def sign_up(email: str, name: str, password: str, address: str) -> User | None:
    """Register from `address`, refusing once it has submitted too many registrations."""
    refuse_if_throttled("register", address)
    count_attempt("register", address)
    return register_user(email, name, password)


def register_user(email: str, name: str, password: str) -> User | None:
    """Create a shopper account; an e-mail in use changes nothing and returns None, silently.

    The caller answers both cases alike, so the form cannot tell who has an account.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")
    existing = find_user_by_email(email)
    if existing is not None:
        generate_password_hash(password)  # costs what a new account's hash costs
        log.info("registration for a taken e-mail ignored user=%s", existing.id)
        return None
    user = User(email=normalize_email(email), name=name.strip(), is_admin=False)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    log.info("account registered user=%s", user.id)
    return user


def log_in(email: str, password: str, address: str) -> User:
    """Authenticate from `address`, refusing once it has had too many failed log-ins."""
    refuse_if_throttled("login", address)
    try:
        return authenticate(email, password)
    except AccountError:
        count_attempt("login", address)
        raise


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


# What each throttled action counts, and the setting that caps it per client address.
ADDRESS_LIMITS = {"login": "LOGIN_FAILURES_PER_ADDRESS", "register": "REGISTRATIONS_PER_ADDRESS"}


def _address_key(action: str, address: str) -> str:
    return f"throttle:{action}:address={address}"


def refuse_if_throttled(action: str, address: str) -> None:
    """Raise TooManyAttempts while `address` is over its limit for `action` (before any account is looked up)."""
    if (cache.get(_address_key(action, address)) or 0) < current_app.config[ADDRESS_LIMITS[action]]:
        return
    log.warning("address throttled action=%s address=%s", action, address)
    raise TooManyAttempts("Terlalu banyak percobaan dari alamat Anda. Coba lagi beberapa menit lagi.")


def count_attempt(action: str, address: str) -> None:
    """Count one attempt of `address`; the first opens its window of ADDRESS_THROTTLE_MINUTES.

    In the cache, not the transaction: a refused log-in rolls nothing back from it. On Redis,
    ADD sets the expiry and INCR keeps it and counts parallel attempts from every process. The
    local cache (no REDIS_URL: one process) moves the expiry to CACHE_DEFAULT_TIMEOUT after each
    count instead, so there a count lasts until that long without attempts.
    """
    key, backend = _address_key(action, address), cache.cache  # flask-caching has no inc of its own
    backend.add(key, 0, timeout=current_app.config["ADDRESS_THROTTLE_MINUTES"] * 60)
    backend.inc(key)


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of `user` (log-out everywhere)."""
    user.session_version = User.session_version + 1
    db.session.flush()


def load_user(session_id: str) -> User | None:
    """Flask-Login's user_loader: "id:session_version", refused if the version is stale."""
    user_id, _, version = session_id.partition(":")
    if not (ascii_digits(user_id) and ascii_digits(version)):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user
