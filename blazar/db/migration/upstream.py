"""In-place conversion of an upstream OpenStack Blazar 18 database.

Upstream Blazar 18.0.0 leaves its schema at Alembic revision
``553383923ca0``. ``blazar-db-manage upgrade`` recognises that revision
and converts the database into this service's schema as revision ``0005``
made it; the normal chain of revisions then continues from there.

How it goes (one connection; on PostgreSQL one transaction, so a failure
changes nothing; MySQL/MariaDB commit each schema change, so there the
steps are arranged to be run again after a failure, see below):

1. The upstream tables this service has its own shape for are renamed
   ``upstream18_<name>`` (on PostgreSQL their constraints and indexes too,
   whose names share one namespace per schema).
2. This service's revisions 0001 to 0005 create its tables, recording their
   progress in a version table of their own: ``alembic_version`` keeps
   saying ``553383923ca0`` until the conversion is complete.
3. Every row is read from the renamed tables, reshaped (see the functions
   ``_leases`` ... ``_allocations``) and written into the new ones.
4. The floating-IP tables (``floatingips``, ``floatingip_reservations``,
   ``required_floatingips``, ``floatingip_allocations``) stay as they are,
   rows, columns and names included: only their foreign keys to
   ``reservations`` are pointed at the new table, and they and the required
   addresses' key delete on cascade, as upstream's ORM deleted them with
   their lease. Revision 0008, after the conversion, rebuilds them in this
   service's shape (same columns; its keys and indexes) with their rows.
5. The renamed tables are dropped and ``alembic_version`` says ``0005``.

Should a MySQL/MariaDB conversion stop half-way, ``alembic_version`` still
says ``553383923ca0`` and the upstream rows are in the ``upstream18_``
tables: running ``blazar-db-manage upgrade head`` again drops what the
interrupted run created and converts from those tables.

What changes in the data (doc/source/admin/upgrade-from-upstream.rst):
hosts get this service's integer ids (an upstream id that is a number is
kept; a UUID id becomes the next free number, and stays as the host's
``hypervisor_id``); leases caught in a transitional status get the stable
status their events say, and an event that was in progress runs again;
events that no code runs (a lease's raw ``events`` stored by upstream, or
without a time) are left out; an allocation row per instance slot becomes
one row per host with a slot count.
"""
import contextlib
import datetime
import json
import logging

from alembic import command as alembic_command
from alembic import migration as alembic_migration
from alembic import operations as alembic_operations
import sqlalchemy as sa

LOG = logging.getLogger(__name__)

#: Upstream Blazar 18.0.0's head, the one revision converted.
UPSTREAM_HEAD = '553383923ca0'
#: Upstream's earlier revisions, oldest first: such a database must first be
#: brought to UPSTREAM_HEAD by upstream Blazar 18's own blazar-db-manage.
UPSTREAM_OLDER = ('0_1', '10e34bba18e8', '2bcfe76b0474', '23d6240b51b2',
                  '1fd6c2eded89', '7f1a7bbb2cd2', '8805be233864', 'ba75b766b64e',
                  '6bfd1c23aa18', '97d2cad1504e', 'e66f199a5414', '75a74e4539cb',
                  '35b314cd39ee', '9593f3656974', 'e069c014356d', 'f4084140f608',
                  '02e2f2186d98')
#: Where the conversion ends; the revisions after it run as usual.
TARGET = '0005'

PREFIX = 'upstream18_'
CONVERSION_VERSION_TABLE = PREFIX + 'conversion_version'
#: Upstream tables converted into this service's tables of the same name
#: (or, for the last two, of another name).
CONVERTED = ('leases', 'reservations', 'events', 'computehosts',
             'resource_properties', 'computehost_extra_capabilities',
             'computehost_resource_inventory', 'computehost_trait',
             'computehost_reservations', 'instance_reservations',
             'computehost_allocations')
#: The same, children first.
CONVERTED_DROP_ORDER = ('computehost_allocations', 'instance_reservations',
                        'computehost_reservations', 'computehost_trait',
                        'computehost_resource_inventory',
                        'computehost_extra_capabilities', 'resource_properties',
                        'computehosts', 'events', 'reservations', 'leases')
