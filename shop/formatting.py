"""How the templates show money and times (formatting only; no decisions)."""
from flask import Flask

from shop import jakarta


def rupiah(amount: int | None) -> str:
    """150000 -> 'Rp 150.000' (Indonesian thousands separator)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


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
