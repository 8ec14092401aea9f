"""Who holds which host when: allocation rows, the calendar, instance slots.

Allocations carry their reservation's window, so that every time-window
question is one range scan of an allocation index."""
from oslo_utils import timeutils
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.calendar import calendar_touch_holdings
from blazar.db.api.core import _reader
from blazar.db.api.core import transaction
from blazar.db.api.usage import usage_spans_refresh

__all__ = [
    'allocation_list',
    'ALLOCATION_WINDOW',
    'busy_by_host',
    'reservation_host_ids',
    'reservation_service_names',
    'allocations_create',
    'allocations_delete',
    'allocations_set_window',
    'calendar_rows',
    'slot_holdings',
    'reservation_slots',
    'reservation_slots_set',
]


ALLOCATION_WINDOW = ('start_before', 'start_after', 'end_before', 'end_after')


def allocation_list(context, host_ids=None, reservation_id=None, lease_id=None,
                    ends_after=None, window=None):
    """Allocations with their lease, in one query. ``window``: allocations
    starting before/after, ending before/after given datetimes (``*_after``
    inclusive, ``*_before`` exclusive)."""
    with _reader(context) as session:
        alloc = models.HostAllocation
        query = (sa.select(alloc.id, alloc.compute_host_id, alloc.reservation_id,
                           alloc.start_date, alloc.end_date,
                           models.Reservation.lease_id)
                 .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
                 .order_by(alloc.compute_host_id, alloc.start_date, alloc.id))
        if host_ids is not None:
            query = query.where(alloc.compute_host_id.in_(host_ids))
        if reservation_id is not None:
            query = query.where(alloc.reservation_id == reservation_id)
        if lease_id is not None:
            query = query.where(models.Reservation.lease_id == lease_id)
        if ends_after is not None:
            query = query.where(alloc.end_date >= ends_after)
        for key, value in (window or {}).items():
            if value is not None:
                column = alloc.start_date if key.startswith('start') else alloc.end_date
                query = query.where(column < value if key.endswith('before')
                                    else column >= value)
        result = session.execute(query)
        keys = tuple(result.keys())  # once, not per row
        return [dict(zip(keys, row)) for row in result]


def busy_by_host(context, ends_after, exclude_reservation_id=None):
    """{host id: [(start, end), ...]} of every allocation still running or to
    come after ``ends_after``, of any reservation type: one indexed scan."""
    with _reader(context) as session:
        alloc = models.HostAllocation
        query = (sa.select(alloc.compute_host_id, alloc.start_date, alloc.end_date)
                 .where(alloc.end_date > ends_after))
        if exclude_reservation_id is not None:
            query = query.where(alloc.reservation_id != exclude_reservation_id)
        busy = {}
        for host_id, start, end in session.execute(query):
            busy.setdefault(host_id, []).append((start, end))
        return busy


def reservation_host_ids(context, reservation_id):
    """Hosts of a reservation, once per allocation row, in allocation order."""
    with _reader(context) as session:
        return list(session.scalars(
            sa.select(models.HostAllocation.compute_host_id)
            .where(models.HostAllocation.reservation_id == reservation_id)
            .order_by(models.HostAllocation.id)))


def reservation_service_names(context, reservation_id):
    """Nova service names of a reservation's hosts (what its intent names),
    in one join."""
    with _reader(context) as session:
        return list(session.scalars(
            sa.select(models.ComputeHost.service_name)
            .join(models.HostAllocation,
                  models.HostAllocation.compute_host_id == models.ComputeHost.id)
            .where(models.HostAllocation.reservation_id == reservation_id)
            .order_by(models.HostAllocation.id)))


def allocations_create(context, reservation_id, host_ids, start, end, new=False):
    """Four statements (the rows, the calendar change, the usage spans),
    whatever the number of hosts; three for a reservation made in this
    transaction (``new``: it has no usage spans to replace)."""
    if not host_ids:
        return
    with transaction(context) as session:
        session.execute(sa.insert(models.HostAllocation), [
            {'reservation_id': reservation_id, 'compute_host_id': host_id,
             'start_date': start, 'end_date': end} for host_id in host_ids])
        calendar_touch_holdings(context, host_ids=host_ids)
        usage_spans_refresh(context, [reservation_id], new=new)


def allocations_delete(context, reservation_id, host_ids=None):
    with transaction(context) as session:
        if host_ids is not None:
            calendar_touch_holdings(context, host_ids=host_ids)
        else:
            calendar_touch_holdings(context, reservation_id=reservation_id)
        query = sa.delete(models.HostAllocation).where(
            models.HostAllocation.reservation_id == reservation_id)
        if host_ids is not None:
            query = query.where(models.HostAllocation.compute_host_id.in_(list(host_ids)))
        session.execute(query)
        usage_spans_refresh(context, [reservation_id])