#: Kept as they are for revision 0008 to adopt.
FLOATING_IP_TABLES = ('floatingips', 'floatingip_reservations',
                      'required_floatingips', 'floatingip_allocations')
#: Tables revisions 0001-0005 create, in the order they may be dropped.
OUR_TABLES = ('preemptions', 'computehost_traits', 'computehost_inventories',
              'allocation_locks', 'computehost_allocations', 'instance_reservations',
              'computehost_reservations', 'computehost_extra_capabilities',
              'resource_properties', 'computehosts', 'events', 'reservations',
              'leases')

EVENT_TYPES = ('start_lease', 'end_lease', 'before_end_lease', 'before_start_lease')
STABLE_LEASE_STATUSES = ('PENDING', 'ACTIVE', 'TERMINATED', 'ERROR')
RESERVATION_STATUSES = ('pending', 'active', 'deleted', 'error')
EVENT_STATUSES = ('UNDONE', 'IN_PROGRESS', 'DONE', 'ERROR')
UPSTREAM_FAILED = 'marked failed by upstream Blazar before the conversion'


class ConversionError(Exception):
    """The database cannot be converted; the message says why and what to do."""


def version(connection, table='alembic_version'):
    if not sa.inspect(connection).has_table(table):
        return None
    return alembic_migration.MigrationContext.configure(
        connection, opts={'version_table': table}).get_current_revision()


def describe(connection):
    """What the database holds, for blazar-status and blazar-db-manage:
    ``None`` when it is not upstream's, else a dict with ``revision``,
    ``convertible`` (bool), ``interrupted`` (a conversion stopped half-way)
    and ``counts`` ({table: rows}) of the main upstream tables."""
    revision = version(connection)
    if revision != UPSTREAM_HEAD and revision not in UPSTREAM_OLDER:
        return None
    tables = set(sa.inspect(connection).get_table_names())
    counts = {}
    for name in ('leases', 'reservations', 'computehosts', 'floatingips'):
        source = PREFIX + name if PREFIX + name in tables else name
        if source in tables:
            counts[name] = connection.execute(
                sa.text('SELECT COUNT(*) FROM %s' % _quote(connection, source))).scalar()
    return {'revision': revision, 'convertible': revision == UPSTREAM_HEAD,
            'interrupted': any(PREFIX + name in tables for name in CONVERTED),
            'counts': counts}


def older_revision_message(revision):
    return ('The database is at upstream Blazar revision %s, older than upstream '
            'Blazar 18 (%s). Bring it to %s first with upstream Blazar 18.0.0\'s '
            '"blazar-db-manage upgrade head", then run this one.'
            % (revision, UPSTREAM_HEAD, UPSTREAM_HEAD))


def _quote(connection, name):
    return connection.dialect.identifier_preparer.quote(name)


class Report:
    """What a conversion did: counts per table, and the rows left out."""

    def __init__(self):
        self.counts = {}
        self.notes = []

    def count(self, table, rows):
        self.counts[table] = len(rows)

    def note(self, text):
        LOG.warning('Conversion from upstream Blazar: %s', text)
        self.notes.append(text)

    def lines(self):
        yield ('Converted an upstream Blazar 18 database (revision %s) to revision %s:'
               % (UPSTREAM_HEAD, TARGET))
        for table, rows in self.counts.items():
            yield '  %s: %d row(s)' % (table, rows)
        yield ('  kept as they are: %s' % ', '.join(FLOATING_IP_TABLES))
        for text in self.notes:
            yield '  note: %s' % text


# --- the steps ---------------------------------------------------------------

