"""Reserved time per project, summed by the database (usage, enforcement).

Usage reads an aggregate, ``usage_spans``: one row per reservation and
allocation window, with the host and instance slots held and their VCPUs,
memory and disk. Every store function that changes allocations (or what
their weight depends on: an instance reservation's shape, a host's size)
rewrites the spans of the reservations it touched in the same transaction
(:func:`usage_spans_refresh`, two set-based statements), so usage sums one
row per reservation window overlapping the period, without joins, instead
of every allocation joined to its reservation, lease, host and shape. The
answer is the same sum: a span's held time is its window clipped to the
period (to the second, edges included), times its slots and weights.
"""
import sqlalchemy as sa
from sqlalchemy.ext import compiler as sa_compiler

from blazar.db import models
from blazar.db.api.core import _reader
from blazar.db.api.core import transaction

__all__ = [
    'usage_totals',
    'usage_totals_scan',
    'usage_spans_refresh',
    'usage_spans_rebuild',
    'usage_lease_ids',
    'floatingip_usage_totals',
    'lease_allocated_hosts',
    'lease_allocated_floatingips',
    'project_usage',
]


class _Seconds(sa.sql.expression.FunctionElement):
    """Seconds from the first datetime argument to the second, in SQL."""
    type = sa.Float()
    name = 'seconds_between'
    inherit_cache = True


@sa_compiler.compiles(_Seconds)
def _seconds_sqlite(element, compiler, **kw):
    first, second = [compiler.process(c, **kw) for c in element.clauses]
    # julianday() is a float: round to whole seconds (dates have no less).
    return 'ROUND((julianday(%s) - julianday(%s)) * 86400.0)' % (second, first)


@sa_compiler.compiles(_Seconds, 'mysql')
def _seconds_mysql(element, compiler, **kw):
    first, second = [compiler.process(c, **kw) for c in element.clauses]
    return 'TIMESTAMPDIFF(SECOND, %s, %s)' % (first, second)


@sa_compiler.compiles(_Seconds, 'postgresql')
def _seconds_postgresql(element, compiler, **kw):
    first, second = [compiler.process(c, **kw) for c in element.clauses]
    return 'EXTRACT(EPOCH FROM (%s - %s))' % (second, first)


def _spans_of(reservation_ids):
    """SELECT of the spans of some reservations, from their allocations
    (ix_allocations_reservation, primary-key joins)."""
    alloc, host = models.HostAllocation, models.ComputeHost
    inst, res, lease = models.InstanceReservation, models.Reservation, models.Lease
    instance = inst.id.isnot(None)
    return (sa.select(alloc.reservation_id, res.lease_id, lease.project_id,
                      alloc.start_date, alloc.end_date,
                      sa.func.sum(sa.case((instance, 0), else_=alloc.slots)),
                      sa.func.sum(sa.case((instance, alloc.slots), else_=0)),
                      sa.func.sum(alloc.slots * sa.func.coalesce(inst.vcpus, host.vcpus)),
                      sa.func.sum(alloc.slots * sa.func.coalesce(inst.memory_mb,
                                                                 host.memory_mb)),
                      sa.func.sum(alloc.slots * sa.func.coalesce(inst.disk_gb,
                                                                 host.local_gb)))
            .join(res, res.id == alloc.reservation_id)
            .join(lease, lease.id == res.lease_id)
            .join(host, host.id == alloc.compute_host_id)
            .outerjoin(inst, inst.reservation_id == alloc.reservation_id)
            .where(alloc.reservation_id.in_(reservation_ids))
            .group_by(alloc.reservation_id, res.lease_id, lease.project_id,
                      alloc.start_date, alloc.end_date))


SPAN_COLUMNS = ('reservation_id', 'lease_id', 'project_id', 'start_date', 'end_date',
                'host_slots', 'instance_slots', 'vcpus', 'memory_mb', 'disk_gb')


