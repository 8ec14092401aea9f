"""Compute hosts, their extra capabilities, resource properties, and the
copy of their Placement inventories and traits."""
import sqlalchemy as sa

from blazar import exceptions
from blazar.db import models
from blazar.db.api import paging
from blazar.db.api.calendar import calendar_touch
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import transaction
from blazar.db.api.usage import usage_spans_refresh

__all__ = [
    'host_create',
    'host_get',
    'host_get_by_hostname',
    'host_list',
    'host_page',
    'host_id_page',
    'HOST_SORT_KEYS',
    'HOST_STATES',
    'host_list_flat',
    'host_update',
    'host_destroy',
    'host_has_allocations',
    'hosts_get',
    'resource_property_list',
    'resource_property_get',
    'resource_property_update',
    'host_set_inventory',
    'host_inventories',
]


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
    removed = []
    for name, value in capabilities.items():
        if value is None:   # deleted (nothing to do if the host has none)
            if name in current:
                host.capabilities.remove(current[name])
                removed.append(current[name])
            continue
        if name in current:
            current[name].capability_value = value
        else:
            prop = _property(session, resource_type, name)
            # MariaDB compares names by its collation ('GPU' is 'gpu'
            # there): a name that finds a property the host already has
            # under another spelling is a conflict, not a second row.
            same = [c.property.property_name for c in host.capabilities + removed
                    if c.property is prop or c.property_id == prop.id]
            if same:
                raise exceptions.Conflict(
                    reason='extra capability %r is the same name as %r for the '
                           'database (its collation compares them equal)'
                           % (name, same[0]))
            host.capabilities.append(models.HostCapability(
                property=prop, capability_value=value))


def host_create(context, values, capabilities, resource_type):
    with transaction(context) as session:
        host = models.ComputeHost(**values)
        session.add(host)
        session.flush()
        _set_capabilities(session, host, resource_type, capabilities)
        session.flush()
        calendar_touch(context, host_ids=[host.id])
        return _host_dict(host)


def _hosts_where(session, condition, page=None):
    """Hosts with their extra capabilities: two plain selects (a marker
    adds one). ``page``: a :class:`paging.Page`; without it every host by id."""
    host_t = models.ComputeHost.__table__
    query = sa.select(host_t).where(condition)
    if page is not None:
        query = paging.apply(session, query, host_t.c.id,
                             host_t.c[HOST_SORT_KEYS[page.sort_key]], page)
    else:
        query = query.order_by(host_t.c.id)
    result = session.execute(query)
    keys = tuple(result.keys())  # once, not per row (a page of 1000 hosts)
    hosts = [dict(zip(keys, row), capabilities={}) for row in result]
    if hosts:
        by_id = {host['id']: host for host in hosts}
        if page is not None and (page.limit is not None or page.marker is not None):
            host_ids = list(by_id)  # a page: bounded by its limit
        else:
            host_ids = sa.select(host_t.c.id).where(condition).scalar_subquery()
        cap_t = models.HostCapability.__table__
        prop_t = models.ResourceProperty.__table__
        for host_id, name, value in session.execute(
                sa.select(cap_t.c.computehost_id, prop_t.c.property_name,
                          cap_t.c.capability_value)
                .join(prop_t, prop_t.c.id == cap_t.c.property_id)
                .where(cap_t.c.computehost_id.in_(host_ids))):
            by_id[host_id]['capabilities'][name] = value
    return hosts


# Sort keys of a host list (API name: column); each NOT NULL and indexed.
HOST_SORT_KEYS = {'id': 'id', 'hypervisor_hostname': 'hypervisor_hostname',
                  'created_at': 'created_at'}
HOST_STATES = ('available', 'failed', 'maintenance')


def _host_state(state, now):
    """The SQL condition of a host health state (plugins/hosts/health.py's
    describe: maintenance once in force, then failed, else available)."""
    host = models.ComputeHost
    in_maintenance = sa.and_(host.maintenance_start.isnot(None),
                             host.maintenance_start <= now)
    failed = sa.and_(host.failure_reason.isnot(None), host.failure_reason != '')
    if state == 'maintenance':
        return in_maintenance
    if state == 'failed':
        return sa.and_(sa.not_(in_maintenance), failed)
    return sa.and_(sa.not_(in_maintenance), sa.not_(failed))


