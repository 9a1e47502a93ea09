"""midtrans_notifications.queue_failed_at: a notification whose task could not be queued is swept at once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('midtrans_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_failed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('midtrans_notifications', schema=None) as batch_op:
        batch_op.drop_column('queue_failed_at')
