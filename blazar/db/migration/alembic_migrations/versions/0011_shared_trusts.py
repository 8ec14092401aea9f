"""Trusts a lease create may reuse (one per owner, project and roles), and
an index on the leases that hold a trust, so that a shared trust is
deleted with its last lease (blazar/manager/trusts.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'trusts',
        sa.Column('id', sa.String(255), primary_key=True),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('roles_digest', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime),
    )
    op.create_index('ix_trusts_holder', 'trusts',
                    ['user_id', 'project_id', 'roles_digest'])
    op.create_index('ix_leases_trust_id', 'leases', ['trust_id'])


def downgrade():
    op.drop_index('ix_leases_trust_id', table_name='leases')
    op.drop_table('trusts')
