"""The only way into the store.

Every function takes the request context first: a call made while the
context is inside ``transaction(context)`` joins that transaction, so the
manager can make a multi-step change atomic without touching sessions.
Functions return plain dicts; no ORM object leaves this module.
"""
import os
import threading

from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm

from blazar import conf  # noqa: F401  registers [database]
from blazar.db import models

CONF = cfg.CONF

_facade_lock = threading.Lock()
_facade = None

COMPUTE_LOCK = 'compute'


@sa.event.listens_for(sa.engine.Engine, 'connect')
def _sqlite_waits_for_writers(dbapi_connection, connection_record):
    """SQLite serialises writers: make them wait their turn (the allocation
    lock is held for milliseconds) instead of failing, and let readers run
    beside a writer."""
    import sqlite3
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        cursor.execute('PRAGMA journal_mode = WAL')
        cursor.close()


def _ensure_sqlite_directory():
    """The embedded default keeps SQLite under [DEFAULT] state_path, which
    does not exist on a fresh checkout."""
    url = CONF.database.connection or ''
    if url.startswith('sqlite:///') and ':memory:' not in url:
        directory = os.path.dirname(url[len('sqlite:///'):].split('?', 1)[0])
        if directory:
            os.makedirs(directory, exist_ok=True)


def _get_facade():
    global _facade
    if _facade is None:
        with _facade_lock:
            if _facade is None:
                _ensure_sqlite_directory()
                facade = enginefacade.transaction_context()
                facade.configure(sqlite_fk=True)
                _facade = facade
    return _facade


def reset_facade():
    """Forget the engine (after the [database] options changed)."""
    global _facade
    with _facade_lock:
        if _facade is not None:
            try:
                _facade.dispose_pool()
            except Exception:  # noqa: a never-started facade has no pool
                pass
        _facade = None


def get_engine():
    return _get_facade().writer.get_engine()


def transaction(context):
    """Context manager: everything done with ``context`` inside is one unit."""
    return _get_facade().writer.using(context)


def _reader(context):
    return _get_facade().reader.using(context)


def _row(obj, exclude=()):
    return {c.key: getattr(obj, c.key)
            for c in sa.inspect(obj).mapper.column_attrs if c.key not in exclude}


def _create(context, model, values):
    with transaction(context) as session:
        row = model(**values)
        session.add(row)
        session.flush()
        return _row(row)


def _update(context, model, row_id, values):
    """Set values on a row; None if there is no such row."""
    with transaction(context) as session:
        row = session.get(model, row_id)
        if row is None:
            return None
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        return _row(row)


# --- allocation lock ----------------------------------------------------------

def allocation_lock(context, name=COMPUTE_LOCK):
    """Serialise allocation decisions until the enclosing transaction ends.

    Must be the first statement of the transaction: it takes a row lock on
    MariaDB/PostgreSQL and the write lock on SQLite before anything is read,
    so what is read afterwards includes every allocation committed before.
    """
    session = context.session
    updated = session.execute(
        sa.update(models.AllocationLock)
        .where(models.AllocationLock.name == name)
        .values(generation=models.AllocationLock.generation + 1)).rowcount
    if not updated:
        session.add(models.AllocationLock(name=name, generation=1))
        session.flush()


# --- leases -------------------------------------------------------------------

def _reservation_dict(res):
    d = _row(res)
    d['host_reservation'] = _row(res.host_reservation) if res.host_reservation else None
    d['instance_reservation'] = (_row(res.instance_reservation)
                                 if res.instance_reservation else None)
    return d


def lease_create(context, values):
    return _create(context, models.Lease, values)


