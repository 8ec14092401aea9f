"""SQLAlchemy models of the store.

Allocations carry their reservation's time window (kept in step with the
lease dates) so that every "who holds what when" question is one indexed
range scan instead of a join through leases.
"""
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm


def _uuid():
    from oslo_utils import uuidutils
    return uuidutils.generate_uuid()


class Base(orm.DeclarativeBase):
    pass


class TimestampMixin:
    created_at = sa.Column(sa.DateTime, nullable=False, default=timeutils.utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=True, onupdate=timeutils.utcnow)


class Lease(TimestampMixin, Base):
    __tablename__ = 'leases'
    __table_args__ = (
        sa.Index('ix_leases_project_id', 'project_id'),
        sa.Index('ix_leases_start_end', 'start_date', 'end_date'),
        sa.Index('ix_leases_end_date', 'end_date'),
        # The list's sort keys and filters (blazar/db/api/leases.py).
        sa.Index('ix_leases_created_at', 'created_at', 'id'),
        sa.Index('ix_leases_name', 'name', 'id'),
        sa.Index('ix_leases_status', 'status', 'created_at', 'id'),
        sa.Index('ix_leases_project_created', 'project_id', 'created_at', 'id'),
        # Which leases hold a trust (a shared trust goes with its last).
        sa.Index('ix_leases_trust_id', 'trust_id'),
    )

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    name = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255))
    start_date = sa.Column(sa.DateTime, nullable=False)
    end_date = sa.Column(sa.DateTime, nullable=False)
    trust_id = sa.Column(sa.String(255))
    status = sa.Column(sa.String(32), nullable=False)
    status_reason = sa.Column(sa.Text)
    degraded = sa.Column(sa.Boolean, nullable=False, default=False)

    reservations = orm.relationship(
        'Reservation', back_populates='lease', lazy='selectin',
        cascade='all, delete-orphan', order_by='Reservation.created_at')
    events = orm.relationship(
        'Event', back_populates='lease', lazy='selectin',
        cascade='all, delete-orphan', order_by='Event.time')


class Reservation(TimestampMixin, Base):
    __tablename__ = 'reservations'
    __table_args__ = (sa.Index('ix_reservations_lease_id', 'lease_id'),)

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    lease_id = sa.Column(sa.String(36), sa.ForeignKey('leases.id', ondelete='CASCADE'),
                         nullable=False)
    resource_id = sa.Column(sa.String(36))
    resource_type = sa.Column(sa.String(66), nullable=False)
    status = sa.Column(sa.String(13), nullable=False)
    missing_resources = sa.Column(sa.Boolean, nullable=False, default=False)
    resources_changed = sa.Column(sa.Boolean, nullable=False, default=False)

    lease = orm.relationship('Lease', back_populates='reservations')
    host_reservation = orm.relationship(
        'HostReservation', uselist=False, lazy='selectin',
        cascade='all, delete-orphan', back_populates='reservation')
    instance_reservation = orm.relationship(
        'InstanceReservation', uselist=False, lazy='selectin',
        cascade='all, delete-orphan', back_populates='reservation')
    floatingip_reservation = orm.relationship(
        'FloatingIPReservation', uselist=False, lazy='selectin',
        cascade='all, delete-orphan', passive_deletes=True,
        back_populates='reservation')


class Event(TimestampMixin, Base):
    __tablename__ = 'events'
    __table_args__ = (
        sa.Index('ix_events_status_time', 'status', 'time'),
        sa.Index('ix_events_lease_id', 'lease_id'),
    )

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    lease_id = sa.Column(sa.String(36), sa.ForeignKey('leases.id', ondelete='CASCADE'),
                         nullable=False)
    event_type = sa.Column(sa.String(66), nullable=False)
    time = sa.Column(sa.DateTime, nullable=False)
    status = sa.Column(sa.String(13), nullable=False)
    # Failed runs are retried with backoff: not before next_attempt.
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_attempt = sa.Column(sa.DateTime)
    last_error = sa.Column(sa.Text)
    # The manager running it, and until when; a claim left by a dead
    # manager may be taken over once it has expired.
    claimed_by = sa.Column(sa.String(255))
    claimed_until = sa.Column(sa.DateTime)

    lease = orm.relationship('Lease', back_populates='events')


