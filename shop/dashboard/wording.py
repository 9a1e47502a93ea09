"""The dashboard's words for how a notification was handled and what a re-check or replay did.

Codes stay in the database, the logs and `flask midtrans ...`; staff read these sentences.
"""
from shop.payments.models import NotificationOutcome, NotificationSource, NotificationState
from shop.payments.reconciling import NOT_FOUND, PaymentCheck

SOURCES = {
    NotificationSource.WEBHOOK: "Kiriman Midtrans",
    NotificationSource.RECONCILE: "Cek status ke Midtrans",
    NotificationSource.REPLAY: "Diputar ulang",
}
STATES = {
    NotificationState.RECEIVED: "Menunggu diproses",
    NotificationState.PROCESSED: "Sudah diproses",
    NotificationState.FAILED: "Gagal diproses",
}
OUTCOMES = {
    NotificationOutcome.APPLIED: "Diterapkan: status pembayaran diperbarui",
    NotificationOutcome.DUPLICATE: "Sama dengan sebelumnya, tidak ada yang berubah",
    NotificationOutcome.STALE: "Lebih lama dari status yang sudah tercatat, diabaikan",
    NotificationOutcome.AMOUNT_MISMATCH: "Jumlah tidak cocok dengan tagihan, tidak dianggap lunas",
    NotificationOutcome.UNKNOWN_STATUS: "Status dari Midtrans tidak dikenal, tidak diterapkan",
    NotificationOutcome.REJECTED: "Ditolak: tidak cocok dengan status di Midtrans",
}
# What a re-check or replay found, when nothing was applied
RESULTS = {outcome.value: text for outcome, text in OUTCOMES.items()} | {
    NOT_FOUND: "Midtrans belum mengenal transaksi ini (pembeli belum memilih metode), tidak ada yang berubah"}


def check_result(check: PaymentCheck) -> str:
    """One plain sentence for what a re-check or replay did to the attempt and its order."""
    said = RESULTS.get(check.result, check.result)
    if check.after != check.before:
        said += f". Status pembayaran {check.midtrans_order_id}: {check.before.value} menjadi {check.after.value}"
    else:
        said += f". Status pembayaran {check.midtrans_order_id} tetap {check.after.value}"
    if check.change is not None and check.change.order_changed:
        said += f"; pesanan #{check.change.order_id}: {check.change.before.value} menjadi {check.change.after.value}"
    return said + "."
