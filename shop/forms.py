"""Helpers shared by every feature's forms."""
from flask_wtf import FlaskForm
from wtforms import IntegerField

from shop.numbers import whole_number

REQUIRED = "Wajib diisi."
# WTForms's own messages (a value a field cannot read, a choice not offered, a default validator
# message), as a shopper or admin reads them; anything not listed keeps WTForms's text.
MESSAGES = {
    "This field is required.": REQUIRED,
    "Not a valid choice.": "Pilihan tidak valid.",
    "Invalid Choice: could not coerce.": "Pilihan tidak valid.",
    "Not a valid date value.": "Tanggal tidak valid.",
    "Not a valid integer value.": "Harus berupa bilangan bulat.",
    "Invalid input.": "Isian tidak valid.",
    "Invalid email address.": "Alamat email tidak valid.",
    "Field must be equal to %(other_name)s.": "Harus sama dengan %(other_name)s.",
    "Number must be at least %(min)s.": "Paling kecil %(min)s.",
    "Number must be at most %(max)s.": "Paling besar %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Harus antara %(min)s dan %(max)s.",
    "Field must be at least %(min)d character long.": "Minimal %(min)d karakter.",
    "Field cannot be longer than %(max)d character.": "Maksimal %(max)d karakter.",
    "Field must be exactly %(max)d character long.": "Harus tepat %(max)d karakter.",
    "Field must be between %(min)d and %(max)d characters long.": "Harus %(min)d sampai %(max)d karakter.",
}


class IndonesianMessages:
    """WTForms's translations interface, answering from MESSAGES."""

    def gettext(self, string: str) -> str:
        return MESSAGES.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return MESSAGES.get(singular, singular if n == 1 else plural)


class ShopForm(FlaskForm):
    """Every form of the shop: WTForms's own messages in Indonesian."""

    class Meta:
        def get_translations(self, form):
            return IndonesianMessages()


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
