"""Host health: why a host is seen failed, and the operator's maintenance.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('computehosts') as batch:
        batch.add_column(sa.Column('failure_reason', sa.Text))
        batch.add_column(sa.Column('maintenance_start', sa.DateTime))
        batch.add_column(sa.Column('maintenance_reason', sa.Text))


def downgrade():
    with op.batch_alter_table('computehosts') as batch:
        batch.drop_column('maintenance_reason')
        batch.drop_column('maintenance_start')
        batch.drop_column('failure_reason')
