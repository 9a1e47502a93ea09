"""How the templates show money and times (formatting only; no decisions)."""
from flask import Flask

from shop import jakarta


def rupiah(amount: int | None) -> str:
    """150000 -> 'Rp 150.000' (Indonesian thousands separator)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


def register(app: Flask) -> None:
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(jakarta.for_people, "wib")
