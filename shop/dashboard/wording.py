"""The dashboard's words for how a notification was handled and what a re-check or replay did.

Codes stay in the database, the logs and `flask midtrans ...`; staff read these sentences.
"""
from shop.payments.models import NotificationOutcome, NotificationSource, NotificationState
from shop.payments.reconciling import NOT_FOUND, PaymentCheck
from shop.vocabulary import order_status_label, payment_status_label

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
    before, after = payment_status_label(check.before), payment_status_label(check.after)
    if check.after != check.before:
        said += f". Status pembayaran {check.midtrans_order_id}: {before} menjadi {after}"
    else:
        said += f". Status pembayaran {check.midtrans_order_id} tetap {after}"
    change = check.change
    if change is not None and change.order_changed:
        said += (f"; pesanan #{change.order_id}: {order_status_label(change.before)} "
                 f"menjadi {order_status_label(change.after)}")
    return said + "."
