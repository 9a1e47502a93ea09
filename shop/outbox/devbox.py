"""Development's inbox: every e-mail the shop would send, kept as a .eml file in DEV_MAIL_DIR.

Only outside production and while sending is suppressed (no MAIL_SERVER): `shop.config`
empties DEV_MAIL_DIR otherwise, and the page /_dev/mail (shop.outbox.views) is then not mounted.
"""
import re
import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import Flask
from flask_mail import email_dispatched

from shop import jakarta
from shop.models import utcnow

NAME = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{8}\.eml$")
SHOWN = 200  # the newest this many are listed


@dataclass(frozen=True)
class Kept:
    """One kept e-mail, as the inbox page shows it."""

    name: str
    subject: str
    to: str
    sent: str
    message_id: str
    text: str
    html: str | None


def keep_dispatched_mail(app: Flask) -> None:
    """Keep every e-mail `app` dispatches in its DEV_MAIL_DIR (when it has one)."""
    if app.config["DEV_MAIL_DIR"]:
        email_dispatched.connect(_keep, sender=app, weak=False)


def _keep(app: Flask, message) -> None:
    folder = Path(app.config["DEV_MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    (folder / name).write_bytes(message.as_bytes())


def newest(folder: str) -> list[Kept]:
    """The kept e-mails, newest first."""
    path = Path(folder)
    names = sorted((p.name for p in path.glob("*.eml") if NAME.match(p.name)), reverse=True) if path.is_dir() else []
    return [read(folder, name) for name in names[:SHOWN]]


def read(folder: str, name: str) -> Kept | None:
    """One kept e-mail by its file name; None for a name that is not one."""
    path = Path(folder, name)
    if not NAME.match(name) or not path.is_file():
        return None
    message: EmailMessage = message_from_bytes(path.read_bytes(), policy=policy.default)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    return Kept(name, message["Subject"] or "(tanpa subjek)", message["To"] or "", _when(message["Date"]),
                message["Message-ID"] or "", text.get_content() if text else "", html.get_content() if html else None)


def _when(header: str | None) -> str:
    try:
        return jakarta.for_people(parsedate_to_datetime(header)) if header else ""
    except (TypeError, ValueError):
        return header or ""
