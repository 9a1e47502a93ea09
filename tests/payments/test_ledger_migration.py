"""Migration 0011: orders paid (or refunded) before the ledger existed get their movements once."""
from flask_migrate import downgrade, upgrade

from shop import create_app
from shop.config import TEST_SETTINGS
from shop.extensions import db
from shop.payments import ledger
from shop.payments.models import PaymentStatus as P
from tests.factories import PaymentFactory


def test_old_payments_get_their_paid_and_refunded_movements_once(tmp_path):
    shop = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}"))
    with shop.app_context():
        upgrade(revision="0010")
        paid = PaymentFactory(status=P.SUCCESS, gross_amount=150000)
        refunded = PaymentFactory(status=P.PARTIALLY_REFUNDED, gross_amount=200000, refund_amount=50000)
        waiting = PaymentFactory(status=P.PENDING, gross_amount=90000)
        ids = [p.order_id for p in (paid, refunded, waiting)]
        db.session.commit()
        assert [ledger.order_ledger(i).paid for i in ids] == [0, 0, 0]  # what a shop upgraded to 0006 showed

        upgrade()
        upgrade()  # already at head: nothing runs twice
        amounts = [ledger.order_ledger(i).as_dict() for i in ids]
        assert [(a["paid_amount"], a["refunded_amount"], a["refundable_amount"]) for a in amounts] == [
            (150000, 0, 150000), (200000, 50000, 150000), (0, 0, 0)]
        [event] = [e for e in ledger.money_events(ids[0])]
        assert (event.kind.value, event.key, event.actor) == ("PAID", f"payment-{paid.id}", "system")

        downgrade(revision="0010")
        assert ledger.order_ledger(ids[1]).paid == 0
        db.session.remove()