def convert(connection, alembic_cfg):
    """Convert the upstream database on ``connection`` (inside the caller's
    transaction) to revision TARGET; return a :class:`Report`.

    ``alembic_cfg`` is this service's Alembic configuration (its
    ``attributes`` receive the connection and the version table)."""
    revision = version(connection)
    if revision in UPSTREAM_OLDER:
        raise ConversionError(older_revision_message(revision))
    if revision != UPSTREAM_HEAD:
        raise ConversionError('The database is not at upstream Blazar 18\'s revision '
                              '%s (it is at %s).' % (UPSTREAM_HEAD, revision))
    if connection.dialect.name not in ('mysql', 'postgresql'):
        raise ConversionError('Upstream Blazar databases are MySQL/MariaDB or '
                              'PostgreSQL ones; cannot convert a %s database.'
                              % connection.dialect.name)
    ops = alembic_operations.Operations(
        alembic_migration.MigrationContext.configure(connection))
    report = Report()
    _check_source(connection)
    _detach_floating_ips(connection, ops)
    _set_aside(connection, ops)
    _create_ours(connection, alembic_cfg)
    source = _read(connection)
    now = datetime.datetime.utcnow().replace(microsecond=0)
    _write(connection, source, now, report)
    _attach_floating_ips(connection, ops, report)
    for name in CONVERTED_DROP_ORDER:
        ops.drop_table(PREFIX + name)
    connection.execute(sa.text('UPDATE alembic_version SET version_num = :target '
                               'WHERE version_num = :upstream'),
                       {'target': TARGET, 'upstream': UPSTREAM_HEAD})
    ops.drop_table(CONVERSION_VERSION_TABLE)
    LOG.info('\n'.join(report.lines()))
    return report


def _check_source(connection):
    tables = set(sa.inspect(connection).get_table_names())
    missing = [name for name in CONVERTED
               if name not in tables and PREFIX + name not in tables]
    if missing:
        raise ConversionError('The database says it is at upstream Blazar revision %s '
                              'but has no table %s: it is not a complete upstream '
                              'Blazar 18 database.' % (UPSTREAM_HEAD, ', '.join(missing)))


#: The floating-IP tables' foreign keys that a lease deletion follows:
#: (table, column, referred table).
FIP_FOREIGN_KEYS = (
    ('floatingip_reservations', 'reservation_id', 'reservations'),
    ('floatingip_allocations', 'reservation_id', 'reservations'),
    ('required_floatingips', 'floatingip_reservation_id', 'floatingip_reservations'),
)