def _leases_where(session, condition, order=True):
    """Leases matching ``condition`` with their reservations (and plugin
    rows) and events: five plain selects, whatever the number of leases."""
    lease_t = models.Lease.__table__
    query = sa.select(lease_t).where(condition)
    if order:
        query = query.order_by(lease_t.c.created_at, lease_t.c.id)
    leases = [dict(row._mapping) for row in session.execute(query)]
    if not leases:
        return []
    lease_ids = sa.select(lease_t.c.id).where(condition).scalar_subquery()
    res_t = models.Reservation.__table__
    reservation_ids = sa.select(res_t.c.id).where(res_t.c.lease_id.in_(lease_ids))
    by_lease = {lease['id']: dict(lease, reservations=[], events=[]) for lease in leases}
    by_reservation = {}
    for row in session.execute(sa.select(res_t).where(res_t.c.lease_id.in_(lease_ids))
                               .order_by(res_t.c.created_at, res_t.c.id)):
        reservation = dict(row._mapping, host_reservation=None, instance_reservation=None)
        by_reservation[reservation['id']] = reservation
        by_lease[reservation['lease_id']]['reservations'].append(reservation)
    for key, model in (('host_reservation', models.HostReservation),
                       ('instance_reservation', models.InstanceReservation)):
        table = model.__table__
        for row in session.execute(sa.select(table).where(
                table.c.reservation_id.in_(reservation_ids))):
            by_reservation[row.reservation_id][key] = dict(row._mapping)
    event_t = models.Event.__table__
    for row in session.execute(sa.select(event_t).where(event_t.c.lease_id.in_(lease_ids))
                               .order_by(event_t.c.time, event_t.c.id)):
        by_lease[row.lease_id]['events'].append(dict(row._mapping))
    return list(by_lease.values())


def lease_get(context, lease_id):
    with _reader(context) as session:
        found = _leases_where(session, models.Lease.id == lease_id, order=False)
        return found[0] if found else None


def lease_list(context, project_id=None):
    with _reader(context) as session:
        condition = (models.Lease.project_id == project_id if project_id is not None
                     else sa.true())
        return _leases_where(session, condition)


def lease_update(context, lease_id, values):
    return _update(context, models.Lease, lease_id, values)


def lease_destroy(context, lease_id):
    with transaction(context) as session:
        lease = session.get(models.Lease, lease_id)
        if lease is not None:
            session.delete(lease)
            session.flush()
        return lease is not None


# --- reservations -------------------------------------------------------------

def reservation_create(context, values):
    return _create(context, models.Reservation, values)


def reservation_get(context, reservation_id):
    with _reader(context) as session:
        res = session.get(models.Reservation, reservation_id)
        return _reservation_dict(res) if res else None


def reservation_update(context, reservation_id, values):
    return _update(context, models.Reservation, reservation_id, values)


# --- events -------------------------------------------------------------------

def event_create(context, values):
    return _create(context, models.Event, values)


def event_get(context, event_id):
    with _reader(context) as session:
        event = session.get(models.Event, event_id)
        return _row(event) if event else None


def event_update(context, event_id, values):
    return _update(context, models.Event, event_id, values)


def event_claim(context, event_id, from_status='UNDONE', to_status='IN_PROGRESS',
                owner=None, until=None):
    """Move an event on only if nobody else did: True if this caller won.

    With ``owner``/``until`` the event is claimed by that manager until that
    time; an IN_PROGRESS event whose claim has expired (its manager died)
    can be claimed again the same way."""
    now = timeutils.utcnow()
    condition = models.Event.status == from_status
    if from_status == 'UNDONE' and to_status == 'IN_PROGRESS':
        condition = sa.or_(condition, sa.and_(models.Event.status == 'IN_PROGRESS',
                                              models.Event.claimed_until < now))
    values = {'status': to_status, 'updated_at': now}
    if to_status == 'IN_PROGRESS':
        values.update(claimed_by=owner, claimed_until=until)
    else:
        values.update(claimed_by=None, claimed_until=None)
    with transaction(context) as session:
        return session.execute(
            sa.update(models.Event).where(models.Event.id == event_id, condition)
            .values(**values)).rowcount == 1


def _due_time():
    """When an event may run: its time, or later if a failed run backs off."""
    return sa.func.coalesce(models.Event.next_attempt, models.Event.time)


