"""The shop's one Indonesian vocabulary: what each status, payment method and bank is called.

Keyed by the code strings that stay in JSON, logs and the database (PENDING, bank_transfer, bca),
so it imports no feature. `register` makes the words Jinja filters of every template (order pages,
status badges, the dashboard, e-mails, the emulator); a code missing here shows as itself, never an error.
"""
import enum

from flask import Flask

# Order statuses: (label, what happens next), as the shopper reads them.
ORDER_STATUSES = {
    "PENDING": ("Menunggu pembayaran",
                "Bayar sebelum batas waktu; status berubah otomatis setelah pembayaran diterima."),
    "REVIEW": ("Ditinjau",
               "Pembayaran kartu sedang diperiksa. Anda tidak perlu membayar lagi; kami kabari hasilnya."),
    "SUCCESS": ("Lunas", "Pembayaran diterima. Pesanan Anda kami siapkan untuk dikirim."),
    "FAILED": ("Gagal", "Pembayaran ditolak dan tidak ada dana yang terpotong. Anda bisa membayar lagi."),
    "CANCELLED": ("Dibatalkan", "Pesanan dibatalkan. Dana yang sudah terpotong dikembalikan."),
    "EXPIRED": ("Kedaluwarsa", "Batas waktu pembayaran sudah lewat tanpa pembayaran. Anda bisa membayar lagi."),
    "PARTIALLY_REFUNDED": ("Dikembalikan sebagian",
                           "Sebagian dana dikembalikan ke metode pembayaran Anda."),
    "REFUNDED": ("Dikembalikan", "Seluruh dana dikembalikan ke metode pembayaran Anda."),
    "CHARGEBACK": ("Dana ditarik bank", "Bank penerbit kartu menarik kembali dana pembayaran ini."),
}

# Payment attempt statuses (one attempt of an order), for the dashboard and the shopper's history.
PAYMENT_STATUSES = {
    "CREATED": ("Belum memilih metode", "Pembeli belum memilih metode pembayaran di Midtrans."),
    "PENDING": ("Menunggu pembayaran", "Metode sudah dipilih; menunggu dana masuk."),
    "AUTHORIZED": ("Diotorisasi", "Dana kartu sudah ditahan dan menunggu diambil (capture)."),
    "CHALLENGE": ("Ditinjau", "Pembayaran kartu ditahan pemeriksaan penipuan; perlu disetujui atau ditolak."),
    "SUCCESS": ("Lunas", "Dana sudah diterima."),
    "DENIED": ("Ditolak", "Bank atau pemeriksaan penipuan menolak pembayaran ini."),
    "CANCELLED": ("Dibatalkan", "Pembayaran dibatalkan sebelum atau sesudah dana diambil."),
    "EXPIRED": ("Kedaluwarsa", "Batas waktu lewat tanpa pembayaran."),
    "FAILED": ("Gagal", "Pembayaran gagal diproses."),
    "PARTIALLY_REFUNDED": ("Dikembalikan sebagian", "Sebagian dana sudah dikembalikan."),
    "REFUNDED": ("Dikembalikan", "Seluruh dana sudah dikembalikan."),
    "PARTIALLY_CHARGEBACK": ("Ditarik bank sebagian", "Bank penerbit menarik kembali sebagian dana."),
    "CHARGEBACK": ("Dana ditarik bank", "Bank penerbit menarik kembali seluruh dana."),
}

# Midtrans payment_type -> the name a shopper knows.
METHODS = {
    "bank_transfer": "Transfer Virtual Account",
    "echannel": "Mandiri Bill Payment",
    "cstore": "Bayar di gerai",
    "credit_card": "Kartu kredit/debit",
    "gopay": "GoPay",
    "qris": "QRIS",
    "shopeepay": "ShopeePay",
    "akulaku": "Akulaku",
    "kredivo": "Kredivo",
    "bca_klikpay": "BCA KlikPay",
    "bca_klikbca": "KlikBCA",
    "cimb_clicks": "OCTO Clicks (CIMB)",
    "danamon_online": "Danamon Online Banking",
    "bri_epay": "BRImo (e-Pay BRI)",
    "dana": "DANA",
    "ovo": "OVO",
}

# Banks and stores, by the lower-case code Midtrans uses ("bank", "store", Snap's *_va names).
BANKS = {
    "bca": "BCA", "bni": "BNI", "bri": "BRI", "mandiri": "Mandiri", "permata": "Permata",
    "cimb": "CIMB Niaga", "danamon": "Danamon", "bsi": "BSI", "seabank": "SeaBank",
}
STORES = {"indomaret": "Indomaret", "alfamart": "Alfamart", "alfamidi": "Alfamidi", "dandan": "Dan+Dan"}

UNCHOSEN_METHOD = "Belum dipilih"


def _code(value) -> str:
    return value.value if isinstance(value, enum.Enum) else str(value or "")


def order_status_label(status) -> str:
    """PENDING -> 'Menunggu pembayaran'; an unknown code is shown as it is."""
    code = _code(status)
    return ORDER_STATUSES.get(code, (code, ""))[0]


def order_status_next(status) -> str:
    """What happens next for an order in `status`, in one line."""
    return ORDER_STATUSES.get(_code(status), ("", ""))[1]


def payment_status_label(status) -> str:
    code = _code(status)
    return PAYMENT_STATUSES.get(code, (code, ""))[0]


def payment_status_next(status) -> str:
    return PAYMENT_STATUSES.get(_code(status), ("", ""))[1]


def status_label(status) -> str:
    """An order's or a payment's status: the codes they share have the same label."""
    code = _code(status)
    return (ORDER_STATUSES.get(code) or PAYMENT_STATUSES.get(code) or (code, ""))[0]


def bank_name(code: str | None) -> str:
    """'bca' -> 'BCA', 'permata' -> 'Permata', 'bca_va' -> 'BCA'."""
    key = (code or "").lower().removesuffix("_va")
    return BANKS.get(key) or STORES.get(key) or (code or "").upper()


def method_name(payment_type: str | None, bank: str | None = None) -> str:
    """'bank_transfer', 'bni' -> 'Transfer Virtual Account BNI'; no type yet -> 'Belum dipilih'."""
    if not payment_type:
        return UNCHOSEN_METHOD
    name = METHODS.get(payment_type, payment_type)
    return f"{name} {bank_name(bank)}" if bank else name


def register(app: Flask) -> None:
    """The words as Jinja filters, for every template of `app`."""
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(order_status_next, "status_next")
    app.add_template_filter(payment_status_next, "payment_status_next")
    app.add_template_filter(bank_name, "bank_name")
    app.add_template_filter(method_name, "method_name")
