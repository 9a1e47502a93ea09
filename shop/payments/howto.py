"""Step-by-step ways to pay, per bank or store, as the order page lists them (data only).

Keyed by channel: the bank of a virtual account, "mandiri_bill", the store, or the e-wallet.
Each channel has (where to pay, steps) pairs; "the number" is the one shown above the steps.
"""

ENTER = "Masukkan nomor Virtual Account di atas, lalu pilih Benar/Lanjut."
PASTE = "Tempel (paste) nomor Virtual Account yang sudah disalin."
ATM_END = ["Periksa nama toko dan jumlah tagihan, lalu konfirmasi.", "Simpan struk sebagai bukti pembayaran."]
APP_END = ["Periksa nama toko dan jumlah tagihan.", "Masukkan PIN atau kode transaksi untuk menyelesaikan pembayaran."]
WEB_END = ["Periksa rincian tagihan, lalu konfirmasi dengan token atau OTP."]


def _way(place: str, first: str, menu: str, enter: str, last: list[str]) -> tuple[str, list[str]]:
    return (place, [first, f"Pilih menu {menu}.", enter, *last])


def _va(bank: str, atm_menu: str, app: str, app_menu: str, web: str, web_menu: str) -> list:
    """A virtual account's three ways: the bank's ATM, its mobile app, its internet banking."""
    return [_way(f"ATM {bank}", f"Masukkan kartu ATM {bank} dan PIN Anda.", atm_menu, ENTER, ATM_END),
            _way(app, f"Buka aplikasi {app} dan masuk ke akun Anda.", app_menu, PASTE, APP_END),
            _way(web, f"Masuk ke {web} di peramban Anda.", web_menu, ENTER, WEB_END)]


def _store(store: str) -> list[tuple[str, list[str]]]:
    return [(f"Kasir {store}", [
        f"Datangi gerai {store} terdekat.",
        "Katakan kepada kasir bahwa Anda ingin membayar tagihan Midtrans / toko online.",
        "Tunjukkan kode pembayaran di atas kepada kasir.",
        "Bayar sesuai jumlah tagihan (kasir dapat menambahkan biaya layanan).",
        "Simpan struk sebagai bukti pembayaran.",
    ])]


def _qr(wallet: str) -> list[tuple[str, list[str]]]:
    return [("Pindai kode QR", [
        f"Buka aplikasi {wallet} di ponsel Anda.",
        "Pilih Bayar/Pindai, lalu arahkan kamera ke kode QR di atas.",
        "Di ponsel yang sama: unduh kode QR, lalu pilih gambar dari galeri di menu Pindai.",
        "Periksa nama toko dan jumlah, lalu konfirmasi dengan PIN.",
    ])]


GUIDES = {
    "bca": _va("BCA", "Transaksi Lainnya > Transfer > ke Rekening BCA Virtual Account",
               "BCA mobile (m-BCA)", "m-Transfer > BCA Virtual Account",
               "KlikBCA Individu", "Transfer Dana > Transfer ke BCA Virtual Account"),
    "bni": _va("BNI", "Menu Lain > Transfer > Virtual Account Billing",
               "BNI Mobile Banking", "Transfer > Virtual Account Billing",
               "BNI Internet Banking", "Transfer > Virtual Account Billing"),
    "bri": _va("BRI", "Transaksi Lain > Pembayaran > Lainnya > BRIVA",
               "BRImo", "Pembayaran > BRIVA", "Internet Banking BRI (IB BRI)", "Pembayaran > BRIVA"),
    "permata": _va("Permata", "Transaksi Lainnya > Pembayaran > Pembayaran Lainnya > Virtual Account",
                   "PermataMobile X", "Bayar Tagihan > Virtual Account",
                   "PermataNet", "Pembayaran > Pembayaran Tagihan > Virtual Account"),
    "cimb": _va("CIMB Niaga", "Transfer > Rekening CIMB Niaga/Rekening Ponsel Lain > Virtual Account",
                "OCTO Mobile", "Transfer > Virtual Account", "OCTO Clicks", "Bayar Tagihan > Virtual Account"),
    "mandiri_bill": [
        ("ATM Mandiri", [
            "Masukkan kartu ATM Mandiri dan PIN Anda.",
            "Pilih menu Bayar/Beli > Lainnya > Multi Payment.",
            "Masukkan kode perusahaan (biller code) di atas, lalu pilih Benar.",
            "Masukkan kode bayar (bill key) di atas, lalu pilih Benar.",
            "Periksa rincian tagihan, tekan 1 lalu Ya untuk membayar.",
        ]),
        ("Livin' by Mandiri", [
            "Buka aplikasi Livin' by Mandiri dan masuk.",
            "Pilih Bayar > E-Commerce, lalu cari Midtrans (kode perusahaan di atas).",
            "Tempel kode bayar (bill key) yang sudah disalin.",
            "Periksa rincian tagihan dan konfirmasi dengan PIN.",
        ]),
        ("Mandiri Internet Banking", [
            "Masuk ke Mandiri Internet Banking.",
            "Pilih Bayar > Multi Payment, penyedia jasa Midtrans (kode perusahaan di atas).",
            "Masukkan kode bayar (bill key), lalu konfirmasi dengan token.",
        ]),
    ],
    "card": [("Verifikasi kartu (3-D Secure)", [
        "Selesaikan verifikasi di halaman bank penerbit kartu yang terbuka setelah Anda memasukkan kartu.",
        "Masukkan kode OTP yang dikirim bank ke ponsel Anda.",
        "Jika halaman verifikasi sudah tertutup, tunggu batas waktu lewat, lalu pilih Bayar lagi.",
    ])],
    "indomaret": _store("Indomaret"),
    "alfamart": _store("Alfamart"),
    "gopay": _qr("Gojek atau GoPay"),
    "qris": _qr("e-wallet atau m-banking yang mendukung QRIS (GoPay, OVO, DANA, ShopeePay, BCA mobile, ...)"),
}


def guide_for(channel: str | None) -> list[tuple[str, list[str]]]:
    """The ways to pay through `channel`, each with its steps; none for an unknown channel."""
    return GUIDES.get(channel or "", [])
