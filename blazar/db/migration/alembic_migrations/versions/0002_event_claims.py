"""Event claims: which manager runs an event, and until when it may.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(255)))
        batch.add_column(sa.Column('claimed_until', sa.DateTime))


def downgrade():
    with op.batch_alter_table('events') as batch:
        batch.drop_column('claimed_until')
        batch.drop_column('claimed_by')
