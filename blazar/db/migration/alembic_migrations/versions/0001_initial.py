"""Initial schema: leases, reservations, events, hosts, allocations.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime, nullable=True)]


def upgrade():
    op.create_table(
        'leases',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('start_date', sa.DateTime, nullable=False),
        sa.Column('end_date', sa.DateTime, nullable=False),
        sa.Column('trust_id', sa.String(255)),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('status_reason', sa.Text),
        sa.Column('degraded', sa.Boolean, nullable=False),
        *_timestamps())
    op.create_index('ix_leases_project_id', 'leases', ['project_id'])
    op.create_index('ix_leases_start_end', 'leases', ['start_date', 'end_date'])
    op.create_index('ix_leases_end_date', 'leases', ['end_date'])

    op.create_table(
        'reservations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('lease_id', sa.String(36),
                  sa.ForeignKey('leases.id', ondelete='CASCADE'), nullable=False),
        sa.Column('resource_id', sa.String(36)),
        sa.Column('resource_type', sa.String(66), nullable=False),
        sa.Column('status', sa.String(13), nullable=False),
        sa.Column('missing_resources', sa.Boolean, nullable=False),
        sa.Column('resources_changed', sa.Boolean, nullable=False),
        *_timestamps())
    op.create_index('ix_reservations_lease_id', 'reservations', ['lease_id'])

    op.create_table(
        'events',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('lease_id', sa.String(36),
                  sa.ForeignKey('leases.id', ondelete='CASCADE'), nullable=False),
        sa.Column('event_type', sa.String(66), nullable=False),
        sa.Column('time', sa.DateTime, nullable=False),
        sa.Column('status', sa.String(13), nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('next_attempt', sa.DateTime),
        sa.Column('last_error', sa.Text),
        *_timestamps())
    op.create_index('ix_events_status_time', 'events', ['status', 'time'])
    op.create_index('ix_events_lease_id', 'events', ['lease_id'])

    op.create_table(
        'computehosts',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('hypervisor_id', sa.String(36)),
        sa.Column('hypervisor_hostname', sa.String(255), nullable=False),
        sa.Column('service_name', sa.String(255), nullable=False),
        sa.Column('hypervisor_type', sa.String(255), nullable=False),
        sa.Column('hypervisor_version', sa.BigInteger, nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('local_gb', sa.Integer, nullable=False),
        sa.Column('cpu_info', sa.Text, nullable=False),
        sa.Column('availability_zone', sa.String(255), nullable=False),
        sa.Column('status', sa.String(13)),
        sa.Column('trust_id', sa.String(255)),
        sa.Column('reservable', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('hypervisor_hostname', name='uq_computehosts_hostname'))
    op.create_index('ix_computehosts_service_name', 'computehosts', ['service_name'])

    op.create_table(
        'resource_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('resource_type', sa.String(255), nullable=False),
        sa.Column('property_name', sa.String(255), nullable=False),
        sa.Column('private', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('resource_type', 'property_name',
                            name='uq_resource_properties_type_name'))

    op.create_table(
        'computehost_extra_capabilities',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('computehost_id', sa.Integer,
                  sa.ForeignKey('computehosts.id', ondelete='CASCADE'), nullable=False),
        sa.Column('property_id', sa.Integer,
                  sa.ForeignKey('resource_properties.id'), nullable=False),
        sa.Column('capability_value', sa.Text, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('computehost_id', 'property_id', name='uq_host_capability'))
    op.create_index('ix_host_capability_property', 'computehost_extra_capabilities',
                    ['property_id'])

    op.create_table(
        'computehost_reservations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('reservation_id', sa.String(36),
                  sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                  nullable=False, unique=True),
        sa.Column('aggregate_id', sa.Integer),
        sa.Column('min_count', sa.Integer, nullable=False),
        sa.Column('max_count', sa.Integer, nullable=False),
        sa.Column('hypervisor_properties', sa.Text, nullable=False),
        sa.Column('resource_properties', sa.Text, nullable=False),
        sa.Column('before_end', sa.String(36), nullable=False),
        *_timestamps())

    op.create_table(
        'instance_reservations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('reservation_id', sa.String(36),
                  sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                  nullable=False, unique=True),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('disk_gb', sa.Integer, nullable=False),
        sa.Column('amount', sa.Integer, nullable=False),
        sa.Column('affinity', sa.Boolean, nullable=True),
        sa.Column('resource_properties', sa.Text, nullable=False),
        sa.Column('flavor_id', sa.String(36)),
        sa.Column('source_flavor', sa.Text),
        sa.Column('aggregate_id', sa.Integer),
        sa.Column('server_group_id', sa.String(36)),
        *_timestamps())

    op.create_table(
        'computehost_allocations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('compute_host_id', sa.Integer,
                  sa.ForeignKey('computehosts.id'), nullable=False),
        sa.Column('reservation_id', sa.String(36),
                  sa.ForeignKey('reservations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('start_date', sa.DateTime, nullable=False),
        sa.Column('end_date', sa.DateTime, nullable=False),
        *_timestamps())
    op.create_index('ix_allocations_host_window', 'computehost_allocations',
                    ['compute_host_id', 'start_date', 'end_date'])
    op.create_index('ix_allocations_reservation', 'computehost_allocations',
                    ['reservation_id'])
    op.create_index('ix_allocations_window', 'computehost_allocations',
                    ['end_date', 'start_date'])

    locks = op.create_table(
        'allocation_locks',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('generation', sa.BigInteger, nullable=False))
    op.bulk_insert(locks, [{'name': 'compute', 'generation': 0}])


def downgrade():
    for table in ('allocation_locks', 'computehost_allocations', 'instance_reservations',
                  'computehost_reservations', 'computehost_extra_capabilities',
                  'resource_properties', 'computehosts', 'events', 'reservations',
                  'leases'):
        op.drop_table(table)
