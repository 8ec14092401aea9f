"""The calendar change log: which hosts each allocation-lock generation
changed, so that the managers' availability caches catch up on those hosts
alone instead of reloading every host and allocation
(blazar/db/api/calendar.py, blazar/plugins/hosts/availability.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
                  primary_key=True, autoincrement=True),
        sa.Column('generation', sa.BigInteger, nullable=False),
        sa.Column('host_id', sa.Integer, nullable=True),
    )
    op.create_index('ix_calendar_changes_generation', 'calendar_changes',
                    ['generation', 'host_id'])


def downgrade():
    op.drop_index('ix_calendar_changes_generation', table_name='calendar_changes')
    op.drop_table('calendar_changes')
