"""Cloud intents: what the cloud must hold per reservation, the converger's
progress, orphans seen, and calls deferred past a commit.

Reservations that exist already get their intent from the manager at its
start (blazar/manager/converger.py adopts them), so this revision only
makes the tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cloud_intents',
        sa.Column('reservation_id', sa.String(36), primary_key=True),
        sa.Column('lease_id', sa.String(36), nullable=False),
        sa.Column('resource_type', sa.String(66), nullable=False),
        sa.Column('phase', sa.String(16), nullable=False),
        sa.Column('spec', sa.Text, nullable=False),
        sa.Column('generation', sa.Integer, nullable=False),
        sa.Column('converged_generation', sa.Integer, nullable=False),
        sa.Column('progress', sa.Text, nullable=False),
        sa.Column('observed', sa.Text, nullable=False),
        sa.Column('due_at', sa.DateTime),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('last_error', sa.Text),
        sa.Column('waiting', sa.Text),
        sa.Column('claimed_by', sa.String(255)),
        sa.Column('claimed_until', sa.DateTime),
        sa.Column('verified_at', sa.DateTime),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime))
    op.create_index('ix_cloud_intents_due', 'cloud_intents', ['due_at'])
    op.create_index('ix_cloud_intents_lease', 'cloud_intents', ['lease_id'])
    op.create_table(
        'cloud_orphans',
        sa.Column('kind', sa.String(64), primary_key=True),
        sa.Column('ident', sa.String(255), primary_key=True),
        sa.Column('reservation_id', sa.String(36)),
        sa.Column('first_seen', sa.DateTime, nullable=False),
        sa.Column('last_seen', sa.DateTime, nullable=False))
    op.create_table(
        'deferred_calls',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('kind', sa.String(64), nullable=False),
        sa.Column('payload', sa.Text, nullable=False),
        sa.Column('due_at', sa.DateTime, nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('last_error', sa.Text),
        sa.Column('claimed_by', sa.String(255)),
        sa.Column('claimed_until', sa.DateTime),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime))
    op.create_index('ix_deferred_calls_due', 'deferred_calls', ['due_at'])


def downgrade():
    op.drop_index('ix_deferred_calls_due', 'deferred_calls')
    op.drop_table('deferred_calls')
    op.drop_table('cloud_orphans')
    op.drop_index('ix_cloud_intents_lease', 'cloud_intents')
    op.drop_index('ix_cloud_intents_due', 'cloud_intents')
    op.drop_table('cloud_intents')
