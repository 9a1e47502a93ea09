"""alert_states and merchant_messages: the merchant's alerts and messages, remembered across restarts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_states',
                    sa.Column('name', sa.String(length=40), nullable=False),
                    sa.Column('firing', sa.Boolean(), nullable=False),
                    sa.Column('alerted', sa.Boolean(), nullable=False),
                    sa.Column('reason', sa.String(length=500), nullable=True),
                    sa.Column('last_alert_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_alert_states')))
    op.create_table('merchant_messages',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=20), nullable=False),
                    sa.Column('key', sa.String(length=40), nullable=False),
                    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_messages')),
                    sa.UniqueConstraint('kind', 'key', name='uq_merchant_messages_kind_key'))


def downgrade():
    op.drop_table('merchant_messages')
    op.drop_table('alert_states')
