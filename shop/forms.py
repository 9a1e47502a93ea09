"""Helpers shared by every feature's forms."""
from wtforms import IntegerField

from shop.numbers import whole_number

REQUIRED = "Wajib diisi."


def strip(value):
    """A form filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """An IntegerField that takes ASCII digits only (`int()` also reads "１２" and "١٢")."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] == "":
            return
        self.data = whole_number(valuelist[0].strip())
        if self.data is None:
            raise ValueError("Harus berupa bilangan bulat dengan angka 0-9.")
