"""The dashboard's order filters, read from the query string."""
from wtforms import BooleanField, DateField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from shop.forms import REQUIRED, ShopForm, WholeNumberField, strip
from shop.payments.refunding import KEY_PATTERN
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


class RefundForm(ShopForm):
    """A refund through Midtrans; `refund_key` comes with the confirmation step, so a double submit is one refund."""

    amount = WholeNumberField("Jumlah (Rp)", validators=[InputRequired(REQUIRED), NumberRange(min=1, max=10**12)])
    reason = StringField("Alasan", filters=[strip], validators=[Optional(), Length(max=300)])
    return_stock = BooleanField("Kembalikan stok barang pesanan ini")
    refund_key = HiddenField(validators=[Optional(), Regexp(KEY_PATTERN, message="Kunci refund tidak valid.")])


class ManualRefundForm(ShopForm):
    """Money the merchant sent back by bank transfer (VA, Mandiri bill, Indomaret/Alfamart payments)."""

    amount = WholeNumberField("Jumlah yang ditransfer (Rp)",
                              validators=[InputRequired(REQUIRED), NumberRange(min=1, max=10**12)])
    transfer_reference = StringField("No. referensi transfer", filters=[strip],
                                     validators=[InputRequired(REQUIRED), Length(max=120)])
    transferred_on = DateField("Tanggal transfer", validators=[InputRequired(REQUIRED)])
    reason = StringField("Alasan", filters=[strip], validators=[Optional(), Length(max=300)])
    return_stock = BooleanField("Kembalikan stok barang pesanan ini")
