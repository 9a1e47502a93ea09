"""The webhook health panel on a 360 px phone: no sideways scroll, its reasons readable."""
import os
from pathlib import Path

from playwright.sync_api import expect

from shop.extensions import db
from shop.payments.models import NotificationState, PaymentStatus
from tests.browser.helpers import pending_va_order
from tests.factories import PaymentFactory, UserFactory
from tests.operations.helpers import ago, note, reconciled


def test_the_health_panel_fits_a_phone(push_server, new_page, clean_db):
    pending_va_order()
    note(ago(minutes=100), state=NotificationState.RECEIVED, payment=PaymentFactory(status=PaymentStatus.PENDING))
    note(ago(minutes=95))
    for minutes in (40, 20, 3):
        reconciled(ago(minutes=minutes))
    admin = UserFactory(is_admin=True)
    db.session.commit()
    admin.get_id()
    db.session.close()  # on SQLite an open read transaction would block the server

    page = new_page(push_server, admin)
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.goto("/dashboard/pesanan").status == 200
    panel = page.locator("section.webhook-health")
    expect(panel).to_have_class("card webhook-health health-merah")
    expect(panel.get_by_text("Tidak ada notifikasi Midtrans selama 95 menit")).to_be_visible()
    expect(panel.get_by_text("Notifikasi tertua sudah menunggu 100 menit")).to_be_visible()
    # The panel itself (the orders table below it is restyled for phones on its own).
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert panel.evaluate("e => e.scrollWidth <= e.clientWidth")
    if os.environ.get("SCREENSHOT_DIR"):  # the panel alone: the orders table below is not this page's subject
        panel.screenshot(path=str(Path(os.environ["SCREENSHOT_DIR"]) / "webhook-health-360.png"))