def allocations_set_window(context, reservation_id, start, end):
    """Keep a reservation's allocations in step with its lease dates."""
    with transaction(context) as session:
        calendar_touch_holdings(context, reservation_id=reservation_id)
        session.execute(sa.update(models.HostAllocation)
                        .where(models.HostAllocation.reservation_id == reservation_id)
                        .values(start_date=start, end_date=end,
                                updated_at=timeutils.utcnow()))
        usage_spans_refresh(context, [reservation_id])


def calendar_rows(context, ends_after, starts_before, host_ids=None):
    """Allocations overlapping ``(ends_after, starts_before)`` (of
    ``host_ids`` only when given), with their reservation, lease and
    project: one range scan of ix_allocations_window (ix_allocations_host_
    window for some hosts) joined on primary keys, ordered by host and
    start."""
    with _reader(context) as session:
        alloc = models.HostAllocation
        query = (sa.select(alloc.compute_host_id, alloc.start_date, alloc.end_date,
                           alloc.reservation_id, alloc.slots,
                           models.Reservation.lease_id,
                           models.Reservation.resource_type,
                           models.Lease.project_id)
                 .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
                 .join(models.Lease, models.Lease.id == models.Reservation.lease_id)
                 .where(alloc.end_date > ends_after, alloc.start_date < starts_before)
                 .order_by(alloc.compute_host_id, alloc.start_date, alloc.id))
        if host_ids is not None:
            query = query.where(alloc.compute_host_id.in_(host_ids))
        return [dict(row._mapping) for row in session.execute(query)]


def slot_holdings(context, ends_after, exclude_reservation_id=None, host_ids=None):
    """Everything that holds host resources after ``ends_after``, per host:
    ``{host id: [(start, end, instance reservation row or None, slots)]}``
    (None: a whole-host reservation). One range scan of the allocation
    window index joined on primary keys (of ix_allocations_host_window
    for ``host_ids`` only)."""
    with _reader(context) as session:
        alloc, inst = models.HostAllocation, models.InstanceReservation
        query = (sa.select(alloc.compute_host_id, alloc.start_date, alloc.end_date,
                           alloc.slots, alloc.reservation_id, inst.resources,
                           inst.vcpus, inst.memory_mb, inst.disk_gb)
                 .outerjoin(inst, inst.reservation_id == alloc.reservation_id)
                 .where(alloc.end_date > ends_after))
        if exclude_reservation_id is not None:
            query = query.where(alloc.reservation_id != exclude_reservation_id)
        if host_ids is not None:
            query = query.where(alloc.compute_host_id.in_(sorted(set(host_ids))))
        held = {}
        for row in session.execute(query):
            per_instance = None
            if row.vcpus is not None:
                per_instance = {'resources': row.resources, 'vcpus': row.vcpus,
                                'memory_mb': row.memory_mb, 'disk_gb': row.disk_gb,
                                'reservation_id': row.reservation_id}
            held.setdefault(row.compute_host_id, []).append(
                (row.start_date, row.end_date, per_instance, row.slots))
        return held


def reservation_slots(context, reservation_id):
    """``{host id: slots}`` a reservation holds."""
    with _reader(context) as session:
        alloc = models.HostAllocation
        rows = session.execute(
            sa.select(alloc.compute_host_id, sa.func.sum(alloc.slots))
            .where(alloc.reservation_id == reservation_id)
            .group_by(alloc.compute_host_id))
        return {host_id: int(n) for host_id, n in rows}


def reservation_slots_set(context, reservation_id, slots, start, end, new=False):
    """Make a reservation hold exactly ``slots`` (``{host id: n}``) from
    ``start`` to ``end``: one allocation row per host. A reservation made
    in this transaction (``new``) has no allocation or usage span to
    replace: nothing is deleted first."""
    held = [host_id for host_id, n in sorted(slots.items()) if n > 0]
    with transaction(context) as session:
        alloc = models.HostAllocation
        if new:
            calendar_touch_holdings(context, host_ids=held)
        else:
            calendar_touch_holdings(context, host_ids=held, reservation_id=reservation_id)
            session.execute(sa.delete(alloc).where(alloc.reservation_id == reservation_id))
        session.add_all([alloc(reservation_id=reservation_id, compute_host_id=host_id,
                               slots=slots[host_id], start_date=start, end_date=end)
                         for host_id in held])
        session.flush()
        usage_spans_refresh(context, [reservation_id], new=new)
