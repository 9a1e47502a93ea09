"""Accounts: registration, password log-in with throttling, and session versions (password reset: passwords.py)."""
import hashlib
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from shop.accounts.models import User
from shop.extensions import cache, db
from shop.numbers import ascii_digits

log = logging.getLogger(__name__)

# Failures one e-mail may have from one address before that pair waits LOCK_DURATION.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
# Failures of one e-mail, from anywhere, after which an address over its limit may not try it.
UNDER_ATTACK = 3
# The same words whether the e-mail has an account or not.
LOGIN_PAUSED = (f"Terlalu banyak percobaan masuk yang gagal untuk email ini dari alamat Anda. "
                f"Coba lagi dalam {LOCK_DURATION.seconds // 60} menit, atau masuk dari jaringan lain.")
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


class EmailTaken(AccountError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def sign_up(email: str, name: str, password: str, address: str) -> User:
    """Register from `address`, refusing once it has submitted too many registrations."""
    if address_over_limit("register", address):
        raise throttled("register", address)
    count_one(address_key("register", address), current_app.config["ADDRESS_THROTTLE_MINUTES"] * 60)
    return register_user(email, name, password)


def register_user(email: str, name: str, password: str) -> User:
    """Create a shopper account; EmailTaken when the e-mail has one already, whatever its case (flushes).

    Registration logs the shopper in, so it cannot answer a taken e-mail like a new one: the
    per-address throttle above keeps that from serving as a quick list of who has an account.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")
    if find_user_by_email(email) is not None:
        raise EmailTaken("Email ini sudah terdaftar. Silakan masuk, atau atur ulang kata sandi jika lupa.")
    user = User(email=normalize_email(email), name=name.strip(), is_admin=False)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    log.info("account registered user=%s", user.id)
    return user


def log_in(email: str, password: str, address: str) -> User:
    """Authenticate from `address`; raises InvalidCredentials, or TooManyAttempts (429).

    Refused while this e-mail has had MAX_FAILED_LOGINS failures from this address (the pair is
    locked, not the account: its owner still gets in from anywhere else), and while the address
    is over its own limit, unless the account is not under attack. Many shoppers can share one
    address (a proxy, an office): one attacker among them must not keep the others out.
    """
    if address_over_limit("login", address) and account_under_attack(email):
        raise throttled("login", address)
    if _count(_account_key(email, address)) >= MAX_FAILED_LOGINS:
        log.warning("log-in paused for an e-mail from address=%s", address)
        raise TooManyAttempts(LOGIN_PAUSED)
    try:
        user = authenticate(email, password)
    except InvalidCredentials:
        for key, seconds in _failure_counts(email, address):
            count_one(key, seconds)
        raise
    cache.delete(_account_key(email, address))
    return user


def authenticate(email: str, password: str) -> User:
    """Check a password; raises InvalidCredentials (the same for an unknown e-mail)."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials("Email atau kata sandi salah.")
    if not user.check_password(password):
        raise InvalidCredentials("Email atau kata sandi salah.")
    return user


# What each throttled action counts, and the setting that caps it per client address.
ADDRESS_LIMITS = {"login": "LOGIN_FAILURES_PER_ADDRESS", "register": "REGISTRATIONS_PER_ADDRESS",
                  "reset": "RESETS_PER_ADDRESS"}


def address_key(action: str, address: str) -> str:
    return f"throttle:{action}:address={address}"


def _account_key(email: str, address: str = "") -> str:
    """The failures of one e-mail (known or not, so the answer tells nothing), from one address or all.

    The keys carry the e-mail's generation: `forget_failed_logins` moves it on, which drops
    every (e-mail, address) pair's count at once without knowing the addresses.
    """
    digest = email_digest(email)
    generation = cache.get(_generation_key(digest)) or 0
    return f"throttle:login:account={digest}:g{generation}" + (f":address={address}" if address else "")


def email_digest(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def _generation_key(digest: str) -> str:
    return f"throttle:login:generation={digest}"


def forget_failed_logins(email: str) -> None:
    """Drop the failed log-ins counted against `email`, from every address (after a password reset)."""
    key = _generation_key(email_digest(email))
    cache.set(key, (cache.get(key) or 0) + 1, timeout=0)


def _failure_counts(email: str, address: str) -> list[tuple[str, int]]:
    window = current_app.config["ADDRESS_THROTTLE_MINUTES"] * 60
    return [(address_key("login", address), window), (_account_key(email), window),
            (_account_key(email, address), int(LOCK_DURATION.total_seconds()))]


def account_under_attack(email: str) -> bool:
    """True once the e-mail has had UNDER_ATTACK failed log-ins, from any address, in the window."""
    return _count(_account_key(email)) >= UNDER_ATTACK


def address_over_limit(action: str, address: str) -> bool:
    return _count(address_key(action, address)) >= current_app.config[ADDRESS_LIMITS[action]]


def throttled(action: str, address: str) -> TooManyAttempts:
    log.warning("address throttled action=%s address=%s", action, address)
    return TooManyAttempts("Terlalu banyak percobaan dari alamat Anda. Coba lagi beberapa menit lagi.")


def _count(key: str) -> int:
    return cache.get(key) or 0


def count_one(key: str, seconds: int) -> None:
    """Count one attempt under `key`; the first opens its window of `seconds`.

    In the cache, not the transaction: a refused log-in rolls nothing back from it. On Redis,
    ADD sets the expiry and INCR keeps it and counts parallel attempts from every process. The
    local cache (no REDIS_URL: one process) moves the expiry to CACHE_DEFAULT_TIMEOUT after each
    count instead, so there a count lasts until that long without attempts.
    """
    backend = cache.cache  # flask-caching has no inc of its own
    backend.add(key, 0, timeout=seconds)
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
