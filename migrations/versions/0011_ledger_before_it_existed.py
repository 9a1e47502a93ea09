"""money_events for payments settled before the ledger existed (0006 added the table empty): each paid
attempt gets its PAID movement, and a refunded or charged-back one what its refund_amount says went
back, so the ledger, the refund form and the timeline are right for old orders too

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PAID = "('SUCCESS', 'PARTIALLY_REFUNDED', 'REFUNDED', 'PARTIALLY_CHARGEBACK', 'CHARGEBACK')"
WHEN = "COALESCE(p.settlement_time, p.transaction_time, p.updated_at)"
REASON = "'Dicatat saat pembaruan: dibayar sebelum buku kas ada'"


def upgrade():
    # The key is the one the ledger gives a payment's PAID movement: a later notification adds nothing.
    op.execute(f"""
        INSERT INTO money_events (order_id, payment_id, kind, key, amount, fee, actor, reason, happened_at, recorded_at)
        SELECT p.order_id, p.id, 'PAID', 'payment-' || p.id, p.gross_amount, 0, 'system', {REASON}, {WHEN}, {WHEN}
        FROM payments p WHERE p.status IN {PAID}
        ON CONFLICT (order_id, kind, key) DO NOTHING""")
    for kind, statuses in (("REFUNDED", "('PARTIALLY_REFUNDED', 'REFUNDED')"),
                           ("CHARGEBACK", "('PARTIALLY_CHARGEBACK', 'CHARGEBACK')")):
        # Only where the ledger has none of that kind for the payment yet (a refund notification
        # recorded since 0006 already counted its money).
        op.execute(f"""
            INSERT INTO money_events (order_id, payment_id, kind, key, amount, fee, actor, reason, happened_at,
                                      recorded_at)
            SELECT p.order_id, p.id, '{kind}', 'before-ledger-payment-' || p.id, p.refund_amount, 0, 'system',
                   {REASON}, p.updated_at, p.updated_at
            FROM payments p WHERE p.status IN {statuses} AND p.refund_amount > 0
              AND NOT EXISTS (SELECT 1 FROM money_events m WHERE m.payment_id = p.id AND m.kind = '{kind}')
            ON CONFLICT (order_id, kind, key) DO NOTHING""")


def downgrade():
    op.execute(f"DELETE FROM money_events WHERE actor = 'system' AND reason = {REASON}")
