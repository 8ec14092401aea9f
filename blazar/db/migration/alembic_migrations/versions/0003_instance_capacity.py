"""Instance reservations: host capacity copied from Placement, per-instance
resources and traits, and several slots per allocation row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _timestamps():
    return (sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime))


def upgrade():
    op.create_table(
        'computehost_inventories',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('computehost_id', sa.Integer,
                  sa.ForeignKey('computehosts.id', ondelete='CASCADE'), nullable=False),
        sa.Column('resource_class', sa.String(255), nullable=False),
        sa.Column('total', sa.Integer, nullable=False),
        sa.Column('reserved', sa.Integer, nullable=False),
        sa.Column('min_unit', sa.Integer, nullable=False),
        sa.Column('max_unit', sa.Integer, nullable=False),
        sa.Column('step_size', sa.Integer, nullable=False),
        sa.Column('allocation_ratio', sa.Float, nullable=False),
        sa.UniqueConstraint('computehost_id', 'resource_class',
                            name='uq_host_inventory_class'),
        *_timestamps())
    op.create_table(
        'computehost_traits',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('computehost_id', sa.Integer,
                  sa.ForeignKey('computehosts.id', ondelete='CASCADE'), nullable=False),
        sa.Column('trait', sa.String(255), nullable=False),
        sa.UniqueConstraint('computehost_id', 'trait', name='uq_host_trait'),
        *_timestamps())
    with op.batch_alter_table('instance_reservations') as batch:
        batch.add_column(sa.Column('resources', sa.Text))
        batch.add_column(sa.Column('traits', sa.Text))
    with op.batch_alter_table('computehost_allocations') as batch:
        batch.add_column(sa.Column('slots', sa.Integer, nullable=False,
                                   server_default='1'))


def downgrade():
    with op.batch_alter_table('computehost_allocations') as batch:
        batch.drop_column('slots')
    with op.batch_alter_table('instance_reservations') as batch:
        batch.drop_column('traits')
        batch.drop_column('resources')
    op.drop_table('computehost_traits')
    op.drop_table('computehost_inventories')
