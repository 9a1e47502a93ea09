"""inbox_messages.email_queued_at: the sweeper queues an e-mail that never went out again, at most hourly

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_queued_at', sa.DateTime(timezone=True), nullable=True))
    # The sweeper's question, "which recent messages were never e-mailed?", reads only those rows.
    op.create_index('ix_inbox_messages_unsent', 'inbox_messages', ['created_at'], unique=False,
                    postgresql_where=sa.text('emailed_at IS NULL'), sqlite_where=sa.text('emailed_at IS NULL'))


def downgrade():
    op.drop_index('ix_inbox_messages_unsent', table_name='inbox_messages')
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_column('email_queued_at')