def events_due(context, now, status='UNDONE'):
    """Events whose time has come (and whose retry delay, if any, is over),
    and events whose manager died while running them (expired claims)."""
    with _reader(context) as session:
        waiting = sa.and_(models.Event.status == status, models.Event.time <= now,
                          _due_time() <= now)
        abandoned = sa.and_(models.Event.status == 'IN_PROGRESS',
                            models.Event.claimed_until < now)
        query = (sa.select(models.Event)
                 .where(sa.or_(waiting, abandoned) if status == 'UNDONE' else waiting)
                 .order_by(models.Event.time, models.Event.id))
        return [_row(e) for e in session.scalars(query)]


def events_wake_waiting_starts(context):
    """Make the starts put back to wait for an end (never failed, so no
    attempt counted) due again at once, now that an end has run."""
    with transaction(context) as session:
        session.execute(
            sa.update(models.Event)
            .where(models.Event.event_type == 'start_lease',
                   models.Event.status == 'UNDONE', models.Event.attempts == 0,
                   models.Event.next_attempt.is_not(None))
            .values(next_attempt=None))


def next_event_time(context, status='UNDONE'):
    """When the event loop next has something to do: the earliest due time
    of a waiting event, or the earliest expiry of a running event's claim."""
    with _reader(context) as session:
        waiting = session.scalar(sa.select(sa.func.min(_due_time()))
                                 .where(models.Event.status == status))
        expiring = session.scalar(sa.select(sa.func.min(models.Event.claimed_until))
                                  .where(models.Event.status == 'IN_PROGRESS'))
        times = [t for t in (waiting, expiring) if t is not None]
        return min(times) if times else None


# --- hosts --------------------------------------------------------------------

def _host_dict(host):
    d = _row(host)
    d['capabilities'] = {c.property.property_name: c.capability_value
                         for c in host.capabilities}
    return d


def _property(session, resource_type, name):
    prop = session.scalar(sa.select(models.ResourceProperty).where(
        models.ResourceProperty.resource_type == resource_type,
        models.ResourceProperty.property_name == name))
    if prop is None:
        prop = models.ResourceProperty(resource_type=resource_type,
                                       property_name=name, private=False)
        session.add(prop)
        session.flush()
    return prop


def _set_capabilities(session, host, resource_type, capabilities):
    current = {c.property.property_name: c for c in host.capabilities}
    for name, value in capabilities.items():
        if name in current:
            current[name].capability_value = value
        else:
            prop = _property(session, resource_type, name)
            host.capabilities.append(models.HostCapability(
                property=prop, capability_value=value))


def host_create(context, values, capabilities, resource_type):
    with transaction(context) as session:
        host = models.ComputeHost(**values)
        session.add(host)
        session.flush()
        _set_capabilities(session, host, resource_type, capabilities)
        session.flush()
        return _host_dict(host)


def _hosts_where(session, condition):
    """Hosts with their extra capabilities: two plain selects."""
    host_t = models.ComputeHost.__table__
    hosts = [dict(row._mapping, capabilities={}) for row in session.execute(
        sa.select(host_t).where(condition).order_by(host_t.c.id))]
    if hosts:
        by_id = {host['id']: host for host in hosts}
        cap_t = models.HostCapability.__table__
        prop_t = models.ResourceProperty.__table__
        for host_id, name, value in session.execute(
                sa.select(cap_t.c.computehost_id, prop_t.c.property_name,
                          cap_t.c.capability_value)
                .join(prop_t, prop_t.c.id == cap_t.c.property_id)
                .where(cap_t.c.computehost_id.in_(
                    sa.select(host_t.c.id).where(condition).scalar_subquery()))):
            by_id[host_id]['capabilities'][name] = value
    return hosts


def _one(hosts):
    return hosts[0] if hosts else None


def host_get(context, host_id):
    with _reader(context) as session:
        return _one(_hosts_where(session, models.ComputeHost.id == host_id))


def host_get_by_hostname(context, hostname):
    with _reader(context) as session:
        return _one(_hosts_where(session,
                                 models.ComputeHost.hypervisor_hostname == hostname))


def host_list(context, reservable=None):
    with _reader(context) as session:
        condition = (models.ComputeHost.reservable == reservable
                     if reservable is not None else sa.true())
        return _hosts_where(session, condition)


