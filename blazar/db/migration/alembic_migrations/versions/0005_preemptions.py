"""Preemptions: the preemptible servers reclaimed for reservations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'preemptions',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('lease_id', sa.String(36), nullable=False),
        sa.Column('reservation_id', sa.String(36), nullable=False),
        sa.Column('server_id', sa.String(36), nullable=False),
        sa.Column('server_name', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('host', sa.String(255)),
        sa.Column('action', sa.String(16), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('noticed_at', sa.DateTime),
        sa.Column('reclaimed_at', sa.DateTime),
        sa.Column('reason', sa.Text),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime),
        sa.UniqueConstraint('reservation_id', 'server_id', name='uq_preemption'))
    op.create_index('ix_preemptions_lease', 'preemptions', ['lease_id'])


def downgrade():
    op.drop_index('ix_preemptions_lease', 'preemptions')
    op.drop_table('preemptions')
