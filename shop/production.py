"""What production refuses to start with: debug mode, a weak or known SECRET_KEY, a known server key.

A SECRET_KEY someone else knows lets them sign an admin's session cookie; the emulator's server
key is public (it is in this repository), so notifications signed with it could be forged.
"""
import functools
import os
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 12  # token_urlsafe(48) has about 40 of its 64 alphabet
# Text files of the project a value is looked for in (source, docs, settings examples, samples).
SCANNED = {".py", ".md", ".txt", ".html", ".example", ".cfg", ".toml", ".ini", ".json", ".sh", ".yml", ".yaml"}
NOT_SCANNED_DIRS = {".git", ".venv", "venv", "node_modules", "instance", "__pycache__", ".pytest_cache",
                    ".hypothesis"}
LARGEST_SCANNED_BYTES = 2 * 1024 * 1024


class UnsafeProduction(RuntimeError):
    """Raised as a ConfigError by `shop.config.finalize`."""


def check_production(config, env=os.environ) -> None:
    """Refuse debug mode and weak or published keys; the message says which setting and what to do."""
    if config.get("DEBUG") or _on(env.get("FLASK_DEBUG")):
        raise UnsafeProduction("FLASK_DEBUG must be off when SHOP_PRODUCTION is on: the debugger runs any code "
                               "a visitor sends. Unset FLASK_DEBUG (and do not pass --debug).")
    if env.get("DYNO") and not (env.get("TRUSTED_PROXY_COUNT") or "").strip():
        raise UnsafeProduction("TRUSTED_PROXY_COUNT must be set behind Heroku's router (DYNO is set): 1 for the "
                               "router alone. Unset, every client has the router's address and one attacker's "
                               "failed log-ins throttle everybody.")
    reason = weak_secret(config["SECRET_KEY"])
    if reason:
        raise UnsafeProduction(f"SECRET_KEY {reason}; anyone who knows it can sign an admin's session. "
                               f"Generate one with: {GENERATE_SECRET}")
    reason = published_server_key(config["MIDTRANS_SERVER_KEY"], config["EMULATOR_SERVER_KEY"])
    if reason:
        raise UnsafeProduction(f"MIDTRANS_SERVER_KEY {reason}. Copy your own server key from the Midtrans "
                               "Dashboard (Settings > Access Keys).")


def weak_secret(value: str) -> str | None:
    """Why `value` cannot be a production SECRET_KEY, or None."""
    if value == DEVELOPMENT_SECRET_KEY:
        return "is the development default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    most_common = Counter(value).most_common(1)[0][1]
    if len(set(value)) < MIN_DISTINCT_CHARACTERS or most_common * 4 > len(value):
        return "has too little variety (too few different characters, or one repeated too often)"
    if appears_in_project(value):
        return "appears in the shop's source or documentation"
    return None


def published_server_key(value: str, emulator_key: str) -> str | None:
    if value == emulator_key:
        return "is the emulator's key, which is public"
    if appears_in_project(value):
        return "appears in the shop's source or documentation"
    return None


@functools.lru_cache(maxsize=16)
def appears_in_project(value: str) -> bool:
    """True when `value` is written anywhere in the project's text files (`.env` itself excepted)."""
    return any(value in text for text in _project_texts())


def _project_texts():
    for folder, dirs, files in os.walk(PROJECT):
        dirs[:] = [d for d in dirs if d not in NOT_SCANNED_DIRS]
        for name in files:
            path = Path(folder, name)
            if _scanned(path):
                yield path.read_text(encoding="utf-8", errors="replace")


def _scanned(path: Path) -> bool:
    if path.name == ".env" or (path.name.startswith(".env.") and path.name != ".env.example"):
        return False  # where the real secrets are kept
    wanted = path.suffix in SCANNED or path.name == "Procfile" or path.parent.name == "bin"
    return wanted and path.is_file() and path.stat().st_size <= LARGEST_SCANNED_BYTES


def _on(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