def host_update(context, host_id, values, capabilities=None, resource_type=None):
    with transaction(context) as session:
        host = session.get(models.ComputeHost, host_id)
        if host is None:
            return None
        for key, value in values.items():
            setattr(host, key, value)
        if capabilities:
            _set_capabilities(session, host, resource_type, capabilities)
        session.flush()
        return _host_dict(host)


def host_destroy(context, host_id):
    with transaction(context) as session:
        host = session.get(models.ComputeHost, host_id)
        if host is not None:
            # Past allocations are history of this host only.
            session.execute(sa.delete(models.HostAllocation).where(
                models.HostAllocation.compute_host_id == host_id))
            session.delete(host)
            session.flush()
        return host is not None


def host_has_allocations(context, host_id, ends_after):
    """Whether a reservation holds the host at or after ``ends_after``."""
    with _reader(context) as session:
        return session.scalar(
            sa.select(sa.func.count(models.HostAllocation.id))
            .where(models.HostAllocation.compute_host_id == host_id,
                   models.HostAllocation.end_date > ends_after)) > 0


def hosts_get(context, host_ids):
    with _reader(context) as session:
        return _hosts_where(session, models.ComputeHost.id.in_(list(host_ids)))


# --- resource properties ------------------------------------------------------

def resource_property_list(context, resource_type):
    """Properties with at least one value, each with its distinct values."""
    with _reader(context) as session:
        rows = session.execute(
            sa.select(models.ResourceProperty.property_name,
                      models.ResourceProperty.private,
                      models.HostCapability.capability_value)
            .join(models.HostCapability,
                  models.HostCapability.property_id == models.ResourceProperty.id)
            .where(models.ResourceProperty.resource_type == resource_type)
            .distinct()
            .order_by(models.ResourceProperty.property_name,
                      models.HostCapability.capability_value))
        props = {}
        for name, private, value in rows:
            entry = props.setdefault(name, {'property': name, 'private': private,
                                            'values': []})
            entry['values'].append(value)
        return list(props.values())


def resource_property_get(context, resource_type, name):
    with _reader(context) as session:
        prop = session.scalar(sa.select(models.ResourceProperty).where(
            models.ResourceProperty.resource_type == resource_type,
            models.ResourceProperty.property_name == name))
        return _row(prop) if prop else None


def resource_property_update(context, resource_type, name, values):
    with transaction(context) as session:
        prop = session.scalar(sa.select(models.ResourceProperty).where(
            models.ResourceProperty.resource_type == resource_type,
            models.ResourceProperty.property_name == name))
        if prop is None:
            return None
        for key, value in values.items():
            setattr(prop, key, value)
        session.flush()
        return _row(prop)


# --- allocations --------------------------------------------------------------

def allocation_list(context, host_ids=None, reservation_id=None, lease_id=None,
                    ends_after=None):
    """Allocations with their lease, in one query."""
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
        return [dict(row._mapping) for row in session.execute(query)]


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


def allocations_create(context, reservation_id, host_ids, start, end):
    with transaction(context) as session:
        session.add_all([models.HostAllocation(
            reservation_id=reservation_id, compute_host_id=host_id,
            start_date=start, end_date=end) for host_id in host_ids])
        session.flush()


def allocations_delete(context, reservation_id, host_ids=None):
    with transaction(context) as session:
        query = sa.delete(models.HostAllocation).where(
            models.HostAllocation.reservation_id == reservation_id)
        if host_ids is not None:
            query = query.where(models.HostAllocation.compute_host_id.in_(list(host_ids)))
        session.execute(query)


def allocations_set_window(context, reservation_id, start, end):
    """Keep a reservation's allocations in step with its lease dates."""
    with transaction(context) as session:
        session.execute(sa.update(models.HostAllocation)
                        .where(models.HostAllocation.reservation_id == reservation_id)
                        .values(start_date=start, end_date=end,
                                updated_at=timeutils.utcnow()))


def host_reservation_create(context, values):
    return _create(context, models.HostReservation, values)


