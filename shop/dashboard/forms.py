"""The dashboard's order filters, read from the query string."""
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from shop.forms import ShopForm, WholeNumberField
from shop.orders.models import OrderStatus
from shop.dashboard.services import OrderFilter
from shop.vocabulary import status_label

LAST_PAGE = 10_000


class OrderFilterForm(ShopForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    status = SelectField("Status", default="", choices=[SelectChoice("", "Semua status")]
                         + [SelectChoice(s.value, status_label(s)) for s in OrderStatus])
    date_from = DateField("Dari tanggal", validators=[Optional()])
    date_to = DateField("Sampai tanggal", validators=[Optional()])
    q = StringField("Cari (no. pesanan, order id Midtrans, nama atau e-mail pembeli)", validators=[Optional(), Length(max=254)])
    attention = BooleanField("Hanya yang perlu ditinjau")
    page = WholeNumberField("Halaman", validators=[Optional(), NumberRange(min=1, max=LAST_PAGE)])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("Tanggal akhir tidak boleh sebelum tanggal awal.")

    def to_filter(self) -> OrderFilter:
        return OrderFilter(
            status=OrderStatus(self.status.data) if self.status.data else None,
            date_from=self.date_from.data, date_to=self.date_to.data,
            search=(self.q.data or "").strip(), attention_only=self.attention.data)
