"""Indexes behind the lists' filters and sort keys (GET /v1/leases,
/v1/os-hosts, /v1/os-hosts/allocations, /v1/preemptions pages): each page
is a range scan of an index that starts with the sort key (or the filter
then the sort key) and ends with the id that breaks ties.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_leases_created_at', 'leases', ['created_at', 'id']),
    ('ix_leases_name', 'leases', ['name', 'id']),
    ('ix_leases_status', 'leases', ['status', 'created_at', 'id']),
    ('ix_leases_project_created', 'leases', ['project_id', 'created_at', 'id']),
    ('ix_computehosts_reservable', 'computehosts', ['reservable', 'id']),
    ('ix_computehosts_maintenance', 'computehosts', ['maintenance_start']),
    ('ix_computehosts_created_at', 'computehosts', ['created_at', 'id']),
    ('ix_preemptions_created_at', 'preemptions', ['created_at', 'id']),
    ('ix_preemptions_project', 'preemptions', ['project_id']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