def _host_filters(session, filters, now):
    host = models.ComputeHost
    conditions = []
    filters = filters or {}
    if filters.get('reservable') is not None:
        conditions.append(host.reservable == bool(filters['reservable']))
    if filters.get('state') is not None:
        conditions.append(_host_state(filters['state'], now))
    if filters.get('capability') is not None:
        name, value = filters['capability']
        cap, prop = models.HostCapability, models.ResourceProperty
        conditions.append(host.id.in_(
            sa.select(cap.computehost_id)
            .join(prop, prop.id == cap.property_id)
            .where(prop.resource_type == 'physical:host', prop.property_name == name,
                   cap.capability_value == value)))
    return sa.and_(sa.true(), *conditions)


def host_id_page(context, page, host_id=None):
    """Ids of a page of hosts (ordered by id), or of ``host_id`` alone
    (none if it is not enrolled): one statement, a marker adds one."""
    with _reader(context) as session:
        host_t = models.ComputeHost.__table__
        query = sa.select(host_t.c.id)
        if host_id is not None:
            query = query.where(host_t.c.id == host_id)
        query = paging.apply(session, query, host_t.c.id, host_t.c.id,
                             paging.Page.from_dict(page, 'id'))
        return list(session.scalars(query))


def host_page(context, filters=None, page=None, now=None):
    """Hosts matching ``filters`` (``reservable``: bool, ``state``: one of
    HOST_STATES at ``now``, ``capability``: (name, value) equality), by id
    or ordered and cut as ``page`` (a dict: limit, marker, sort_key,
    sort_dir) says: two or three statements whatever the number of hosts."""
    with _reader(context) as session:
        condition = _host_filters(session, filters, now)
        if page is not None:
            page = paging.Page.from_dict(page, 'id')
        return _hosts_where(session, condition, page)


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


def host_list_flat(context, reservable=None, host_ids=None):
    """Like :func:`host_list` (the same dicts, ``capabilities`` included) in
    two statements whatever the number of hosts: the host rows, then every
    capability of those hosts. ``host_ids``: those hosts only (by primary
    key; the availability caches' delta)."""
    with _reader(context) as session:
        host = models.ComputeHost
        query = sa.select(*host.__table__.columns).order_by(host.id)
        caps = (sa.select(models.HostCapability.computehost_id,
                          models.ResourceProperty.property_name,
                          models.HostCapability.capability_value)
                .join(models.ResourceProperty,
                      models.ResourceProperty.id == models.HostCapability.property_id))
        if host_ids is not None:
            ids = sorted(set(host_ids))
            query = query.where(host.id.in_(ids))
            caps = caps.where(models.HostCapability.computehost_id.in_(ids))
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
        calendar_touch(context, host_ids=[host_id])
        if set(values) & {'vcpus', 'memory_mb', 'local_gb'}:
            # Usage weighs a host reservation's time by its host's size.
            usage_spans_refresh(context, host_id=host_id)
        return _host_dict(host)


def host_destroy(context, host_id):
    with transaction(context) as session:
        host = session.get(models.ComputeHost, host_id)
        if host is not None:
            calendar_touch(context, host_ids=[host_id])
            # Past allocations are history of this host only.
            held = usage_spans_refresh(context, host_id=host_id)
            session.execute(sa.delete(models.HostAllocation).where(
                models.HostAllocation.compute_host_id == host_id))
            usage_spans_refresh(context, held)
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


def host_set_inventory(context, host_id, inventories, traits):
    """Replace a host's copy of its Placement inventories
    (``{class: {total, reserved, min_unit, max_unit, step_size,
    allocation_ratio}}``) and traits."""
    with transaction(context) as session:
        calendar_touch(context, host_ids=[host_id])
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
