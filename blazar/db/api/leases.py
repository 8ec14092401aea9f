"""Leases, their reservations and the reservations' plugin rows."""
import sqlalchemy as sa
from sqlalchemy import orm

from blazar.db import models
from blazar.db.api import paging
from blazar.db.api.calendar import calendar_touch_holdings
from blazar.db.api.core import _create
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import _update
from blazar.db.api.core import transaction
from blazar.db.api.usage import usage_spans_refresh

__all__ = [
    'lease_create',
    'lease_get',
    'lease_reservations',
    'lease_list',
    'LEASE_FILTERS',
    'LEASE_SORT_KEYS',
    'lease_update',
    'lease_destroy',
    'lease_clear_reason',
    'reservation_create',
    'reservation_get',
    'reservation_update',
    'host_reservation_create',
    'host_reservation_update',
    'host_reservation_remember',
    'instance_reservation_create',
    'instance_reservation_update',
    'instance_reservation_remember',
    'leases_still_holding',
    'reservations_holding_host',
]


def _reservation_dict(res):
    d = _row(res)
    d['host_reservation'] = _row(res.host_reservation) if res.host_reservation else None
    d['instance_reservation'] = (_row(res.instance_reservation)
                                 if res.instance_reservation else None)
    fip = res.floatingip_reservation
    d['floatingip_reservation'] = None
    if fip is not None:
        d['floatingip_reservation'] = dict(
            _row(fip), required_floatingips=[r.address for r in fip.required_fips])
    return d


def lease_create(context, values):
    return _create(context, models.Lease, values)


# The plugin row each reservation may have, by its key in a reservation
# dict: read in the reservations' own statement (LEFT JOINs on the rows'
# unique reservation_id).
_PLUGIN_TABLES = (
    ('host_reservation', models.HostReservation.__table__),
    ('instance_reservation', models.InstanceReservation.__table__),
    ('floatingip_reservation', models.FloatingIPReservation.__table__),
)


def _joined_row(mapping, table):
    """The columns of ``table`` in a joined row, or None when the outer
    join found no row of it."""
    if mapping[table.c.id] is None:
        return None
    return {column.name: mapping[column] for column in table.c}


def _required_floatingips(session, fip_rows):
    if not fip_rows:
        return
    req_t = models.RequiredFloatingIP.__table__
    for row in session.execute(sa.select(req_t).where(
            req_t.c.floatingip_reservation_id.in_(list(fip_rows)))
            .order_by(req_t.c.address)):
        fip_rows[row.floatingip_reservation_id]['required_floatingips'].append(
            row.address)


def _reservations_of(session, lease_ids):
    """Reservations of the leases (ids, or a subquery giving them), in
    creation order, each with its plugin row: one statement (and one more
    for the addresses floating IP reservations ask for, if any has one)."""
    res_t = models.Reservation.__table__
    joined, columns = res_t, [res_t]
    for _key, table in _PLUGIN_TABLES:
        joined = joined.outerjoin(table, table.c.reservation_id == res_t.c.id)
        columns.append(table)
    query = (sa.select(*columns).select_from(joined)
             .where(res_t.c.lease_id.in_(lease_ids))
             .order_by(res_t.c.created_at, res_t.c.id)
             .set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL))
    reservations, fip_rows = [], {}
    for row in session.execute(query):
        mapping = row._mapping
        reservation = {column.name: mapping[column] for column in res_t.c}
        for key, table in _PLUGIN_TABLES:
            reservation[key] = _joined_row(mapping, table)
        fip = reservation['floatingip_reservation']
        if fip is not None:
            fip['required_floatingips'] = []
            fip_rows[fip['id']] = fip
        reservations.append(reservation)
    _required_floatingips(session, fip_rows)
    return reservations


def lease_reservations(context, lease_id):
    """A lease's reservations with their plugin rows, without the lease and
    its events (what a change under the lock needs to write intents)."""
    with _reader(context) as session:
        return _reservations_of(session, [lease_id])