def host_reservation_update(context, host_reservation_id, values):
    return _update(context, models.HostReservation, host_reservation_id, values)


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


def utcnow():
    return timeutils.utcnow()


# --- availability, calendar, usage --------------------------------------------

def reading(context):
    """One read-only transaction: what is read inside is one consistent view
    on backends with snapshot reads (MariaDB's REPEATABLE READ, SQLite)."""
    return _reader(context)


def allocation_generation(context, name=COMPUTE_LOCK):
    """The allocation lock's counter: every transaction that takes the lock
    (each change of hosts or allocations) adds one when it commits. 0 before
    the first such change."""
    with _reader(context) as session:
        return session.scalar(
            sa.select(models.AllocationLock.generation)
            .where(models.AllocationLock.name == name)) or 0


def calendar_rows(context, ends_after, starts_before):
    """Allocations overlapping ``(ends_after, starts_before)``, with their
    reservation, lease and project: one range scan of ix_allocations_window
    joined on primary keys, ordered by host and start."""
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
        return [dict(row._mapping) for row in session.execute(query)]


from sqlalchemy.ext import compiler as _sa_compiler  # noqa: E402


class _Seconds(sa.sql.expression.FunctionElement):
    """Seconds from the first datetime argument to the second, in SQL."""
    type = sa.Float()
    name = 'seconds_between'
    inherit_cache = True


@_sa_compiler.compiles(_Seconds)
def _seconds_sqlite(element, compiler, **kw):
    first, second = [compiler.process(c, **kw) for c in element.clauses]
    # julianday() is a float: round to whole seconds (dates have no less).
    return 'ROUND((julianday(%s) - julianday(%s)) * 86400.0)' % (second, first)


@_sa_compiler.compiles(_Seconds, 'mysql')
def _seconds_mysql(element, compiler, **kw):
    first, second = [compiler.process(c, **kw) for c in element.clauses]
    return 'TIMESTAMPDIFF(SECOND, %s, %s)' % (first, second)


@_sa_compiler.compiles(_Seconds, 'postgresql')
def _seconds_postgresql(element, compiler, **kw):
    first, second = [compiler.process(c, **kw) for c in element.clauses]
    return 'EXTRACT(EPOCH FROM (%s - %s))' % (second, first)


def usage_totals(context, start, end, project_id=None):
    """Reserved time per project within ``[start, end)``, summed by the
    database in one statement (range scan of ix_allocations_window,
    primary-key joins): per project, the seconds hosts are held by host
    reservations and instance slots by instance reservations, the held
    seconds weighted by VCPUs, memory MB and disk GB (the host's size for a
    host reservation, the instance size for an instance slot), and the
    number of leases and reservations."""
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
        return [{'project_id': row.project_id,
                 'host_seconds': float(row.host_seconds or 0),
                 'instance_seconds': float(row.instance_seconds or 0),
                 'vcpu_seconds': float(row.vcpu_seconds or 0),
                 'memory_mb_seconds': float(row.memory_mb_seconds or 0),
                 'disk_gb_seconds': float(row.disk_gb_seconds or 0),
                 'leases': int(row.leases), 'reservations': int(row.reservations)}
                for row in session.execute(query)]


# --- enforcement --------------------------------------------------------------

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


