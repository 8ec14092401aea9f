"""Usage's aggregate: one row per reservation and allocation window with
the slots held and their VCPUs, memory and disk (blazar/db/api/usage.py),
filled from the allocations already there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'usage_spans',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('reservation_id', sa.String(36),
                  sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('lease_id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255)),
        sa.Column('start_date', sa.DateTime, nullable=False),
        sa.Column('end_date', sa.DateTime, nullable=False),
        sa.Column('host_slots', sa.BigInteger, nullable=False),
        sa.Column('instance_slots', sa.BigInteger, nullable=False),
        sa.Column('vcpus', sa.BigInteger, nullable=False),
        sa.Column('memory_mb', sa.BigInteger, nullable=False),
        sa.Column('disk_gb', sa.BigInteger, nullable=False),
    )
    op.create_index('ix_usage_spans_window', 'usage_spans', ['end_date', 'start_date'])
    op.create_index('ix_usage_spans_project', 'usage_spans', ['project_id', 'end_date'])
    op.create_index('ix_usage_spans_reservation', 'usage_spans', ['reservation_id'])
    op.execute(
        'INSERT INTO usage_spans (reservation_id, lease_id, project_id, start_date, '
        'end_date, host_slots, instance_slots, vcpus, memory_mb, disk_gb) '
        'SELECT a.reservation_id, r.lease_id, l.project_id, a.start_date, a.end_date, '
        'SUM(CASE WHEN i.id IS NULL THEN a.slots ELSE 0 END), '
        'SUM(CASE WHEN i.id IS NULL THEN 0 ELSE a.slots END), '
        'SUM(a.slots * COALESCE(i.vcpus, h.vcpus)), '
        'SUM(a.slots * COALESCE(i.memory_mb, h.memory_mb)), '
        'SUM(a.slots * COALESCE(i.disk_gb, h.local_gb)) '
        'FROM computehost_allocations a '
        'JOIN reservations r ON r.id = a.reservation_id '
        'JOIN leases l ON l.id = r.lease_id '
        'JOIN computehosts h ON h.id = a.compute_host_id '
        'LEFT OUTER JOIN instance_reservations i ON i.reservation_id = a.reservation_id '
        'GROUP BY a.reservation_id, r.lease_id, l.project_id, a.start_date, a.end_date')


def downgrade():
    op.drop_table('usage_spans')
