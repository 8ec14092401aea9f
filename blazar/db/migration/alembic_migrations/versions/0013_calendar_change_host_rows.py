"""Whether a calendar change touched a host's own rows (its row,
capabilities, inventory, health) or only what holds it (allocations): a
manager catching its calendar up on a change of allocations alone reloads
that host's allocations, not its row and capabilities (two statements
fewer under the allocation lock per lease write).

Changes logged before count as touching the host's rows: a catch-up over
them reloads as much as it did.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('calendar_changes', sa.Column(
        'host_row', sa.Boolean, nullable=False, server_default=sa.true()))
    # The delta reads the flag with the host: the index still covers it.
    op.drop_index('ix_calendar_changes_generation', table_name='calendar_changes')
    op.create_index('ix_calendar_changes_generation', 'calendar_changes',
                    ['generation', 'host_id', 'host_row'])


def downgrade():
    op.drop_index('ix_calendar_changes_generation', table_name='calendar_changes')
    op.create_index('ix_calendar_changes_generation', 'calendar_changes',
                    ['generation', 'host_id'])
    op.drop_column('calendar_changes', 'host_row')
