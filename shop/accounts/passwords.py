"""Password reset by e-mail: a signed, expiring token that works once.

The token (itsdangerous, signed with SECRET_KEY) carries the user's id and a digest of their
password hash: once the password changes, every earlier token stops matching. Asking for one
answers the same whether the e-mail has an account or not, in the same time (the request never
looks the e-mail up: a task does), and is throttled per address and per e-mail alike.
"""
import hashlib
import logging
import time

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shop import broker
from shop.accounts import services
from shop.accounts.models import User
from shop.extensions import cache, db
from shop.outbox import services as outbox

log = logging.getLogger(__name__)

KIND = "account.password_reset"  # key user:<id>:<time asked>, one e-mail per request
SEND_RESET = "accounts.send_password_reset"  # shop.accounts.tasks.send_password_reset
SALT = "password-reset"
RESETS_PER_EMAIL = 3  # per ADDRESS_THROTTLE_MINUTES, asked from anywhere
INVALID = "Tautan atur ulang kata sandi ini tidak berlaku lagi (sudah dipakai, kedaluwarsa, atau rusak). Minta tautan baru."


def request_reset(email: str, address: str) -> bool:
    """Count a reset request from `address` for `email`; whether to queue its e-mail task.

    Nothing here reads the database: a known and an unknown e-mail take the same path, the same
    counts and the same time, and the task (`owe_reset_email`) is the first to look the e-mail up.
    """
    window = current_app.config["ADDRESS_THROTTLE_MINUTES"] * 60
    if services.address_over_limit("reset", address):
        raise services.throttled("reset", address)
    services.count_one(services.address_key("reset", address), window)
    email_key = f"throttle:reset:account={services.email_digest(email)}"
    services.count_one(email_key, window)
    return (cache.get(email_key) or 0) <= RESETS_PER_EMAIL


def queue_reset(email: str) -> None:
    """Queue the task that owes the reset e-mail, if `email` has an account (after the request's checks).

    A broker that fails is logged, and the shopper sees the usual answer: they can ask again.
    """
    try:
        broker.publish(current_app.extensions["celery"], SEND_RESET, services.normalize_email(email))
    except Exception:  # noqa: BLE001
        log.exception("password reset not queued (broker unavailable)")


def owe_reset_email(email: str) -> int | None:
    """Owe a reset e-mail to the account of `email`; the outbox row's id, or None without an account (flushes)."""
    user = services.find_user_by_email(email)
    if user is None:
        return None
    log.info("password reset e-mail owed user=%s", user.id)
    return outbox.add(KIND, f"user:{user.id}:{time.time_ns()}")


def reset_token(user: User) -> str:
    """A token that resets `user`'s password until it changes or PASSWORD_RESET_MINUTES pass."""
    return _serializer().dumps({"user": user.id, "password": _fingerprint(user)})


def user_for_token(token: str) -> User:
    """The user a valid token was made for; AccountError when it is expired, tampered with or used."""
    max_age = current_app.config["PASSWORD_RESET_MINUTES"] * 60
    try:
        claims = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        raise services.AccountError(INVALID) from None
    user = db.session.get(User, claims.get("user")) if isinstance(claims.get("user"), int) else None
    if user is None or claims.get("password") != _fingerprint(user):
        raise services.AccountError(INVALID)
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password through a valid token: every session ends and the log-in pauses lift (flushes)."""
    user = user_for_token(token)
    if len(password) < services.MIN_PASSWORD_LENGTH:
        raise services.AccountError(f"Kata sandi minimal {services.MIN_PASSWORD_LENGTH} karakter.")
    user.set_password(password)
    services.end_sessions(user)
    services.forget_failed_logins(user.email)
    log.info("password reset user=%s", user.id)
    return user


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
