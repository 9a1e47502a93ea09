"""Stopping an open attempt before a new one (shop.checkout.replacing) against the emulator over loopback."""
import pytest
import requests

from shop.checkout import replacing
from shop.payments import gateway
from shop.payments.models import PaymentStatus
from tests.emulator.helpers import snap_payload
from tests.emulator.test_flow import pay
from tests.factories import PaymentFactory

pytestmark = pytest.mark.loopback


def order_of(order_id: str, status=PaymentStatus.PENDING):
    return PaymentFactory(midtrans_order_id=order_id, status=status, attempt=1).order


def test_a_snap_page_without_a_method_has_nothing_to_expire_and_is_closed(live_emulator):
    snap = gateway.create_snap_transaction(snap_payload(order_id="TK-R-1"))
    order = order_of("TK-R-1", PaymentStatus.CREATED)
    order.payments[0].snap_token = snap.token
    assert replacing.stop_open_attempt(order) == 1
    page = requests.get(snap.redirect_url, timeout=5)
    assert page.status_code == 200 and "sudah ditutup oleh toko" in page.text
    assert requests.post(snap.redirect_url, data={"method": "bca_va", "outcome": "pay"}, allow_redirects=False,
                         timeout=5).status_code == 409  # the old page takes no payment any more


def test_a_method_chosen_on_the_page_meanwhile_stops_the_new_attempt(live_emulator, receiver, monkeypatch):
    snap = gateway.create_snap_transaction(snap_payload(order_id="TK-R-4"))
    order = order_of("TK-R-4", PaymentStatus.CREATED)
    order.payments[0].snap_token = snap.token
    expire = gateway.expire

    def chosen_while_expiring(ref):  # the shopper picks a method between our expire and our close
        try:
            return expire(ref)  # no transaction yet: refused
        finally:
            pay(snap.redirect_url, "bca_va", "pending")

    monkeypatch.setattr(gateway, "expire", chosen_while_expiring)
    with pytest.raises(replacing.PreviousAttemptStarting):
        replacing.stop_open_attempt(order)


def test_a_pending_va_is_expired_once_and_an_expired_one_lets_a_new_attempt_go(live_emulator, receiver):
    pay(gateway.create_snap_transaction(snap_payload(order_id="TK-R-2")).redirect_url, "bca_va", "pending")
    order = order_of("TK-R-2")
    assert replacing.stop_open_attempt(order) == 1
    assert gateway.get_status("TK-R-2")["transaction_status"] == "expire"
    assert replacing.stop_open_attempt(order) == 1  # 412, and GET status says it already expired


def test_a_paid_attempt_is_not_replaced(live_emulator, receiver):
    pay(gateway.create_snap_transaction(snap_payload(order_id="TK-R-3")).redirect_url, "bca_va", "pay")
    assert receiver.wait_for(2)  # pending, then settlement
    with pytest.raises(replacing.PreviousAttemptPaid):
        replacing.stop_open_attempt(order_of("TK-R-3"))
