"""Migration 0011: orders paid (or refunded) before the ledger existed get their movements once."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import db
from shop.models import utcnow
from shop.payments import ledger
from shop.payments.models import PaymentStatus as P
from tests.factories import OrderFactory


def old_payment(status: P, amount: int, refunded: int | None = None) -> tuple[int, int]:
    """A payment row as a shop at revision 0010 held it (the model has columns added since): (order id, id)."""
    order = OrderFactory(total=amount)
    db.session.flush()
    payment_id = db.session.execute(text(
        "INSERT INTO payments (order_id, attempt, midtrans_order_id, status, gross_amount, refund_amount, "
        "amount_mismatch, created_at, updated_at) VALUES (:order_id, 1, :midtrans_order_id, :status, :amount, "
        ":refunded, false, :now, :now) RETURNING id"),
        {"order_id": order.id, "midtrans_order_id": f"TK-{order.id}-1-old", "status": status.name, "amount": amount,
         "refunded": refunded, "now": utcnow()}).scalar_one()
    return order.id, payment_id


def test_old_payments_get_their_paid_and_refunded_movements_once(tmp_path):
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}"))
    with shop.app_context():
        upgrade(revision="0010")
        paid, refunded, waiting = (old_payment(P.SUCCESS, 150000), old_payment(P.PARTIALLY_REFUNDED, 200000, 50000),
                                   old_payment(P.PENDING, 90000))
        ids = [order_id for order_id, _ in (paid, refunded, waiting)]
        db.session.commit()
        assert [ledger.order_ledger(i).paid for i in ids] == [0, 0, 0]  # what a shop upgraded to 0006 showed

        upgrade()
        upgrade()  # already at head: nothing runs twice
        amounts = [ledger.order_ledger(i).as_dict() for i in ids]
        assert [(a["paid_amount"], a["refunded_amount"], a["refundable_amount"]) for a in amounts] == [
            (150000, 0, 150000), (200000, 50000, 150000), (0, 0, 0)]
        [event] = [e for e in ledger.money_events(ids[0])]
        assert (event.kind.value, event.key, event.actor) == ("PAID", f"payment-{paid[1]}", "system")

        downgrade(revision="0010")
        assert ledger.order_ledger(ids[1]).paid == 0
        db.session.remove()