def _fip_foreign_keys(connection):
    """(table, constraint name) of the foreign keys of FIP_FOREIGN_KEYS as
    they are now (to the reservations table whatever it is called)."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    found = []
    for table, column, referred in FIP_FOREIGN_KEYS:
        if table not in tables:
            continue
        for fk in inspector.get_foreign_keys(table):
            if fk['constrained_columns'] == [column] and \
                    fk['referred_table'] in (referred, PREFIX + referred):
                found.append((table, fk['name']))
    return found


def _detach_floating_ips(connection, ops):
    for table, name in _fip_foreign_keys(connection):
        ops.drop_constraint(name, table, type_='foreignkey')


def _attach_floating_ips(connection, ops, report):
    """The floating-IP tables' foreign keys again, to the new reservations
    table, deleting with it as upstream's ORM did: deleting a lease removes
    its floating-IP reservation, required addresses and allocations (the
    addresses themselves stay)."""
    tables = set(sa.inspect(connection).get_table_names())
    for table, column, referred in FIP_FOREIGN_KEYS:
        if table not in tables:
            continue
        # On PostgreSQL in a savepoint: a refused statement would otherwise
        # abort the whole conversion's transaction (MySQL has committed the
        # schema changes so far, and has no transaction to save).
        try:
            with (connection.begin_nested() if connection.dialect.name == 'postgresql'
                  else contextlib.nullcontext()):
                ops.create_foreign_key('%s_%s_fkey' % (table, column), table, referred,
                                       [column], ['id'], ondelete='CASCADE')
        except sa.exc.DBAPIError as exc:
            report.note('%s.%s is kept without its foreign key to %s (%s)'
                        % (table, column, referred, str(exc.orig).strip()))


def _set_aside(connection, ops):
    """Rename the upstream tables (once) and drop whatever an interrupted
    conversion created of ours."""
    tables = set(sa.inspect(connection).get_table_names())
    for name in CONVERTED:
        if PREFIX + name not in tables:
            ops.rename_table(name, PREFIX + name)
            if connection.dialect.name == 'postgresql':
                _rename_pg_constraints(connection, PREFIX + name)
    tables = set(sa.inspect(connection).get_table_names())
    for name in OUR_TABLES:
        if name in tables:
            ops.drop_table(name)
    if CONVERSION_VERSION_TABLE in tables:
        ops.drop_table(CONVERSION_VERSION_TABLE)


def _rename_pg_constraints(connection, table):
    """PostgreSQL keeps a renamed table's constraint and index names, which
    the new tables would want (``leases_pkey``...): prefix them too."""
    constraints = connection.execute(sa.text(
        "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"),
        {'t': table}).scalars().all()
    for name in constraints:
        if not name.startswith(PREFIX):
            connection.execute(sa.text('ALTER TABLE %s RENAME CONSTRAINT %s TO %s' % (
                _quote(connection, table), _quote(connection, name),
                _quote(connection, (PREFIX + name)[:63]))))
    indexes = connection.execute(sa.text(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = :t"), {'t': table}).scalars().all()
    for name in indexes:
        if not name.startswith(PREFIX):
            connection.execute(sa.text('ALTER INDEX %s RENAME TO %s' % (
                _quote(connection, name), _quote(connection, (PREFIX + name)[:63]))))


def _create_ours(connection, alembic_cfg):
    """Revisions 0001..TARGET, tracked in a version table of their own."""
    alembic_cfg.attributes['connection'] = connection
    alembic_cfg.attributes['version_table'] = CONVERSION_VERSION_TABLE
    try:
        alembic_command.upgrade(alembic_cfg, TARGET)
    finally:
        alembic_cfg.attributes.pop('version_table', None)


def _read(connection):
    """{upstream table name: [row dicts]} from the renamed tables."""
    metadata = sa.MetaData()
    metadata.reflect(bind=connection, only=[PREFIX + name for name in CONVERTED])
    rows = {}
    for name in CONVERTED:
        table = metadata.tables[PREFIX + name]
        order = [table.c[c] for c in ('created_at', 'id') if c in table.c]
        rows[name] = [dict(r._mapping) for r in connection.execute(
            sa.select(table).order_by(*order))]
    return rows


# --- reshaping ---------------------------------------------------------------

def _stamped(row, now):
    created = row.get('created_at') or row.get('updated_at') or now
    return {'created_at': created, 'updated_at': row.get('updated_at')}


def _derived_status(events):
    """A lease's stable status from its start and end events."""
    by_type = {e['event_type']: e['status'] for e in events}
    start, end = by_type.get('start_lease'), by_type.get('end_lease')
    if 'ERROR' in (start, end):
        return 'ERROR'
    return {('UNDONE', 'UNDONE'): 'PENDING', ('DONE', 'UNDONE'): 'ACTIVE',
            ('DONE', 'DONE'): 'TERMINATED'}.get((start, end), 'ERROR')


def _events(rows, lease_ids, now, report):
    kept, skipped = [], 0
    for row in rows:
        if (row.get('lease_id') not in lease_ids or row.get('time') is None
                or row.get('event_type') not in EVENT_TYPES):
            skipped += 1
            continue
        status = row.get('status') or 'UNDONE'
        if status == 'IN_PROGRESS' or status not in EVENT_STATUSES:
            status = 'UNDONE'   # its run was cut short: it runs again
        kept.append(dict(_stamped(row, now), id=row['id'], lease_id=row['lease_id'],
                         event_type=row['event_type'], time=row['time'],
                         status=status, attempts=0, next_attempt=None,
                         last_error=None, claimed_by=None, claimed_until=None))
    if skipped:
        report.note('%d event(s) left out: no lease, no time, or a type no code '
                    'runs (%s are run)' % (skipped, ', '.join(EVENT_TYPES)))
    return kept


