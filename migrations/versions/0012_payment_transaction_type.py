"""payments.transaction_type: QRIS's on-us or off-us, as Midtrans says it, for the refund window
(45 days on-us, 7 off-us)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transaction_type', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('transaction_type')
