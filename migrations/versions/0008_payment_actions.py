"""payment_actions: refunds, manual bank refunds, cancel, expire, approve and deny by an admin, each stored
(with its refund_key) before Midtrans is called; money_events.refund_key matches a refund with its movement
(the shopper's refund e-mail is owed through the e-mail outbox, 0009)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'payment_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('REFUND', 'MANUAL_REFUND', 'CANCEL', 'EXPIRE', 'APPROVE', 'DENY',
                                  name='payment_action_kind', native_enum=False, length=20), nullable=False),
        sa.Column('state', sa.Enum('PENDING', 'DONE', 'FAILED', name='payment_action_state', native_enum=False,
                                   length=10), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('refund_key', sa.String(length=64), nullable=True),
        sa.Column('transfer_reference', sa.String(length=120), nullable=True),
        sa.Column('transferred_on', sa.Date(), nullable=True),
        sa.Column('return_stock', sa.Boolean(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_actions_order_id_orders')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_actions_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_actions')),
        sa.UniqueConstraint('refund_key', name=op.f('uq_payment_actions_refund_key')),
    )
    op.create_index('ix_payment_actions_order_id', 'payment_actions', ['order_id'], unique=False)
    with op.batch_alter_table('money_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_key', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('money_events', schema=None) as batch_op:
        batch_op.drop_column('refund_key')
    op.drop_index('ix_payment_actions_order_id', table_name='payment_actions')
    op.drop_table('payment_actions')