class ComputeHost(TimestampMixin, Base):
    __tablename__ = 'computehosts'
    __table_args__ = (
        sa.UniqueConstraint('hypervisor_hostname', name='uq_computehosts_hostname'),
        sa.Index('ix_computehosts_service_name', 'service_name'),
        # The list's sort keys and filters (blazar/db/api/hosts.py).
        sa.Index('ix_computehosts_reservable', 'reservable', 'id'),
        sa.Index('ix_computehosts_maintenance', 'maintenance_start'),
        sa.Index('ix_computehosts_created_at', 'created_at', 'id'),
    )

    # Our own small integer id: the CLI treats all-digit host arguments as
    # ids and anything else as a hypervisor hostname.
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    hypervisor_id = sa.Column(sa.String(36))
    hypervisor_hostname = sa.Column(sa.String(255), nullable=False)
    service_name = sa.Column(sa.String(255), nullable=False)
    hypervisor_type = sa.Column(sa.String(255), nullable=False, default='')
    hypervisor_version = sa.Column(sa.BigInteger, nullable=False, default=0)
    vcpus = sa.Column(sa.Integer, nullable=False)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    local_gb = sa.Column(sa.Integer, nullable=False)
    cpu_info = sa.Column(sa.Text, nullable=False, default='')
    availability_zone = sa.Column(sa.String(255), nullable=False, default='')
    status = sa.Column(sa.String(13))
    trust_id = sa.Column(sa.String(255))
    reservable = sa.Column(sa.Boolean, nullable=False, default=True)
    # Health (blazar/manager/monitors.py): why Nova's compute service is
    # seen failed (NULL: healthy), and the operator's maintenance, in force
    # from maintenance_start (NULL: none). reservable is false while either
    # holds.
    failure_reason = sa.Column(sa.Text)
    maintenance_start = sa.Column(sa.DateTime)
    maintenance_reason = sa.Column(sa.Text)

    capabilities = orm.relationship(
        'HostCapability', lazy='selectin', cascade='all, delete-orphan',
        back_populates='host')
    inventories = orm.relationship(
        'HostInventory', lazy='select', cascade='all, delete-orphan',
        passive_deletes=True, back_populates='host')
    traits = orm.relationship(
        'HostTrait', lazy='select', cascade='all, delete-orphan',
        passive_deletes=True, back_populates='host')


