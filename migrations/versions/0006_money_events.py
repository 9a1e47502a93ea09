"""money_events: every movement of an order's money (paid, reversed, refunds, chargebacks), recorded once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'money_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('PAID', 'REVERSED', 'REFUND_REQUESTED', 'REFUNDED', 'CHARGEBACK',
                                  name='money_event_kind', native_enum=False, length=20), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('fee', sa.BigInteger(), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_money_events_order_id_orders')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_money_events_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_money_events')),
        sa.UniqueConstraint('order_id', 'kind', 'key', name='uq_money_events_order_id_kind_key'),
    )


def downgrade():
    op.drop_table('money_events')