def project_usage(context, project_id, start, end, exclude_lease_id=None):
    """What a project holds between ``start`` and ``end``, in one query on
    the allocation time index: one row per lease and allocation window with
    ``hosts`` (host reservations only), ``vcpus`` and ``memory_mb`` (the
    host's size for a host reservation, the instance size for each slot of
    an instance reservation)."""
    with _reader(context) as session:
        alloc, host = models.HostAllocation, models.ComputeHost
        res, inst = models.Reservation, models.InstanceReservation
        is_host = sa.case((res.resource_type == 'physical:host', 1), else_=0)
        query = (sa.select(res.lease_id, alloc.start_date, alloc.end_date,
                           sa.func.sum(is_host).label('hosts'),
                           sa.func.sum(sa.func.coalesce(inst.vcpus, host.vcpus)
                                       * alloc.slots).label('vcpus'),
                           sa.func.sum(sa.func.coalesce(inst.memory_mb, host.memory_mb)
                                       * alloc.slots).label('memory_mb'))
                 .join(res, res.id == alloc.reservation_id)
                 .join(models.Lease, models.Lease.id == res.lease_id)
                 .join(host, host.id == alloc.compute_host_id)
                 .outerjoin(inst, inst.reservation_id == res.id)
                 .where(alloc.end_date > start, alloc.start_date < end,
                        models.Lease.project_id == project_id)
                 .group_by(res.lease_id, alloc.start_date, alloc.end_date)
                 .order_by(alloc.start_date, res.lease_id))
        if exclude_lease_id is not None:
            query = query.where(res.lease_id != exclude_lease_id)
        return [{'lease_id': row.lease_id, 'start_date': row.start_date,
                 'end_date': row.end_date, 'hosts': int(row.hosts or 0),
                 'vcpus': int(row.vcpus or 0), 'memory_mb': int(row.memory_mb or 0)}
                for row in session.execute(query)]


def host_list_flat(context, reservable=None):
    """Like :func:`host_list` (the same dicts, ``capabilities`` included) in
    two statements whatever the number of hosts: the host rows, then every
    capability of those hosts."""
    with _reader(context) as session:
        host = models.ComputeHost
        query = sa.select(*host.__table__.columns).order_by(host.id)
        caps = (sa.select(models.HostCapability.computehost_id,
                          models.ResourceProperty.property_name,
                          models.HostCapability.capability_value)
                .join(models.ResourceProperty,
                      models.ResourceProperty.id == models.HostCapability.property_id))
        if reservable is not None:
            query = query.where(host.reservable == reservable)
            caps = (caps.join(host, host.id == models.HostCapability.computehost_id)
                    .where(host.reservable == reservable))
        hosts = [dict(row._mapping, capabilities={}) for row in session.execute(query)]
        by_id = {h['id']: h for h in hosts}
        for host_id, name, value in session.execute(caps):
            if host_id in by_id:
                by_id[host_id]['capabilities'][name] = value
        return hosts


# --- instance reservations and host capacity ----------------------------------

def host_set_inventory(context, host_id, inventories, traits):
    """Replace a host's copy of its Placement inventories
    (``{class: {total, reserved, min_unit, max_unit, step_size,
    allocation_ratio}}``) and traits."""
    with transaction(context) as session:
        session.execute(sa.delete(models.HostInventory).where(
            models.HostInventory.computehost_id == host_id))
        session.execute(sa.delete(models.HostTrait).where(
            models.HostTrait.computehost_id == host_id))
        session.add_all([models.HostInventory(
            computehost_id=host_id, resource_class=rc,
            **{k: inv[k] for k in ('total', 'reserved', 'min_unit', 'max_unit',
                                   'step_size', 'allocation_ratio')})
            for rc, inv in inventories.items()])
        session.add_all([models.HostTrait(computehost_id=host_id, trait=t)
                         for t in sorted(set(traits))])
        session.flush()


def host_inventories(context, host_ids=None):
    """``({host id: {class: inventory}}, {host id: {traits}})`` in two
    queries."""
    with _reader(context) as session:
        inv, trait = models.HostInventory, models.HostTrait
        inv_q = sa.select(inv.computehost_id, inv.resource_class, inv.total,
                          inv.reserved, inv.min_unit, inv.max_unit, inv.step_size,
                          inv.allocation_ratio)
        trait_q = sa.select(trait.computehost_id, trait.trait)
        if host_ids is not None:
            inv_q = inv_q.where(inv.computehost_id.in_(list(host_ids)))
            trait_q = trait_q.where(trait.computehost_id.in_(list(host_ids)))
        inventories, traits = {}, {}
        for row in session.execute(inv_q):
            values = dict(row._mapping)
            host_id, rc = values.pop('computehost_id'), values.pop('resource_class')
            inventories.setdefault(host_id, {})[rc] = values
        for host_id, name in session.execute(trait_q):
            traits.setdefault(host_id, set()).add(name)
        return inventories, traits


