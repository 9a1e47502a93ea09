"""email_outbox: every e-mail as a row keyed by (kind, key), claimed before sending; inbox_messages
loses emailed_at and email_queued_at (the paid order's e-mail is an outbox row now)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claims', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_outbox')),
        sa.UniqueConstraint('kind', 'key', name=op.f('uq_email_outbox_kind')),
    )
    # The sweeper's question, "which e-mails are still owed?", reads only those rows.
    op.create_index('ix_email_outbox_unsent', 'email_outbox', ['created_at'], unique=False,
                    postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
    # A receipt still owed at the upgrade (its task queued under the old name, or never) becomes an
    # outbox row: the sweeper sends it (within the day the old sweeper kept trying).
    op.execute("INSERT INTO email_outbox (kind, key, created_at, claims) "
               "SELECT 'order.paid', 'order:' || order_id, MIN(created_at), 0 FROM inbox_messages "
               "WHERE emailed_at IS NULL AND order_id IS NOT NULL GROUP BY order_id")
    # Refunds recorded before the upgrade are not e-mailed now, months later: owed and settled as skipped.
    op.execute("INSERT INTO email_outbox (kind, key, created_at, claims, outcome) "
               "SELECT 'order.refunded', 'refund:' || id, recorded_at, 0, 'skipped' FROM money_events "
               "WHERE kind = 'REFUNDED'")
    op.drop_index('ix_inbox_messages_unsent', table_name='inbox_messages')
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_column('email_queued_at')
        batch_op.drop_column('emailed_at')


def downgrade():
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_queued_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_inbox_messages_unsent', 'inbox_messages', ['created_at'], unique=False,
                    postgresql_where=sa.text('emailed_at IS NULL'), sqlite_where=sa.text('emailed_at IS NULL'))
    op.drop_index('ix_email_outbox_unsent', table_name='email_outbox')
    op.drop_table('email_outbox')