def usage_spans_refresh(context, reservation_ids=None, host_id=None,
                        instance_reservation_id=None, new=False):
    """Rewrite the usage spans of reservations from their allocations, in
    the caller's transaction: of ``reservation_ids``, of the reservations
    holding ``host_id`` (call it before removing the host's allocations: it
    returns their ids, to refresh again afterwards), or of the reservation
    of an instance reservation row. Two statements (three for a host),
    whatever the number of allocations; one for ``new`` reservations (made
    in this transaction: no span of theirs to delete). Returns the
    reservation ids (a list) or the SELECT of them."""
    with transaction(context) as session:
        if host_id is not None:
            alloc = models.HostAllocation
            reservation_ids = list(session.scalars(
                sa.select(alloc.reservation_id).distinct()
                .where(alloc.compute_host_id == host_id)))
        elif instance_reservation_id is not None:
            inst = models.InstanceReservation
            reservation_ids = (sa.select(inst.reservation_id)
                               .where(inst.id == instance_reservation_id)
                               .scalar_subquery())
        elif reservation_ids is not None and not isinstance(reservation_ids, list):
            reservation_ids = list(reservation_ids)
        if isinstance(reservation_ids, list) and not reservation_ids:
            return []
        span = models.UsageSpan
        if not new:
            session.execute(sa.delete(span).where(span.reservation_id.in_(reservation_ids))
                            .execution_options(synchronize_session=False))
        session.execute(sa.insert(span).from_select(SPAN_COLUMNS,
                                                    _spans_of(reservation_ids)))
        return reservation_ids


def usage_spans_rebuild(context):
    """Rewrite every usage span from the allocations (two statements): for
    rows written around the store functions (the benchmarks' bulk seeds)."""
    with transaction(context) as session:
        session.execute(sa.delete(models.UsageSpan))
        session.execute(sa.insert(models.UsageSpan).from_select(
            SPAN_COLUMNS, _spans_of(sa.select(models.HostAllocation.reservation_id))))


def usage_totals(context, start, end, project_id=None):
    """Reserved time per project within ``[start, end)``, summed by the
    database in one statement over the usage spans overlapping it (range
    scan of ix_usage_spans_window, or ix_usage_spans_project for one
    project; no join): per project, the seconds hosts are held by host
    reservations and instance slots by instance reservations, the held
    seconds weighted by VCPUs, memory MB and disk GB (the host's size for a
    host reservation, the instance size for an instance slot), and the
    number of leases and reservations."""
    with _reader(context) as session:
        span = models.UsageSpan
        lo = sa.literal(start, sa.DateTime)
        hi = sa.literal(end, sa.DateTime)
        held = _Seconds(sa.case((span.start_date > lo, span.start_date), else_=lo),
                        sa.case((span.end_date < hi, span.end_date), else_=hi))
        query = (sa.select(span.project_id,
                           sa.func.sum(held * span.host_slots).label('host_seconds'),
                           sa.func.sum(held * span.instance_slots)
                           .label('instance_seconds'),
                           sa.func.sum(held * span.vcpus).label('vcpu_seconds'),
                           sa.func.sum(held * span.memory_mb).label('memory_mb_seconds'),
                           sa.func.sum(held * span.disk_gb).label('disk_gb_seconds'),
                           sa.func.count(sa.distinct(span.lease_id)).label('leases'),
                           sa.func.count(sa.distinct(span.reservation_id))
                           .label('reservations'))
                 .where(span.end_date > start, span.start_date < end)
                 .group_by(span.project_id)
                 .order_by(span.project_id))
        if project_id is not None:
            query = query.where(span.project_id == project_id)
        return _totals(session.execute(query))


def _totals(rows):
    return [{'project_id': row.project_id,
             'host_seconds': float(row.host_seconds or 0),
             'instance_seconds': float(row.instance_seconds or 0),
             'vcpu_seconds': float(row.vcpu_seconds or 0),
             'memory_mb_seconds': float(row.memory_mb_seconds or 0),
             'disk_gb_seconds': float(row.disk_gb_seconds or 0),
             'leases': int(row.leases), 'reservations': int(row.reservations)}
            for row in rows]