def _leases(rows, events, now, report):
    by_lease = {}
    for event in events:
        by_lease.setdefault(event['lease_id'], []).append(event)
    leases = []
    for row in rows:
        status, reason = row.get('status'), None
        if status not in STABLE_LEASE_STATUSES:
            derived = _derived_status(by_lease.get(row['id'], []))
            reason = ('was %s under upstream Blazar when the database was converted'
                      % (status or 'without a status'))
            report.note('lease %s was %s: now %s' % (row['id'], status, derived))
            status = derived
        leases.append(dict(_stamped(row, now), id=row['id'], name=row['name'],
                           user_id=row.get('user_id'), project_id=row.get('project_id'),
                           start_date=row['start_date'], end_date=row['end_date'],
                           trust_id=row.get('trust_id'), status=status,
                           status_reason=reason, degraded=bool(row.get('degraded'))))
    return leases


def _reservations(rows, leases, now):
    lease_status = {lease['id']: lease['status'] for lease in leases}
    default = {'PENDING': 'pending', 'ACTIVE': 'active', 'TERMINATED': 'deleted'}
    kept = []
    for row in rows:
        if row['lease_id'] not in lease_status:
            continue
        status = row.get('status')
        if status not in RESERVATION_STATUSES:
            status = default.get(lease_status[row['lease_id']], 'error')
        kept.append(dict(_stamped(row, now), id=row['id'], lease_id=row['lease_id'],
                         resource_id=row.get('resource_id'),
                         resource_type=row.get('resource_type') or '', status=status,
                         missing_resources=bool(row.get('missing_resources')),
                         resources_changed=bool(row.get('resources_changed'))))
    return kept


def _host_ids(rows):
    """{upstream id: our integer id}: an all-digit upstream id (Nova's
    hypervisor id before compute API 2.53) is kept, others get the next
    free numbers in the order the hosts were enrolled."""
    ids = {}
    for row in rows:
        text = str(row['id'])
        if text.isascii() and text.isdigit() and 0 < int(text) < 2 ** 31 \
                and int(text) not in ids.values():
            ids[row['id']] = int(text)
    following = max(ids.values(), default=0)
    for row in rows:
        if row['id'] not in ids:
            following += 1
            ids[row['id']] = following
    return ids


def _hosts(rows, host_ids, now):
    names = {}
    hosts = []
    for row in rows:
        hostname = row.get('hypervisor_hostname') or row.get('service_name') or str(row['id'])
        if hostname in names:
            raise ConversionError(
                'Hosts %s and %s both have the hypervisor hostname %s; this service '
                'needs it unique. Delete one of them with upstream Blazar first.'
                % (names[hostname], row['id'], hostname))
        names[hostname] = row['id']
        reservable = row.get('reservable')
        reservable = True if reservable is None else bool(reservable)
        hosts.append(dict(
            _stamped(row, now), id=host_ids[row['id']], hypervisor_id=str(row['id']),
            hypervisor_hostname=hostname,
            service_name=row.get('service_name') or hostname,
            hypervisor_type=(row.get('hypervisor_type') or '')[:255],
            hypervisor_version=row.get('hypervisor_version') or 0,
            vcpus=row['vcpus'], memory_mb=row['memory_mb'], local_gb=row['local_gb'],
            cpu_info=row.get('cpu_info') or '',
            availability_zone=row.get('availability_zone') or '',
            status=row.get('status'), trust_id=row.get('trust_id'),
            reservable=reservable,
            failure_reason=None if reservable else UPSTREAM_FAILED,
            maintenance_start=None, maintenance_reason=None))
    return hosts


def _properties(rows, now):
    ids, props = {}, []
    for number, row in enumerate(rows, start=1):
        ids[row['id']] = number
        props.append(dict(_stamped(row, now), id=number,
                          resource_type=row['resource_type'],
                          property_name=row['property_name'],
                          private=bool(row.get('private'))))
    return ids, props


