"""Midtrans notification signatures: SHA512 over the signed fields and our server key."""
import hashlib
import hmac

from flask import current_app

SIGNED_FIELDS = ("order_id", "status_code", "gross_amount")


def compute_signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """SHA512(order_id + status_code + gross_amount + server_key), lowercase hex."""
    raw = f"{order_id}{status_code}{gross_amount}{server_key}".encode()
    return hashlib.sha512(raw).hexdigest()


def signature_is_valid(body: dict, server_key: str | None = None) -> bool:
    """Check `signature_key` over the signed fields exactly as they were received."""
    key = server_key or current_app.config["MIDTRANS_SERVER_KEY"]
    fields = [body.get(name) for name in SIGNED_FIELDS]
    given = body.get("signature_key")
    if not all(isinstance(v, str) for v in fields) or not isinstance(given, str):
        return False
    expected = compute_signature(*fields, key)
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def sign(body: dict, server_key: str | None = None) -> dict:
    """Return a copy of `body` with a correct `signature_key` (emulator, CLI, tests)."""
    key = server_key or current_app.config["MIDTRANS_SERVER_KEY"]
    signed = dict(body)
    signed["signature_key"] = compute_signature(*(str(body[n]) for n in SIGNED_FIELDS), key)
    return signed