def usage_totals_scan(context, start, end, project_id=None):
    """:func:`usage_totals` from the allocations themselves (what the
    spans aggregate; the tests compare both): reserved time per project
    within ``[start, end)``, summed by the database in one statement
    (range scan of ix_allocations_window, primary-key joins)."""
    with _reader(context) as session:
        alloc, host = models.HostAllocation, models.ComputeHost
        inst = models.InstanceReservation
        lo = sa.literal(start, sa.DateTime)
        hi = sa.literal(end, sa.DateTime)
        # Seconds held, times the instances (slots) of the row.
        held = _Seconds(sa.case((alloc.start_date > lo, alloc.start_date), else_=lo),
                        sa.case((alloc.end_date < hi, alloc.end_date), else_=hi)
                        ) * alloc.slots
        instance = inst.id.isnot(None)
        query = (sa.select(models.Lease.project_id,
                           sa.func.sum(sa.case((instance, 0), else_=held))
                           .label('host_seconds'),
                           sa.func.sum(sa.case((instance, held), else_=0))
                           .label('instance_seconds'),
                           sa.func.sum(held * sa.func.coalesce(inst.vcpus, host.vcpus))
                           .label('vcpu_seconds'),
                           sa.func.sum(held * sa.func.coalesce(inst.memory_mb,
                                                               host.memory_mb))
                           .label('memory_mb_seconds'),
                           sa.func.sum(held * sa.func.coalesce(inst.disk_gb,
                                                               host.local_gb))
                           .label('disk_gb_seconds'),
                           sa.func.count(sa.distinct(models.Reservation.lease_id))
                           .label('leases'),
                           sa.func.count(sa.distinct(alloc.reservation_id))
                           .label('reservations'))
                 .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
                 .join(models.Lease, models.Lease.id == models.Reservation.lease_id)
                 .join(host, host.id == alloc.compute_host_id)
                 .outerjoin(inst, inst.reservation_id == alloc.reservation_id)
                 .where(alloc.end_date > start, alloc.start_date < end)
                 .group_by(models.Lease.project_id)
                 .order_by(models.Lease.project_id))
        if project_id is not None:
            query = query.where(models.Lease.project_id == project_id)
        return _totals(session.execute(query))


def usage_lease_ids(context, start, end, project_id=None):
    """{project: {lease ids}} of the host and instance allocations within
    ``[start, end)`` (to count leases once beside floating IPs)."""
    with _reader(context) as session:
        span = models.UsageSpan
        query = (sa.select(span.project_id, span.lease_id).distinct()
                 .where(span.end_date > start, span.start_date < end))
        if project_id is not None:
            query = query.where(span.project_id == project_id)
        found = {}
        for row in session.execute(query):
            found.setdefault(row.project_id, set()).add(row.lease_id)
        return found


def floatingip_usage_totals(context, start, end, project_id=None):
    """Per project: the seconds floating IPs are held within ``[start,
    end)`` (each address for its lease's window), and the leases and
    reservations holding them: {project: {seconds, lease_ids, reservations}}."""
    with _reader(context) as session:
        alloc, lease = models.FloatingIPAllocation, models.Lease
        lo = sa.literal(start, sa.DateTime)
        hi = sa.literal(end, sa.DateTime)
        held = _Seconds(sa.case((lease.start_date > lo, lease.start_date), else_=lo),
                        sa.case((lease.end_date < hi, lease.end_date), else_=hi))
        query = (sa.select(lease.project_id, lease.id, alloc.reservation_id,
                           sa.func.sum(held).label('seconds'))
                 .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
                 .join(lease, lease.id == models.Reservation.lease_id)
                 .where(lease.end_date > start, lease.start_date < end)
                 .group_by(lease.project_id, lease.id, alloc.reservation_id))
        if project_id is not None:
            query = query.where(lease.project_id == project_id)
        found = {}
        for row in session.execute(query):
            entry = found.setdefault(row.project_id, {'seconds': 0.0, 'lease_ids': set(),
                                                      'reservations': set()})
            entry['seconds'] += float(row.seconds or 0)
            entry['lease_ids'].add(row.id)
            entry['reservations'].add(row.reservation_id)
        return found