def _leases_where(session, condition, page=None, scope=None):
    """Leases matching ``condition`` with their reservations (and plugin
    rows) and events: three plain selects whatever the number of leases (a
    marker adds one, floating IP reservations' addresses one). ``page``: a
    :class:`paging.Page` (ordered, cut after its marker and to its limit);
    without it every lease in creation order."""
    lease_t = models.Lease.__table__
    query = sa.select(lease_t).where(condition)
    if page is not None:
        query = paging.apply(session, query, lease_t.c.id,
                             lease_t.c[SORT_KEYS[page.sort_key]], page, scope)
    else:
        query = query.order_by(lease_t.c.created_at, lease_t.c.id)
    result = session.execute(query)
    keys = tuple(result.keys())  # once, not per row
    leases = [dict(zip(keys, row)) for row in result]
    if not leases:
        return []
    if page is not None and (page.limit is not None or page.marker is not None):
        lease_ids = [lease['id'] for lease in leases]  # a page: bounded by its limit
    else:
        lease_ids = sa.select(lease_t.c.id).where(condition).scalar_subquery()
    by_lease = {lease['id']: dict(lease, reservations=[], events=[]) for lease in leases}
    for reservation in _reservations_of(session, lease_ids):
        by_lease[reservation['lease_id']]['reservations'].append(reservation)
    event_t = models.Event.__table__
    for row in session.execute(sa.select(event_t).where(event_t.c.lease_id.in_(lease_ids))
                               .order_by(event_t.c.time, event_t.c.id)):
        by_lease[row.lease_id]['events'].append(dict(row._mapping))
    return list(by_lease.values())


# Sort keys of a lease list (API name: column); each is NOT NULL and has an
# index whose columns start with it (models.Lease).
SORT_KEYS = {'created_at': 'created_at', 'id': 'id', 'name': 'name',
             'start_date': 'start_date', 'end_date': 'end_date', 'status': 'status'}
# Filters of a lease list: name -> condition maker.
_FILTERS = {
    'status': lambda v: models.Lease.status == v,
    'name': lambda v: models.Lease.name == v,
    'start_before': lambda v: models.Lease.start_date < v,
    'start_after': lambda v: models.Lease.start_date >= v,
    'end_before': lambda v: models.Lease.end_date < v,
    'end_after': lambda v: models.Lease.end_date >= v,
}
LEASE_FILTERS = tuple(_FILTERS)
LEASE_SORT_KEYS = tuple(SORT_KEYS)

def lease_get(context, lease_id):
    """A lease with its reservations (and their plugin rows) and events, in
    two statements: the lease joined to its events, then its reservations
    (each write reads its lease under the allocation lock)."""
    lease_t, event_t = models.Lease.__table__, models.Event.__table__
    with _reader(context) as session:
        rows = session.execute(
            sa.select(lease_t, event_t)
            .select_from(lease_t.outerjoin(event_t, event_t.c.lease_id == lease_t.c.id))
            .where(lease_t.c.id == lease_id)
            .order_by(event_t.c.time, event_t.c.id)
            .set_label_style(sa.LABEL_STYLE_TABLENAME_PLUS_COL)).all()
        if not rows:
            return None
        lease = {column.name: rows[0]._mapping[column] for column in lease_t.c}
        lease['reservations'] = _reservations_of(session, [lease_id])
        lease['events'] = [event for event in (_joined_row(row._mapping, event_t)
                                               for row in rows) if event is not None]
        return lease


def lease_list(context, project_id=None, filters=None, page=None):
    """Leases (of ``project_id`` when given) matching ``filters`` (see
    ``LEASE_FILTERS``; dates as datetimes), in creation order, or ordered
    and cut as ``page`` (a dict: limit, marker, sort_key, sort_dir) says.
    A marker must be a lease of the project (400 otherwise)."""
    with _reader(context) as session:
        scope = (models.Lease.project_id == project_id if project_id is not None
                 else sa.true())
        condition = sa.and_(scope, *(_FILTERS[key](value)
                                     for key, value in (filters or {}).items()
                                     if value is not None))
        if page is not None:
            page = paging.Page.from_dict(page, 'created_at')
        return _leases_where(session, condition, page=page, scope=scope)


def lease_update(context, lease_id, values):
    return _update(context, models.Lease, lease_id, values)


def lease_clear_reason(context, lease_id, status):
    """Forget why a lease in ``status`` was waiting (one statement)."""
    with transaction(context) as session:
        session.execute(sa.update(models.Lease).where(
            models.Lease.id == lease_id, models.Lease.status == status,
            models.Lease.status_reason.isnot(None)).values(status_reason=None))


def lease_destroy(context, lease_id):
    """Delete a lease in one statement (and one to record the calendar
    change): the database's foreign keys (ON DELETE CASCADE, every
    backend) take its events, reservations, plugin rows, allocations and
    usage spans with it. Intents are kept: an absent intent still has
    cloud objects to remove."""
    with transaction(context) as session:
        # The hosts its allocations hold are recorded before they go.
        calendar_touch_holdings(context, lease_id=lease_id)
        return session.execute(sa.delete(models.Lease).where(
            models.Lease.id == lease_id)).rowcount == 1