def slot_holdings(context, ends_after, exclude_reservation_id=None):
    """Everything that holds host resources after ``ends_after``, per host:
    ``{host id: [(start, end, instance reservation row or None, slots)]}``
    (None: a whole-host reservation). One range scan of the allocation
    window index joined on primary keys."""
    with _reader(context) as session:
        alloc, inst = models.HostAllocation, models.InstanceReservation
        query = (sa.select(alloc.compute_host_id, alloc.start_date, alloc.end_date,
                           alloc.slots, alloc.reservation_id, inst.resources,
                           inst.vcpus, inst.memory_mb, inst.disk_gb)
                 .outerjoin(inst, inst.reservation_id == alloc.reservation_id)
                 .where(alloc.end_date > ends_after))
        if exclude_reservation_id is not None:
            query = query.where(alloc.reservation_id != exclude_reservation_id)
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


def reservation_slots_set(context, reservation_id, slots, start, end):
    """Make a reservation hold exactly ``slots`` (``{host id: n}``) from
    ``start`` to ``end``: one allocation row per host."""
    with transaction(context) as session:
        alloc = models.HostAllocation
        session.execute(sa.delete(alloc).where(alloc.reservation_id == reservation_id))
        session.add_all([alloc(reservation_id=reservation_id, compute_host_id=host_id,
                               slots=n, start_date=start, end_date=end)
                         for host_id, n in sorted(slots.items()) if n > 0])
        session.flush()


def instance_reservation_create(context, values):
    return _create(context, models.InstanceReservation, values)


def instance_reservation_update(context, instance_reservation_id, values):
    return _update(context, models.InstanceReservation, instance_reservation_id, values)


# --- host health, maintenance and healing (blazar/manager/monitors.py,
# --- healing.py; blazar/plugins/hosts/health.py) ------------------------------
# Callers changing health hold the allocation lock: health decides which hosts
# allocations may use, and the change moves the lock's generation (the
# calendar cache key).

import datetime as _datetime  # noqa: E402

# The end of a maintenance that has none: busy "forever" from its start.
MAINTENANCE_END = _datetime.datetime(9000, 1, 1)
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
        return session.execute(
            sa.update(host).where(host.id == host_id,
                                  host.maintenance_start.isnot(None))
            .values(maintenance_start=None, maintenance_reason=None,
                    updated_at=now, reservable=host.failure_reason.is_(None))
            .execution_options(synchronize_session=False)).rowcount == 1


def hosts_begin_due_maintenance(context, now):
    """Make hosts whose maintenance has come unreservable; return them."""
    with transaction(context) as session:
        host = models.ComputeHost
        due = sorted(session.scalars(sa.select(host.id).where(
            host.maintenance_start <= now, host.reservable.is_(True))))
        if due:
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


def busy_with_maintenance(context, ends_after, exclude_reservation_id=None):
    """:func:`busy_by_host` plus :func:`maintenance_busy`, in one statement
    (a UNION ALL): what lease creation and availability treat as taken."""
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
        return sorted(session.scalars(query))


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


# --- preemptions --------------------------------------------------------------

def preemption_record(context, values):
    """Create or update the record of one server in one reservation's way."""
    with transaction(context) as session:
        row = session.scalar(sa.select(models.Preemption).where(
            models.Preemption.reservation_id == values['reservation_id'],
            models.Preemption.server_id == values['server_id']))
        if row is None:
            row = models.Preemption(**values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        session.flush()
        return _row(row)


def preemption_list(context, lease_id=None, reservation_id=None, project_id=None):
    """Preemptions, newest first, filtered by lease, reservation or the
    server owner's project."""
    with _reader(context) as session:
        query = sa.select(models.Preemption).order_by(
            models.Preemption.created_at.desc(), models.Preemption.id.desc())
        for column, value in (('lease_id', lease_id), ('reservation_id', reservation_id),
                              ('project_id', project_id)):
            if value is not None:
                query = query.where(getattr(models.Preemption, column) == value)
        return [_row(r) for r in session.scalars(query)]