def _capabilities(rows, host_ids, property_ids, now, report):
    # One value per (host, property): the latest written wins.
    latest = {}
    for row in rows:
        key = (host_ids.get(row.get('computehost_id')), property_ids.get(row['property_id']))
        if None in key:
            continue
        stamp = row.get('updated_at') or row.get('created_at') or now
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, row)
    if len(latest) < len(rows):
        report.note('%d extra capability row(s) of an unknown host or property, or '
                    'repeating a (host, property) pair, left out'
                    % (len(rows) - len(latest)))
    return [dict(_stamped(row, now), computehost_id=key[0], property_id=key[1],
                 capability_value=row['capability_value'])
            for key, (_stamp, row) in latest.items()]


def _per_host_unique(rows, host_ids, key, now, build):
    seen = {}
    for row in rows:
        host_id = host_ids.get(row.get('computehost_id'))
        if host_id is not None:
            seen[(host_id, row[key])] = build(dict(_stamped(row, now),
                                                   computehost_id=host_id), row)
    return list(seen.values())


def _inventories(rows, host_ids, now):
    return _per_host_unique(rows, host_ids, 'resource_class', now, lambda base, row: dict(
        base, resource_class=row['resource_class'], total=row['total'],
        reserved=row['reserved'], min_unit=row['min_unit'], max_unit=row['max_unit'],
        step_size=row['step_size'], allocation_ratio=row['allocation_ratio']))


def _traits(rows, host_ids, now):
    return _per_host_unique(rows, host_ids, 'trait', now,
                            lambda base, row: dict(base, trait=row['trait']))


def _count_range(text):
    try:
        low, high = (int(part) for part in str(text).split('-'))
    except (TypeError, ValueError):
        return None
    return (low, high) if 0 <= low <= high and high >= 1 else None


def _host_reservations(rows, reservation_ids, now, report):
    kept = {}
    for row in rows:
        if row.get('reservation_id') not in reservation_ids:
            continue
        counts = _count_range(row.get('count_range'))
        if counts is None:
            report.note('host reservation %s: count_range %r is not "min-max"; '
                        'kept as 1-1' % (row['id'], row.get('count_range')))
            counts = (1, 1)
        kept[row['reservation_id']] = dict(
            _stamped(row, now), id=row['id'], reservation_id=row['reservation_id'],
            aggregate_id=row.get('aggregate_id'), min_count=counts[0],
            max_count=counts[1],
            hypervisor_properties=row.get('hypervisor_properties') or '',
            resource_properties=row.get('resource_properties') or '',
            before_end=row.get('before_end') if row.get('before_end') is not None
            else 'default')
    return list(kept.values())


def _source_flavor(text):
    """Upstream's copy of a flavor:instance reservation's flavor (python-
    novaclient's flavor dict, stored as JSON in resource_properties) as
    this service keeps it."""
    try:
        flavor = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(flavor, dict) or 'vcpus' not in flavor:
        return None
    return {'id': str(flavor.get('id')), 'name': flavor.get('name'),
            'vcpus': int(flavor['vcpus']), 'ram': int(flavor.get('ram') or 0),
            'disk': int(flavor.get('disk') or 0),
            'ephemeral': int(flavor.get('OS-FLV-EXT-DATA:ephemeral',
                                        flavor.get('ephemeral')) or 0),
            'swap': int(flavor.get('swap') or 0),
            'is_public': bool(flavor.get('os-flavor-access:is_public',
                                         flavor.get('is_public', True))),
            'extra_specs': dict(flavor.get('extra_specs') or {})}