class ResourceProperty(TimestampMixin, Base):
    __tablename__ = 'resource_properties'
    __table_args__ = (
        sa.UniqueConstraint('resource_type', 'property_name',
                            name='uq_resource_properties_type_name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    resource_type = sa.Column(sa.String(255), nullable=False)
    property_name = sa.Column(sa.String(255), nullable=False)
    private = sa.Column(sa.Boolean, nullable=False, default=False)


class HostCapability(TimestampMixin, Base):
    __tablename__ = 'computehost_extra_capabilities'
    __table_args__ = (
        sa.UniqueConstraint('computehost_id', 'property_id',
                            name='uq_host_capability'),
        sa.Index('ix_host_capability_property', 'property_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    computehost_id = sa.Column(sa.Integer, sa.ForeignKey('computehosts.id', ondelete='CASCADE'),
                               nullable=False)
    property_id = sa.Column(sa.Integer, sa.ForeignKey('resource_properties.id'),
                            nullable=False)
    capability_value = sa.Column(sa.Text, nullable=False)

    host = orm.relationship('ComputeHost', back_populates='capabilities')
    property = orm.relationship('ResourceProperty', lazy='joined')


class HostInventory(TimestampMixin, Base):
    """A host's Placement inventory of one resource class, copied at
    enrolment (and refreshed) so that capacity questions need no HTTP call."""
    __tablename__ = 'computehost_inventories'
    __table_args__ = (
        sa.UniqueConstraint('computehost_id', 'resource_class',
                            name='uq_host_inventory_class'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    computehost_id = sa.Column(sa.Integer, sa.ForeignKey('computehosts.id', ondelete='CASCADE'),
                               nullable=False)
    resource_class = sa.Column(sa.String(255), nullable=False)
    total = sa.Column(sa.Integer, nullable=False)
    reserved = sa.Column(sa.Integer, nullable=False, default=0)
    min_unit = sa.Column(sa.Integer, nullable=False, default=1)
    max_unit = sa.Column(sa.Integer, nullable=False)
    step_size = sa.Column(sa.Integer, nullable=False, default=1)
    allocation_ratio = sa.Column(sa.Float, nullable=False, default=1.0)

    host = orm.relationship('ComputeHost', back_populates='inventories')


class HostTrait(TimestampMixin, Base):
    __tablename__ = 'computehost_traits'
    __table_args__ = (
        sa.UniqueConstraint('computehost_id', 'trait', name='uq_host_trait'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    computehost_id = sa.Column(sa.Integer, sa.ForeignKey('computehosts.id', ondelete='CASCADE'),
                               nullable=False)
    trait = sa.Column(sa.String(255), nullable=False)

    host = orm.relationship('ComputeHost', back_populates='traits')


class HostReservation(TimestampMixin, Base):
    __tablename__ = 'computehost_reservations'

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    reservation_id = sa.Column(sa.String(36),
                               sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                               nullable=False, unique=True)
    aggregate_id = sa.Column(sa.Integer)
    min_count = sa.Column(sa.Integer, nullable=False)
    max_count = sa.Column(sa.Integer, nullable=False)
    hypervisor_properties = sa.Column(sa.Text, nullable=False, default='')
    resource_properties = sa.Column(sa.Text, nullable=False, default='')
    before_end = sa.Column(sa.String(36), nullable=False, default='default')

    reservation = orm.relationship('Reservation', back_populates='host_reservation')


class InstanceReservation(TimestampMixin, Base):
    __tablename__ = 'instance_reservations'

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    reservation_id = sa.Column(sa.String(36),
                               sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                               nullable=False, unique=True)
    vcpus = sa.Column(sa.Integer, nullable=False)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    disk_gb = sa.Column(sa.Integer, nullable=False)
    amount = sa.Column(sa.Integer, nullable=False)
    affinity = sa.Column(sa.Boolean, nullable=True)
    resource_properties = sa.Column(sa.Text, nullable=False, default='')
    flavor_id = sa.Column(sa.String(36))
    source_flavor = sa.Column(sa.Text)
    # One instance's needs, JSON {resource class: amount}, and the flavor's
    # traits, JSON {"required": [...], "forbidden": [...]}.
    resources = sa.Column(sa.Text)
    traits = sa.Column(sa.Text)
    aggregate_id = sa.Column(sa.Integer)
    server_group_id = sa.Column(sa.String(36))

    reservation = orm.relationship('Reservation', back_populates='instance_reservation')


class HostAllocation(TimestampMixin, Base):
    """One host (or one instance slot on a host) held by a reservation."""
    __tablename__ = 'computehost_allocations'
    __table_args__ = (
        sa.Index('ix_allocations_host_window', 'compute_host_id', 'start_date', 'end_date'),
        sa.Index('ix_allocations_reservation', 'reservation_id'),
        sa.Index('ix_allocations_window', 'end_date', 'start_date'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    compute_host_id = sa.Column(sa.Integer, sa.ForeignKey('computehosts.id'), nullable=False)
    reservation_id = sa.Column(sa.String(36),
                               sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                               nullable=False)
    start_date = sa.Column(sa.DateTime, nullable=False)
    end_date = sa.Column(sa.DateTime, nullable=False)
    # Instances of the reservation this host takes (1 for a whole host).
    slots = sa.Column(sa.Integer, nullable=False, default=1, server_default='1')


class FloatingIP(TimestampMixin, Base):
    """An address of an external Neutron network that leases may reserve.

    The four floating-IP tables keep upstream Blazar's names and columns,
    so that an upstream database's rows carry over as they are
    (blazar/db/migration/upstream.py, revision 0008)."""
    __tablename__ = 'floatingips'
    __table_args__ = (
        sa.UniqueConstraint('subnet_id', 'floating_ip_address',
                            name='uq_floatingips_subnet_address'),
        sa.Index('ix_floatingips_network', 'floating_network_id'),
    )

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    floating_network_id = sa.Column(sa.String(255), nullable=False)
    subnet_id = sa.Column(sa.String(255), nullable=False)
    floating_ip_address = sa.Column(sa.String(255), nullable=False)
    reservable = sa.Column(sa.Boolean, nullable=False, default=True)


class FloatingIPReservation(TimestampMixin, Base):
    __tablename__ = 'floatingip_reservations'

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    reservation_id = sa.Column(sa.String(36),
                               sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                               nullable=False, unique=True)
    network_id = sa.Column(sa.String(255), nullable=False)
    amount = sa.Column(sa.Integer, nullable=False)

    reservation = orm.relationship('Reservation', back_populates='floatingip_reservation')
    required_fips = orm.relationship(
        'RequiredFloatingIP', lazy='selectin', cascade='all, delete-orphan',
        passive_deletes=True, order_by='RequiredFloatingIP.address')


class RequiredFloatingIP(TimestampMixin, Base):
    """An address a floating-IP reservation must get."""
    __tablename__ = 'required_floatingips'

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    address = sa.Column(sa.String(255), nullable=False)
    floatingip_reservation_id = sa.Column(
        sa.String(36), sa.ForeignKey('floatingip_reservations.id', ondelete='CASCADE'),
        nullable=False)


class FloatingIPAllocation(TimestampMixin, Base):
    """One address held by a reservation, for its lease's window (read
    through the lease: the table keeps upstream's columns)."""
    __tablename__ = 'floatingip_allocations'
    __table_args__ = (
        sa.Index('ix_floatingip_allocations_fip', 'floatingip_id'),
        sa.Index('ix_floatingip_allocations_reservation', 'reservation_id'),
    )

    id = sa.Column(sa.String(36), primary_key=True, default=_uuid)
    floatingip_id = sa.Column(sa.String(36), sa.ForeignKey('floatingips.id'),
                              nullable=False)
    reservation_id = sa.Column(sa.String(36),
                               sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                               nullable=False)


class Preemption(TimestampMixin, Base):
    """A preemptible server in the way of a reservation: noticed ahead of
    the start, then reclaimed (or found gone) at the start."""
    __tablename__ = 'preemptions'
    __table_args__ = (
        sa.UniqueConstraint('reservation_id', 'server_id', name='uq_preemption'),
        sa.Index('ix_preemptions_lease', 'lease_id'),
        sa.Index('ix_preemptions_created_at', 'created_at', 'id'),
        sa.Index('ix_preemptions_project', 'project_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    lease_id = sa.Column(sa.String(36), nullable=False)
    reservation_id = sa.Column(sa.String(36), nullable=False)
    server_id = sa.Column(sa.String(36), nullable=False)
    server_name = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255))
    user_id = sa.Column(sa.String(255))
    host = sa.Column(sa.String(255))
    action = sa.Column(sa.String(16), nullable=False)
    # noticed -> reclaimed | gone | failed
    status = sa.Column(sa.String(16), nullable=False)
    noticed_at = sa.Column(sa.DateTime)
    reclaimed_at = sa.Column(sa.DateTime)
    reason = sa.Column(sa.Text)


class CloudIntent(TimestampMixin, Base):
    """What the cloud must hold for one reservation now, and how far the
    converger got (blazar/manager/converger.py).

    Not tied to the reservation row by a foreign key: a lease deleted
    before its start is gone at once, while its intent lives on until the
    objects made for it are removed."""
    __tablename__ = 'cloud_intents'
    __table_args__ = (
        sa.Index('ix_cloud_intents_due', 'due_at'),
        sa.Index('ix_cloud_intents_lease', 'lease_id'),
    )

    reservation_id = sa.Column(sa.String(36), primary_key=True)
    lease_id = sa.Column(sa.String(36), nullable=False)
    resource_type = sa.Column(sa.String(66), nullable=False)
    # reserved | active | absent
    phase = sa.Column(sa.String(16), nullable=False)
    # JSON: the plugin's description of the objects and members wanted.
    spec = sa.Column(sa.Text, nullable=False)
    # Bumped by every change of phase or spec; the cloud matches the intent
    # once converged_generation == generation.
    generation = sa.Column(sa.Integer, nullable=False, default=1)
    converged_generation = sa.Column(sa.Integer, nullable=False, default=0)
    # JSON: keys of the steps done at this generation, and the facts they
    # recorded (what was really made or handed over).
    progress = sa.Column(sa.Text, nullable=False, default='[]')
    observed = sa.Column(sa.Text, nullable=False, default='{}')
    # When the converger should look at it next (NULL: converged, nothing
    # to do until the intent changes or the periodic check comes).
    due_at = sa.Column(sa.DateTime)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    last_error = sa.Column(sa.Text)
    waiting = sa.Column(sa.Text)
    claimed_by = sa.Column(sa.String(255))
    claimed_until = sa.Column(sa.DateTime)
    verified_at = sa.Column(sa.DateTime)
    # When a manager first claimed it (or it was adopted from a store older
    # than intents): until then nothing made for it can be in the cloud.
    touched_at = sa.Column(sa.DateTime)


class CloudOrphan(Base):
    """An object carrying the service's marks that no intent wants, and
    when it was first seen so; removed after the grace period."""
    __tablename__ = 'cloud_orphans'

    kind = sa.Column(sa.String(64), primary_key=True)
    ident = sa.Column(sa.String(255), primary_key=True)
    reservation_id = sa.Column(sa.String(36))
    first_seen = sa.Column(sa.DateTime, nullable=False)
    last_seen = sa.Column(sa.DateTime, nullable=False)


class DeferredCall(TimestampMixin, Base):
    """A call to make after a commit that must survive a restart (the
    enforcement filters' on-end hooks): retried until it succeeds."""
    __tablename__ = 'deferred_calls'
    __table_args__ = (sa.Index('ix_deferred_calls_due', 'due_at'),)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    kind = sa.Column(sa.String(64), nullable=False)
    payload = sa.Column(sa.Text, nullable=False)
    due_at = sa.Column(sa.DateTime, nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    last_error = sa.Column(sa.Text)
    claimed_by = sa.Column(sa.String(255))
    claimed_until = sa.Column(sa.DateTime)


class AllocationLock(Base):
    """A row whose update serialises allocation decisions on every backend."""
    __tablename__ = 'allocation_locks'

    name = sa.Column(sa.String(64), primary_key=True)
    generation = sa.Column(sa.BigInteger, nullable=False, default=0)


class CalendarChange(Base):
    """The hosts whose calendar a transaction changed, stamped with the
    allocation lock generation that transaction committed (its own bump):
    the availability caches catch up on the rows stamped at or after the
    generation they hold (blazar/db/api/calendar.py). A row without a
    host is the pruning mark: older rows were deleted, so a cache holding
    a generation at or before it reloads in full. ``host_row`` False: the
    change touched only what holds the host (allocations), so a cache
    reloads those and keeps the host's row and capabilities."""
    __tablename__ = 'calendar_changes'
    __table_args__ = (
        sa.Index('ix_calendar_changes_generation', 'generation', 'host_id', 'host_row'),
    )

    id = sa.Column(sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
                   primary_key=True, autoincrement=True)
    generation = sa.Column(sa.BigInteger, nullable=False)
    # No foreign key: a removed host's change must outlive it.
    host_id = sa.Column(sa.Integer, nullable=True)
    host_row = sa.Column(sa.Boolean, nullable=False, default=True,
                         server_default=sa.true())


class UsageSpan(Base):
    """Usage's aggregate of the allocations: per reservation and window,
    the host and instance slots held and their VCPUs, memory and disk
    (the host's size for a host reservation, the instance's for an
    instance slot), with the lease and project. Rewritten from the
    allocations in the transaction that changes them
    (blazar/db/api/usage.py), so that usage reads one row per reservation
    window instead of every allocation joined to its reservation, lease,
    host and instance shape."""
    __tablename__ = 'usage_spans'
    __table_args__ = (
        sa.Index('ix_usage_spans_window', 'end_date', 'start_date'),
        sa.Index('ix_usage_spans_project', 'project_id', 'end_date'),
        sa.Index('ix_usage_spans_reservation', 'reservation_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    reservation_id = sa.Column(sa.String(36),
                               sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                               nullable=False)
    lease_id = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255))
    start_date = sa.Column(sa.DateTime, nullable=False)
    end_date = sa.Column(sa.DateTime, nullable=False)
    host_slots = sa.Column(sa.BigInteger, nullable=False)
    instance_slots = sa.Column(sa.BigInteger, nullable=False)
    vcpus = sa.Column(sa.BigInteger, nullable=False)
    memory_mb = sa.Column(sa.BigInteger, nullable=False)
    disk_gb = sa.Column(sa.BigInteger, nullable=False)


class Trust(TimestampMixin, Base):
    """A Keystone trust the service made that later leases of the same
    owner, project and roles may hold too (blazar/manager/trusts.py): one
    trust per holder instead of one per lease, so that a create behind
    Keystone makes none. A row is dropped, under the allocation lock, when
    its last lease lets the trust go; leases hold trusts by
    ``leases.trust_id`` whether or not a row lists them (an upgraded
    upstream lease has its own, never shared)."""
    __tablename__ = 'trusts'
    __table_args__ = (
        sa.Index('ix_trusts_holder', 'user_id', 'project_id', 'roles_digest'),
    )

    id = sa.Column(sa.String(255), primary_key=True)
    user_id = sa.Column(sa.String(255), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    # sha256 of the sorted role names the trust delegates.
    roles_digest = sa.Column(sa.String(64), nullable=False)