def reservation_create(context, values):
    return _create(context, models.Reservation, values)


def reservation_get(context, reservation_id):
    with _reader(context) as session:
        res = session.get(models.Reservation, reservation_id)
        return _reservation_dict(res) if res else None


def reservation_update(context, reservation_id, values):
    return _update(context, models.Reservation, reservation_id, values)


def host_reservation_create(context, values):
    return _create(context, models.HostReservation, values)


def host_reservation_update(context, host_reservation_id, values):
    return _update(context, models.HostReservation, host_reservation_id, values)


def _remember(context, model, reservation_id, values):
    """Set a plugin row's cloud ids in one statement, leaving a row that
    already has them untouched (the converger's commit holds the
    allocation lock: no read first)."""
    with transaction(context) as session:
        unchanged = sa.and_(*(getattr(model, key).is_not_distinct_from(value)
                              for key, value in values.items()))
        session.execute(sa.update(model).where(model.reservation_id == reservation_id,
                                               sa.not_(unchanged)).values(**values))


def host_reservation_remember(context, reservation_id, aggregate_id):
    _remember(context, models.HostReservation, reservation_id,
              {'aggregate_id': aggregate_id})


def instance_reservation_remember(context, reservation_id, aggregate_id, server_group_id):
    _remember(context, models.InstanceReservation, reservation_id,
              {'aggregate_id': aggregate_id, 'server_group_id': server_group_id})


def instance_reservation_create(context, values):
    """Store the row before the reservation's allocations: their usage
    spans weigh instance slots by its shape."""
    return _create(context, models.InstanceReservation, values)


def instance_reservation_update(context, instance_reservation_id, values):
    with transaction(context):
        updated = _update(context, models.InstanceReservation,
                          instance_reservation_id, values)
        if set(values) & {'vcpus', 'memory_mb', 'disk_gb'}:
            usage_spans_refresh(context, instance_reservation_id=instance_reservation_id)
        return updated


def leases_still_holding(context, lease_id):
    """Leases whose end has not yet taken back a host that ``lease_id`` is
    to start on: another lease's active reservation allocated the same host
    for a window that ends no later than ours begins (one query)."""
    ours, theirs = orm.aliased(models.HostAllocation), orm.aliased(models.HostAllocation)
    our_res, their_res = orm.aliased(models.Reservation), orm.aliased(models.Reservation)
    with _reader(context) as session:
        query = (sa.select(their_res.lease_id).distinct()
                 .select_from(our_res)
                 .join(ours, ours.reservation_id == our_res.id)
                 .join(theirs, sa.and_(theirs.compute_host_id == ours.compute_host_id,
                                       theirs.end_date <= ours.start_date))
                 .join(their_res, their_res.id == theirs.reservation_id)
                 .where(our_res.lease_id == lease_id,
                        their_res.lease_id != lease_id,
                        their_res.status == 'active'))
        held = set(session.scalars(query))
        # The same for floating IPs, whose windows are their leases'.
        ours_f, theirs_f = (orm.aliased(models.FloatingIPAllocation),
                            orm.aliased(models.FloatingIPAllocation))
        our_lease, their_lease = orm.aliased(models.Lease), orm.aliased(models.Lease)
        query = (sa.select(their_res.lease_id).distinct()
                 .select_from(our_res)
                 .join(our_lease, our_lease.id == our_res.lease_id)
                 .join(ours_f, ours_f.reservation_id == our_res.id)
                 .join(theirs_f, theirs_f.floatingip_id == ours_f.floatingip_id)
                 .join(their_res, their_res.id == theirs_f.reservation_id)
                 .join(their_lease, their_lease.id == their_res.lease_id)
                 .where(our_res.lease_id == lease_id,
                        their_res.lease_id != lease_id,
                        their_lease.end_date <= our_lease.start_date,
                        their_res.status == 'active'))
        held |= set(session.scalars(query))
        return sorted(held)


def reservations_holding_host(context, host_id, ends_after):
    """Reservations (with their plugin rows) holding the host after a time."""
    with _reader(context) as session:
        query = (sa.select(models.Reservation)
                 .join(models.HostAllocation,
                       models.HostAllocation.reservation_id == models.Reservation.id)
                 .where(models.HostAllocation.compute_host_id == host_id,
                        models.HostAllocation.end_date > ends_after)
                 .distinct())
        return [_reservation_dict(r) for r in session.scalars(query)]
