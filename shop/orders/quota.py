"""How many status streams one shopper may hold: per user and per session cookie, in this process.

The per-process cap (STATUS_PUSH_MAX_STREAMS) keeps connections free for everything else; without
these, one shopper opening hundreds of streams on their own order took the whole cap.
"""
import secrets
import threading
from collections import Counter

from flask import current_app, session
from flask_login import current_user

SESSION_KEY = "stream_holder"


class StreamQuota:
    """Open streams per holder (a user, a session) in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    def take(self, limits: dict[str, int]) -> bool:
        """Count one stream for every holder in `limits`, unless one of them is at its limit."""
        with self._lock:
            if any(self._open[holder] >= limit for holder, limit in limits.items()):
                return False
            self._open.update(limits.keys())
            return True

    def give_back(self, holders) -> None:
        with self._lock:
            self._open.subtract(holders)
            for holder in holders:
                if self._open[holder] <= 0:
                    del self._open[holder]


def stream_holders() -> dict[str, int]:
    """Who a stream of this request counts against, and how many each may hold: the signed-in user,
    and the session, by a random name it is given at its first stream (the cookie itself changes
    whenever the session does)."""
    config = current_app.config
    name = session.setdefault(SESSION_KEY, secrets.token_hex(16))
    return {f"user:{current_user.id}": config["STATUS_PUSH_STREAMS_PER_USER"],
            f"session:{name}": config["STATUS_PUSH_STREAMS_PER_SESSION"]}
