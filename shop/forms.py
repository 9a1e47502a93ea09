"""Helpers shared by every feature's forms."""

REQUIRED = "Wajib diisi."


def strip(value):
    """A form filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value
