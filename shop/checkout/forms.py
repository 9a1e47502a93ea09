from wtforms import StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from shop.checkout.services import Shipping
from shop.forms import REQUIRED, ShopForm, strip


class ShippingForm(ShopForm):
    name = StringField("Nama penerima", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(max=120, message="Maksimal 120 karakter.")])
    phone = TelField("Nomor telepon", filters=[strip], validators=[
        DataRequired(REQUIRED),
        Regexp(r"^\+?[0-9][0-9 \-]{6,24}$", message="Nomor telepon tidak valid, contoh: 081234567890.")])
    address = TextAreaField("Alamat pengiriman", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(min=10, max=500, message="Alamat 10 sampai 500 karakter.")])

    def shipping(self) -> Shipping:
        return Shipping(name=self.name.data, phone=self.phone.data, address=self.address.data)