def lease_allocated_hosts(context, lease_id):
    """The hosts a lease's reservations hold, one row per allocation with the
    host's size, in one query: what enforcement rules judge."""
    with _reader(context) as session:
        alloc, host = models.HostAllocation, models.ComputeHost
        query = (sa.select(alloc.reservation_id, alloc.compute_host_id,
                           alloc.start_date, alloc.end_date,
                           host.hypervisor_hostname, host.service_name,
                           host.vcpus, host.memory_mb, host.local_gb)
                 .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
                 .join(host, host.id == alloc.compute_host_id)
                 .where(models.Reservation.lease_id == lease_id)
                 .order_by(alloc.reservation_id, alloc.id))
        return [dict(row._mapping) for row in session.execute(query)]


def lease_allocated_floatingips(context, lease_id):
    """The addresses a lease's floating-IP reservations hold (one query)."""
    with _reader(context) as session:
        alloc, fip = models.FloatingIPAllocation, models.FloatingIP
        query = (sa.select(alloc.reservation_id, fip.id, fip.floating_ip_address,
                           fip.floating_network_id, fip.subnet_id)
                 .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
                 .join(fip, fip.id == alloc.floatingip_id)
                 .where(models.Reservation.lease_id == lease_id)
                 .order_by(alloc.reservation_id, fip.floating_ip_address))
        return [dict(row._mapping) for row in session.execute(query)]


def project_usage(context, project_id, start, end, exclude_lease_id=None):
    """What a project holds between ``start`` and ``end``, in one statement
    (the allocation time index, and floating IPs through their leases): one
    row per lease and allocation window with ``hosts`` (host reservations
    only), ``vcpus`` and ``memory_mb`` (the host's size for a host
    reservation, the instance size for each slot of an instance
    reservation), and one per lease holding floating IPs with
    ``floatingips``."""
    with _reader(context) as session:
        alloc, host = models.HostAllocation, models.ComputeHost
        res, inst = models.Reservation, models.InstanceReservation
        lease, falloc = models.Lease, models.FloatingIPAllocation
        is_host = sa.case((res.resource_type == 'physical:host', 1), else_=0)
        hosts = (sa.select(res.lease_id.label('lease_id'),
                           alloc.start_date.label('start_date'),
                           alloc.end_date.label('end_date'),
                           sa.func.sum(is_host).label('hosts'),
                           sa.func.sum(sa.func.coalesce(inst.vcpus, host.vcpus)
                                       * alloc.slots).label('vcpus'),
                           sa.func.sum(sa.func.coalesce(inst.memory_mb, host.memory_mb)
                                       * alloc.slots).label('memory_mb'),
                           sa.literal(0).label('floatingips'))
                 .join(res, res.id == alloc.reservation_id)
                 .join(lease, lease.id == res.lease_id)
                 .join(host, host.id == alloc.compute_host_id)
                 .outerjoin(inst, inst.reservation_id == res.id)
                 .where(alloc.end_date > start, alloc.start_date < end,
                        lease.project_id == project_id)
                 .group_by(res.lease_id, alloc.start_date, alloc.end_date))
        fips = (sa.select(lease.id.label('lease_id'), lease.start_date.label('start_date'),
                          lease.end_date.label('end_date'), sa.literal(0).label('hosts'),
                          sa.literal(0).label('vcpus'), sa.literal(0).label('memory_mb'),
                          sa.func.count(falloc.id).label('floatingips'))
                .join(res, res.lease_id == lease.id)
                .join(falloc, falloc.reservation_id == res.id)
                .where(lease.end_date > start, lease.start_date < end,
                       lease.project_id == project_id)
                .group_by(lease.id, lease.start_date, lease.end_date))
        if exclude_lease_id is not None:
            hosts = hosts.where(res.lease_id != exclude_lease_id)
            fips = fips.where(lease.id != exclude_lease_id)
        union = sa.union_all(hosts, fips).subquery()
        query = sa.select(union).order_by(union.c.start_date, union.c.lease_id)
        return [{'lease_id': row.lease_id, 'start_date': row.start_date,
                 'end_date': row.end_date, 'hosts': int(row.hosts or 0),
                 'vcpus': int(row.vcpus or 0), 'memory_mb': int(row.memory_mb or 0),
                 'floatingips': int(row.floatingips or 0)}
                for row in session.execute(query)]
