"""How the templates show money and times (formatting only; no decisions)."""
from datetime import datetime, timezone

from flask import Flask

from shop import jakarta, vocabulary


def rupiah(amount: int | None) -> str:
    """150000 -> 'Rp 150.000' (Indonesian thousands separator)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


def digit_groups(code: str | None, size: int = 4) -> list[str]:
    """'12345678901' -> ['1234', '5678', '901']: shown apart, copied and selected as one number."""
    text = str(code or "")
    return [text[i:i + size] for i in range(0, len(text), size)]


def iso_utc(moment: datetime | None) -> str:
    """A moment for a machine (a <time> element, the page's countdown): '2026-12-03T12:00:00Z'."""
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float | None) -> str:
    """3725 -> '1 jam 2 menit'; under a minute '< 1 menit'; None '-'."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    parts = [f"{value} {unit}" for value, unit in ((days, "hari"), (hours, "jam"), (minutes, "menit")) if value]
    return " ".join(parts[:2]) or "< 1 menit"


def register(app: Flask) -> None:
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(jakarta.for_people, "wib")
    app.add_template_filter(digit_groups, "digit_groups")
    app.add_template_filter(iso_utc, "iso_utc")
    vocabulary.register(app)
