"""Host health, maintenance and healing (blazar/manager/monitors.py,
healing.py; blazar/plugins/hosts/health.py).

Callers changing health hold the allocation lock: health decides which hosts
allocations may use, and the change moves the lock's generation (the
calendar cache key)."""
import datetime

import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.calendar import calendar_touch
from blazar.db.api.core import _reader
from blazar.db.api.core import transaction

__all__ = [
    'MAINTENANCE_END',
    'HEALABLE_STATUSES',
    'host_health_list',
    'hosts_mark_failed',
    'hosts_mark_recovered',
    'host_set_maintenance',
    'host_clear_maintenance',
    'hosts_begin_due_maintenance',
    'next_maintenance_start',
    'maintenance_busy',
    'busy_with_maintenance',
    'lost_hosts',
    'allocations_on_hosts',
    'reservations_missing_resources',
]


MAINTENANCE_END = datetime.datetime(9000, 1, 1)


HEALABLE_STATUSES = ('pending', 'active')


def _reservable_unless_failed(host, now):
    """SQL: a host is reservable when its maintenance is not in force."""
    return sa.or_(host.maintenance_start.is_(None), host.maintenance_start > now)


def host_health_list(context, host_ids=None):
    """Id, names and health fields of the hosts (all, or ``host_ids``), in
    one query."""
    with _reader(context) as session:
        host = models.ComputeHost
        query = sa.select(host.id, host.hypervisor_hostname, host.service_name,
                          host.reservable, host.failure_reason,
                          host.maintenance_start, host.maintenance_reason
                          ).order_by(host.id)
        if host_ids is not None:
            query = query.where(host.id.in_(list(host_ids)))
        return [dict(row._mapping) for row in session.execute(query)]


def hosts_mark_failed(context, reasons, now):
    """Record failures ``{host id: reason}``; return the ids that were
    healthy (the transitions). A host already failed keeps failing with the
    new reason. Two statements whatever the number of hosts."""
    if not reasons:
        return []
    with transaction(context) as session:
        table = models.ComputeHost.__table__
        current = dict(session.execute(
            sa.select(table.c.id, table.c.failure_reason)
            .where(table.c.id.in_(list(reasons)))).all())
        changes = [{'b_id': host_id, 'b_reason': reason}
                   for host_id, reason in sorted(reasons.items())
                   if host_id in current and current[host_id] != reason]
        if changes:
            calendar_touch(context, host_ids=[c['b_id'] for c in changes])
            session.execute(
                sa.update(table).where(table.c.id == sa.bindparam('b_id'))
                .values(failure_reason=sa.bindparam('b_reason'), reservable=False,
                        updated_at=now), changes)
        return sorted(h for h in reasons if h in current and current[h] is None)


def hosts_mark_recovered(context, host_ids, now):
    """Clear the failure of ``host_ids``; return those that had one. A host
    in maintenance stays unreservable."""
    if not host_ids:
        return []
    with transaction(context) as session:
        host = models.ComputeHost
        failed = sorted(session.scalars(
            sa.select(host.id).where(host.id.in_(list(host_ids)),
                                     host.failure_reason.isnot(None))))
        if failed:
            calendar_touch(context, host_ids=failed)
            session.execute(
                sa.update(host).where(host.id.in_(failed))
                .values(failure_reason=None, updated_at=now,
                        reservable=_reservable_unless_failed(host, now))
                .execution_options(synchronize_session=False))
        return failed


def host_set_maintenance(context, host_id, start, reason, now):
    """Put a host in maintenance from ``start`` (replacing any earlier
    one); it is unreservable once ``start`` has come."""
    with transaction(context) as session:
        host = models.ComputeHost
        calendar_touch(context, host_ids=[host_id])
        session.execute(
            sa.update(host).where(host.id == host_id)
            .values(maintenance_start=start, maintenance_reason=reason,
                    updated_at=now,
                    reservable=sa.and_(host.failure_reason.is_(None), start > now))
            .execution_options(synchronize_session=False))


def host_clear_maintenance(context, host_id, now):
    """End a host's maintenance; return whether it had one."""
    with transaction(context) as session:
        host = models.ComputeHost
        cleared = session.execute(
            sa.update(host).where(host.id == host_id,
                                  host.maintenance_start.isnot(None))
            .values(maintenance_start=None, maintenance_reason=None,
                    updated_at=now, reservable=host.failure_reason.is_(None))
            .execution_options(synchronize_session=False)).rowcount == 1
        if cleared:
            calendar_touch(context, host_ids=[host_id])
        return cleared


