"""How the templates show money, times and statuses (formatting only; no decisions)."""
from datetime import datetime, timedelta, timezone

from flask import Flask

JAKARTA = timezone(timedelta(hours=7), "WIB")


def rupiah(amount: int | None) -> str:
    """150000 -> 'Rp 150.000' (Indonesian thousands separator)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


def wib(moment: datetime | None) -> str:
    """An aware timestamp shown in Jakarta time."""
    if moment is None:
        return "-"
    return moment.astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M WIB")


def register(app: Flask) -> None:
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(wib, "wib")