def _instance_reservations(rows, reservation_types, now, report):
    from blazar.plugins.instances import params  # pure functions, no I/O
    kept = {}
    for row in rows:
        resource_type = reservation_types.get(row.get('reservation_id'))
        if resource_type is None:
            continue
        values = dict(_stamped(row, now), id=row['id'],
                      reservation_id=row['reservation_id'], vcpus=row['vcpus'],
                      memory_mb=row['memory_mb'], disk_gb=row['disk_gb'],
                      amount=row['amount'], affinity=row.get('affinity'),
                      resource_properties=row.get('resource_properties') or '',
                      flavor_id=row.get('flavor_id'), source_flavor=None,
                      aggregate_id=row.get('aggregate_id'),
                      server_group_id=row.get('server_group_id'))
        resources = params.shape_resources(row['vcpus'], row['memory_mb'], row['disk_gb'])
        traits = {'required': [], 'forbidden': []}
        if resource_type == params.FLAVOR:
            flavor = _source_flavor(row.get('resource_properties'))
            values['resource_properties'] = ''
            if flavor is None:
                report.note('flavor:instance reservation %s has no readable copy of its '
                            'flavor: its size stands for it' % row['reservation_id'])
            else:
                try:
                    shaped = params.from_flavor({}, flavor)
                except Exception as exc:   # a malformed trait extra spec
                    report.note('flavor:instance reservation %s: %s; its size stands '
                                'for its flavor' % (row['reservation_id'],
                                                    getattr(exc, 'message', exc)))
                else:
                    resources, traits = shaped['resources'], shaped['traits']
                    values.update(vcpus=shaped['vcpus'], memory_mb=shaped['memory_mb'],
                                  disk_gb=shaped['disk_gb'])
                values['source_flavor'] = json.dumps(flavor, sort_keys=True)
        values['resources'] = json.dumps(resources, sort_keys=True)
        values['traits'] = json.dumps(traits, sort_keys=True)
        kept[row['reservation_id']] = values
    return list(kept.values())


def _allocations(rows, host_ids, reservations, leases, now):
    """One row per (reservation, host), counting upstream's rows (one per
    instance slot) as slots, over the lease's window."""
    windows = {lease['id']: (lease['start_date'], lease['end_date']) for lease in leases}
    lease_of = {r['id']: r['lease_id'] for r in reservations}
    slots, first = {}, {}
    for row in rows:
        host_id = host_ids.get(row.get('compute_host_id'))
        reservation_id = row.get('reservation_id')
        if host_id is None or reservation_id not in lease_of:
            continue
        key = (reservation_id, host_id)
        slots[key] = slots.get(key, 0) + 1
        first.setdefault(key, row)
    allocations = []
    for (reservation_id, host_id), count in slots.items():
        start, end = windows[lease_of[reservation_id]]
        allocations.append(dict(_stamped(first[(reservation_id, host_id)], now),
                                compute_host_id=host_id, reservation_id=reservation_id,
                                start_date=start, end_date=end, slots=count))
    return allocations


def _write(connection, source, now, report):
    leases_in = source['leases']
    lease_ids = {row['id'] for row in leases_in}
    events = _events(source['events'], lease_ids, now, report)
    leases = _leases(leases_in, events, now, report)
    reservations = _reservations(source['reservations'], leases, now)
    reservation_types = {r['id']: r['resource_type'] for r in reservations}
    host_ids = _host_ids(source['computehosts'])
    hosts = _hosts(source['computehosts'], host_ids, now)
    property_ids, properties = _properties(source['resource_properties'], now)
    tables = [
        ('leases', leases),
        ('reservations', reservations),
        ('events', events),
        ('computehosts', hosts),
        ('resource_properties', properties),
        ('computehost_extra_capabilities', _capabilities(
            source['computehost_extra_capabilities'], host_ids, property_ids, now,
            report)),
        ('computehost_inventories', _inventories(
            source['computehost_resource_inventory'], host_ids, now)),
        ('computehost_traits', _traits(source['computehost_trait'], host_ids, now)),
        ('computehost_reservations', _host_reservations(
            source['computehost_reservations'], reservation_types, now, report)),
        ('instance_reservations', _instance_reservations(
            source['instance_reservations'], reservation_types, now, report)),
        ('computehost_allocations', _allocations(
            source['computehost_allocations'], host_ids, reservations, leases, now)),
    ]
    metadata = sa.MetaData()
    metadata.reflect(bind=connection, only=[name for name, _rows in tables])
    for name, rows in tables:
        if rows:
            table = metadata.tables[name]
            for start in range(0, len(rows), 500):
                connection.execute(table.insert(), rows[start:start + 500])
        report.count(name, rows)
    if connection.dialect.name == 'postgresql':
        # Explicit ids leave the serial sequences behind.
        for name in ('computehosts', 'resource_properties'):
            connection.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                "COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)"
                % _quote(connection, name)), {'t': name})