def hosts_begin_due_maintenance(context, now):
    """Make hosts whose maintenance has come unreservable; return them."""
    with transaction(context) as session:
        host = models.ComputeHost
        due = sorted(session.scalars(sa.select(host.id).where(
            host.maintenance_start <= now, host.reservable.is_(True))))
        if due:
            calendar_touch(context, host_ids=due)
            session.execute(sa.update(host).where(host.id.in_(due))
                            .values(reservable=False, updated_at=now)
                            .execution_options(synchronize_session=False))
        return due


def next_maintenance_start(context, now):
    """The earliest maintenance start after ``now``, or None."""
    with _reader(context) as session:
        host = models.ComputeHost
        return session.scalar(sa.select(sa.func.min(host.maintenance_start))
                              .where(host.maintenance_start > now))


def maintenance_busy(context):
    """``{host id: [(maintenance start, MAINTENANCE_END)]}``: maintenance as
    busy time, so that no allocation reaches into it (one query)."""
    with _reader(context) as session:
        host = models.ComputeHost
        return {host_id: [(start, MAINTENANCE_END)] for host_id, start in
                session.execute(sa.select(host.id, host.maintenance_start)
                                .where(host.maintenance_start.isnot(None)))}


def busy_with_maintenance(context, ends_after, exclude_reservation_id=None,
                          host_ids=None):
    """:func:`busy_by_host` plus :func:`maintenance_busy`, in one statement
    (a UNION ALL): what lease creation and availability treat as taken.
    ``host_ids``: of those hosts only (ix_allocations_host_window and the
    primary key; the availability caches' delta)."""
    with _reader(context) as session:
        alloc, host = models.HostAllocation, models.ComputeHost
        allocations = (sa.select(alloc.compute_host_id.label('host_id'),
                                 alloc.start_date.label('start'),
                                 alloc.end_date.label('end'))
                       .where(alloc.end_date > ends_after))
        if exclude_reservation_id is not None:
            allocations = allocations.where(
                alloc.reservation_id != exclude_reservation_id)
        # A maintenance row ends NULL (allocations never do): MAINTENANCE_END
        # is put in here, a datetime parameter in a union being typed
        # differently by each backend.
        maintenance = (sa.select(host.id, host.maintenance_start, sa.null())
                       .where(host.maintenance_start.isnot(None)))
        if host_ids is not None:
            ids = sorted(set(host_ids))
            allocations = allocations.where(alloc.compute_host_id.in_(ids))
            maintenance = maintenance.where(host.id.in_(ids))
        busy = {}
        for host_id, start, end in session.execute(
                sa.union_all(allocations, maintenance)):
            busy.setdefault(host_id, []).append((start, end or MAINTENANCE_END))
        return busy


def lost_hosts(context):
    """Hosts failed or with a maintenance (in force or to come), with their
    health fields (one query)."""
    with _reader(context) as session:
        host = models.ComputeHost
        query = (sa.select(host.id, host.reservable, host.failure_reason,
                           host.maintenance_start)
                 .where(sa.or_(host.failure_reason.isnot(None),
                               host.maintenance_start.isnot(None)))
                 .order_by(host.id))
        return [dict(row._mapping) for row in session.execute(query)]


def allocations_on_hosts(context, host_ids, ends_after):
    """Allocations on ``host_ids`` ending after ``ends_after`` of pending or
    active reservations, with their lease and resource type (one query)."""
    if not host_ids:
        return []
    with _reader(context) as session:
        alloc, res = models.HostAllocation, models.Reservation
        query = (sa.select(alloc.reservation_id, alloc.compute_host_id,
                           alloc.start_date, alloc.end_date, res.lease_id,
                           res.resource_type, res.status)
                 .join(res, res.id == alloc.reservation_id)
                 .where(alloc.compute_host_id.in_(list(host_ids)),
                        alloc.end_date > ends_after,
                        res.status.in_(HEALABLE_STATUSES))
                 .order_by(alloc.start_date, alloc.reservation_id))
        return [dict(row._mapping) for row in session.execute(query)]


def reservations_missing_resources(context):
    """``[(reservation id, lease id)]`` of pending or active reservations
    flagged ``missing_resources`` (one query)."""
    with _reader(context) as session:
        res = models.Reservation
        return [tuple(row) for row in session.execute(
            sa.select(res.id, res.lease_id)
            .where(res.missing_resources.is_(True),
                   res.status.in_(HEALABLE_STATUSES))
            .order_by(res.created_at, res.id))]
