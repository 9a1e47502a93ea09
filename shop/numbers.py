"""Whole numbers from a request: ASCII digits 0-9 only, parsed in one place.

`str.isdigit()` is also true for "²", "①" and the digits of other scripts; `int()` then
refuses some ("²": a 500) and reads others ("١٢" is 12). Every number a request carries (form
fields, query parameters, URL parts) goes through `whole_number` instead.
"""
import re

from werkzeug.routing import IntegerConverter

ASCII_DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits fit a BIGINT; more is never one of ours
LARGEST_ID = 2**31 - 1  # our ids are INTEGER columns: a larger number would overflow PostgreSQL's


def ascii_digits(text) -> bool:
    """True for a string of 1 to 18 ASCII digits and nothing else."""
    return isinstance(text, str) and ASCII_DIGITS.fullmatch(text) is not None


def whole_number(text, lowest: int = 0, highest: int = LARGEST_ID) -> int | None:
    """`text` as an int when it is ASCII digits within [lowest, highest]; None for anything else."""
    if not ascii_digits(text):
        return None
    value = int(text)
    return value if lowest <= value <= highest else None


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: ASCII digits only (werkzeug's `\\d` also takes other scripts' digits),
    and never above an INTEGER column's range (a 404, not a database error)."""

    regex = r"[0-9]{1,18}"

    def __init__(self, map, fixed_digits=0, min=None, max=LARGEST_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
