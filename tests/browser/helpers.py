"""Small helpers of the browser tests."""
import os
from datetime import timedelta
from pathlib import Path

import requests

from shop.extensions import db
from shop.models import utcnow
from shop.payments.models import Payment, PaymentStatus
from tests.factories import PaymentFactory, UserFactory
from tests.payments.helpers import URL, for_payment, wait_until


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot under SCREENSHOT_DIR (e.g. docs/screenshots) when it is set."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def screenshots_phone_and_desktop(page, name: str) -> None:
    """`name`-360.png and `name`-1280.png (when SCREENSHOT_DIR is set); the page is left at 360x740."""
    if not os.environ.get("SCREENSHOT_DIR"):
        return
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}-{width}.png")


def pending_va_order():
    """A committed order waiting for a BCA virtual-account transfer."""
    payment = PaymentFactory(status=PaymentStatus.PENDING, payment_type="bank_transfer",
                             va_numbers=[{"bank": "bca", "va_number": "12345000123456"}],
                             transaction_status="pending", expires_at=utcnow() + timedelta(hours=23))
    db.session.commit()
    return detached(payment.order)


def unchosen_order():
    """A committed order whose shopper has not chosen a payment method on Snap yet."""
    payment = PaymentFactory(status=PaymentStatus.CREATED, expires_at=utcnow() + timedelta(hours=23))
    db.session.commit()
    return detached(payment.order)


def detached(order):
    """Load what the test reads later, then end the session's transaction.

    On SQLite an open read transaction would keep the server and the simulated worker from writing.
    """
    order.user.get_id()
    [payment.midtrans_order_id for payment in order.payments]
    db.session.close()
    return order


def status_requests(page) -> list[str]:
    """Collects the URLs of the page's status polls as they are made."""
    seen = []
    page.on("request", lambda request: seen.append(request.url) if request.url.endswith("/status") else None)
    return seen


def notify_paid(server: str, order) -> None:
    """POST Midtrans's BCA settlement notification for `order`, signed, to the running shop."""
    payment = order.payments[-1]
    body = for_payment(payment, "bank_transfer_bca_settlement.json")
    response = requests.post(server + URL, json=body, timeout=10)
    assert response.status_code == 200, response.text


def notify(server: str, order, **changes) -> None:
    """POST Midtrans's BCA notification for `order` with `changes` (e.g. a deny), signed, to the running shop."""
    body = for_payment(order.payments[-1], "bank_transfer_bca_settlement.json", settlement_time=None, **changes)
    response = requests.post(server + URL, json=body, timeout=10)
    assert response.status_code == 200, response.text


def notify_pending_va(server: str, order) -> None:
    """POST Midtrans's BCA pending notification (the shopper chose the VA; its number inside)."""
    body = for_payment(order.payments[-1], "bank_transfer_bca_settlement.json", transaction_status="pending",
                       status_code="201", settlement_time=None)
    response = requests.post(server + URL, json=body, timeout=10)
    assert response.status_code == 200, response.text


def wait_until_payment_is(order, status: PaymentStatus) -> None:
    """Until the worker has applied a notification that leaves the latest attempt at `status`."""
    wait_until_payment_id_is(order.payments[-1].id, status)


def wait_until_payment_id_is(payment_id: int, status: PaymentStatus, timeout: float = 30) -> None:
    """Until the worker has applied a notification that leaves payment `payment_id` at `status`."""
    def reached():
        db.session.expire_all()
        now = db.session.get(Payment, payment_id).status
        db.session.close()
        return now is status
    wait_until(reached, f"the worker to make payment {payment_id} {status.value}", timeout=timeout)


def wait_until_paid(order) -> None:
    """Until the worker has applied the notification (the database says SUCCESS)."""
    wait_until_payment_is(order, PaymentStatus.SUCCESS)


def fits(page, selector: str = "html") -> bool:
    """Nothing in `selector` reaches past the window's right edge (the phone scrolls no sideways)."""
    return page.evaluate("""s => [...document.querySelectorAll(s + ', ' + s + ' *')]
        .every(e => e.getBoundingClientRect().right <= window.innerWidth + 0.5)""", selector)


def admin_detail_page(server, new_page, order_id: int, height: int = 740):
    """The order's dashboard detail, opened at 360 px wide by a freshly committed admin."""
    admin = committed_admin()
    db.session.close()  # on SQLite an open read transaction would block the server
    page = new_page(server, admin, viewport=(360, height))
    page.goto(f"/dashboard/pesanan/detail-pesanan/{order_id}")
    return page


def committed_admin():
    """An admin, committed, its e-mail loaded for the login form."""
    admin = UserFactory(is_admin=True)
    db.session.commit()
    admin.get_id()
    return admin
