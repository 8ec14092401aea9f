"""physical:host — whole compute hosts reserved for a time window.

In Nova a host reservation is an aggregate named after the reservation,
with availability zone ``blazar_<id>`` and the owner project in its
metadata (what the blazar-nova filter reads). It exists from creation; the
hosts move from the freepool into it at the start and back at the end.
"""
import datetime
import json
import logging
import random

from oslo_config import cfg
from oslo_utils import timeutils

from blazar import exceptions
from blazar.allocation import hosts as host_allocation
from blazar.allocation import properties
from blazar.clients import nova
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins import preemption
from blazar.plugins.hosts import calendar
from blazar.plugins.hosts import cloud
from blazar.plugins.hosts import healing
from blazar.plugins.hosts import health
from blazar.plugins.hosts import inventory

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

PARAMS = ('min', 'max', 'hypervisor_properties', 'resource_properties', 'before_end')
BEFORE_END_ACTIONS = ('', 'default', 'snapshot')


def _positive_int(values, key):
    value = values.get(key)
    if value is None:
        raise exceptions.MissingParameter(param=key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise exceptions.MalformedParameter(param=key, reason='%r is not an integer'
                                            % (value,))
    if value < 1:
        raise exceptions.InvalidRange(what='hosts', reason='%s must be at least 1' % key)
    return value


def _query_text(values, key):
    """A property query as stored and shown: the client's JSON text."""
    value = values.get(key, '')
    if value is None:
        value = ''
    try:
        properties.parse(value)
    except exceptions.MalformedRequirements as exc:
        raise exceptions.MalformedRequirements('%s: %s' % (key, exc.message))
    return value if isinstance(value, str) else json.dumps(value)


def check_params(values):
    """Normalised host reservation parameters, or a 400 naming the field."""
    unknown = set(values) - set(PARAMS) - {'resource_type', 'id'}
    if unknown:
        raise exceptions.InvalidInput(
            reason='Unknown parameter(s) for physical:host: %s (allowed: %s)'
                   % (', '.join(sorted(unknown)), ', '.join(PARAMS)))
    params = {'min': _positive_int(values, 'min'), 'max': _positive_int(values, 'max'),
              'hypervisor_properties': _query_text(values, 'hypervisor_properties'),
              'resource_properties': _query_text(values, 'resource_properties'),
              'before_end': values.get('before_end') or 'default'}
    if params['min'] > params['max']:
        raise exceptions.InvalidRange(
            what='hosts', reason='%s Got min %d and max %d.'
            % (exceptions.InvalidRange.MAX_BELOW_MIN, params['min'], params['max']))
    if params['before_end'] not in BEFORE_END_ACTIONS:
        raise exceptions.MalformedParameter(
            param='before_end', reason="must be one of '', 'default', 'snapshot'")
    return params


def _stored_params(host_reservation):
    return {'min': host_reservation['min_count'], 'max': host_reservation['max_count'],
            'hypervisor_properties': host_reservation['hypervisor_properties'],
            'resource_properties': host_reservation['resource_properties'],
            'before_end': host_reservation['before_end']}


def host_attributes(host):
    attributes = {key: host[key] for key in inventory.HOST_FIELDS if key in host}
    attributes.update(host['capabilities'])
    return attributes


def _margin():
    return datetime.timedelta(minutes=CONF.cleaning_time)


margin = _margin


def load_candidates(context, host_ids=None):
    """The reservable hosts as the allocation core sees them (two queries,
    whatever their number: hosts, their capabilities), by id. Shared by
    lease creation and availability. ``host_ids``: among those hosts only."""
    return [host_allocation.Host(id=h['id'], attributes=host_attributes(h),
                                 size=(h['vcpus'], h['memory_mb'], h['local_gb']))
            for h in db_api.host_list_flat(context, reservable=True,
                                           host_ids=host_ids)]


def load_busy(context, now, reservation_id=None, host_ids=None):
    """{host id: [(start, end), ...]}: everything that can still conflict
    with a window starting at ``now`` or later (one query): allocations,
    and maintenance from its start on (blazar.plugins.hosts.health).
    ``host_ids``: on those hosts only."""
    return db_api.busy_with_maintenance(context, now - _margin(),
                                        exclude_reservation_id=reservation_id,
                                        host_ids=host_ids)


def load_calendar(context, since, host_ids=None, rows_of=None):
    """``(candidates, busy)``: the calendar as :class:`.calendar.CalendarCache`
    loads it (no query for the hosts when ``rows_of`` is empty: a lease
    write changed only what holds them)."""
    if rows_of is None:
        rows_of = host_ids
    return ([] if rows_of == [] else load_candidates(context, host_ids=rows_of),
            load_busy(context, since, host_ids=host_ids))


def new_calendar():
    """A manager's cached calendar of hosts (blazar/plugins/hosts/calendar.py)."""
    return calendar.CalendarCache(load_calendar, margin)


def select_hosts(context, window, params, reservation_id=None, current=(),
                 allow_drop=True, cached=None, own=None):
    """Ids of the hosts a reservation gets for ``window``, under the
    allocation lock: the calendar (``cached``'s view of it, caught up on
    the hosts changed since: no query over every host; else three
    queries), then the pure allocation core. ``own``: the reservation's
    allocation rows, if the caller has read them."""
    now = timeutils.utcnow()
    if cached is None:
        candidates = load_candidates(context)
        busy = load_busy(context, now, reservation_id)
    else:
        snap = cached.locked_view(context)
        if own is None:
            own = [] if reservation_id is None else db_api.allocation_list(
                context, reservation_id=reservation_id)
        candidates, busy = snap.candidates, _BusyAsLoaded(snap.busy, now - _margin(), own)
    query = properties.combine(params['hypervisor_properties'],
                               params['resource_properties'])
    rng = random.Random() if CONF['physical:host'].randomize_host_selection else None
    return host_allocation.select_hosts(
        candidates, busy, window, params['min'], params['max'], margin=_margin(),
        query=query, current=current, allow_drop=allow_drop, now=now, rng=rng)


class _BusyAsLoaded:
    """A cached calendar's busy intervals as ``load_busy`` would read them
    now: those ending after ``ends_after`` (the cache also keeps some that
    ended since it was loaded), less the reservation's ``own`` allocations
    (choosing its hosts again, it does not conflict with itself; a host is
    never held twice for the same interval). Worked out per host when
    asked: the allocation core asks for the hosts that match alone."""

    def __init__(self, busy, ends_after, own):
        self._busy = busy
        self._ends_after = ends_after
        self._own = {}
        for row in own:
            self._own.setdefault(row['compute_host_id'], []).append(
                (row['start_date'], row['end_date']))

    def get(self, host_id, default=()):
        entries = self._busy.get(host_id)
        if entries is None:
            return default
        kept = [e for e in entries if e[1] > self._ends_after]
        for interval in self._own.get(host_id, ()):
            if interval in kept:
                kept.remove(interval)
        return kept


def within_held_window(context, reservation_id, window, rows=None):
    """Whether the reservation's allocations (``rows``, if the caller has
    read them) already cover ``window`` from now on (what is past is
    history, and a host healing brought in is held only from then): if so,
    nothing needs choosing again."""
    now = timeutils.utcnow()
    start = max(window[0], now)
    if rows is None:
        rows = db_api.allocation_list(context, reservation_id=reservation_id)
    return all(max(r['start_date'], now) <= start and window[1] <= r['end_date']
               for r in rows)


class PhysicalHostPlugin(base.ResourcePlugin):
    resource_type = inventory.RESOURCE_TYPE

    def __init__(self):
        # The hosts' calendar, kept by this manager for its lease writes and
        # availability answers alike.
        self.calendar = new_calendar()

    # Host inventory, exposed to the manager's RPC surface; hosts are shown
    # with their health (state, state_reason).
    @staticmethod
    def get_host(context, host_ref):
        return health.describe(inventory.get_host(context, host_ref))

    @staticmethod
    def list_hosts(context, filters=None, page=None):
        """Hosts with their health; ``filters`` (reservable, state,
        capability [name, value]) and ``page`` (limit, marker, sort_key,
        sort_dir) as db_api.host_page takes them."""
        now = timeutils.utcnow()
        if filters or page:
            filters = dict(filters or {})
            if filters.get('capability') is not None:
                filters['capability'] = tuple(filters['capability'])
            hosts = db_api.host_page(context, filters=filters, page=page, now=now)
        else:
            hosts = inventory.list_hosts(context)
        return [health.describe(h, now) for h in hosts]

    @staticmethod
    def create_host(context, values):
        return health.describe(inventory.create_host(context, values))

    set_maintenance = staticmethod(health.set_maintenance)
    clear_maintenance = staticmethod(health.clear_maintenance)
    delete_host = staticmethod(inventory.delete_host)
    list_allocations = staticmethod(inventory.list_allocations)
    list_resource_properties = staticmethod(inventory.list_resource_properties)
    update_resource_property = staticmethod(inventory.update_resource_property)

    def update_host(self, context, host_ref, values):
        return health.describe(inventory.update_host(
            context, host_ref, values, capability_in_use=self._capabilities_in_use))

    @staticmethod
    def _capabilities_in_use(context, host, keys):
        """Capabilities that current or future reservations of the host query."""
        used = set()
        for reservation in db_api.reservations_holding_host(context, host['id'],
                                                            timeutils.utcnow()):
            row = reservation['host_reservation'] or reservation['instance_reservation']
            if row:
                for field in ('hypervisor_properties', 'resource_properties'):
                    if row.get(field):
                        used |= properties.keys(row[field])
        return used & set(keys)

    # --- reservations ---------------------------------------------------------
    def validate_reservation(self, values):
        return check_params(values)

    def reserve(self, context, lease, reservation_id, values, row_id):
        window = (lease['start_date'], lease['end_date'])
        host_ids = select_hosts(context, window, values, cached=self.calendar)
        db_api.host_reservation_create(context, {
            'id': row_id, 'reservation_id': reservation_id,
            'min_count': values['min'], 'max_count': values['max'],
            'hypervisor_properties': values['hypervisor_properties'],
            'resource_properties': values['resource_properties'],
            'before_end': values['before_end']})
        db_api.allocations_create(context, reservation_id, host_ids, *window, new=True)
        LOG.info('Reservation %s holds hosts %s from %s to %s', reservation_id,
                 host_ids, *window)

    def update_reservation(self, context, lease, reservation, changes):
        row = reservation['host_reservation']
        params = check_params(dict(_stored_params(row), **changes))
        window = (lease['start_date'], lease['end_date'])
        # Its allocations, read once: its hosts, whether they cover the
        # window, and what not to count against it when choosing again.
        own = db_api.allocation_list(context, reservation_id=reservation['id'])
        current = [r['compute_host_id'] for r in sorted(own, key=lambda r: r['id'])]
        active = reservation['status'] == 'active'
        if params == _stored_params(row) and within_held_window(
                context, reservation['id'], window, rows=own):
            # Hosts free for a window are free for any part of it.
            db_api.allocations_set_window(context, reservation['id'], *window)
            return
        # Hosts failed or in maintenance stay held, waiting for healing or
        # their return (blazar.manager.healing); the others are re-chosen.
        lost = self._lost_hosts(context, current, lease['end_date'])
        usable = [h for h in current if h not in lost]
        if params['max'] < len(lost) or (params['max'] == len(lost) and active
                                          and usable):
            raise exceptions.NotEnoughHostsAvailable(
                reason='the reservation holds %d host(s) failed or in maintenance '
                       '(%s) besides %d working one(s): max cannot go below that '
                       'until they are replaced or back'
                       % (len(lost), ', '.join(map(str, lost)), len(usable)))
        chosen = []
        if params['max'] > len(lost):
            wanted = dict(params, min=max(params['min'] - len(lost), 0),
                          max=params['max'] - len(lost))
            chosen = select_hosts(context, window, wanted,
                                  reservation_id=reservation['id'], current=usable,
                                  allow_drop=not active, cached=self.calendar,
                                  own=own)
        added = [h for h in chosen if h not in current]
        dropped = [h for h in usable if h not in chosen]
        if dropped:
            db_api.allocations_delete(context, reservation['id'], dropped)
        db_api.allocations_set_window(context, reservation['id'], *window)
        if added:
            db_api.allocations_create(context, reservation['id'], added, *window)
        if params != _stored_params(row):
            db_api.host_reservation_update(context, row['id'], {
                'min_count': params['min'], 'max_count': params['max'],
                'hypervisor_properties': params['hypervisor_properties'],
                'resource_properties': params['resource_properties'],
                'before_end': params['before_end']})
        if added or dropped:
            LOG.info('Reservation %s: hosts %s added, %s dropped', reservation['id'],
                     added, dropped)

    @staticmethod
    def _lost_hosts(context, host_ids, end):
        """Those of ``host_ids`` unusable before ``end`` (one query)."""
        now = timeutils.utcnow()
        lost = {h['id'] for h in db_api.host_health_list(context, set(host_ids))
                if (health.lost_since(h, now) or end) < end}
        return [h for h in dict.fromkeys(host_ids) if h in lost]


    # --- the cloud (blazar/plugins/hosts/cloud.py) ------------------------------
    def _hosts(self, context, reservation):
        return db_api.hosts_get(context, db_api.reservation_host_ids(context,
                                                                     reservation['id']))

    def intent_spec(self, context, lease, reservation, phase):
        # Its hosts join its aggregate at its start: a reserved intent names
        # none (the aggregate is made empty), and reads none.
        names = None if phase == 'reserved' else db_api.reservation_service_names(
            context, reservation['id'])
        return cloud.spec(lease, reservation['id'], names)

    def plan(self, phase, spec, observed):
        return cloud.plan(phase, spec, observed)

    def marked_objects(self):
        return cloud.marked_objects()

    def remember(self, context, reservation_id, observed):
        db_api.host_reservation_remember(context, reservation_id,
                                         observed.get('aggregate_id'))

    def preemption_targets(self, context, lease, reservation):
        """Every server on the hosts to hand over: the whole host is the
        tenant's."""
        client = nova.get_client()
        reclaim, blocked = [], []
        for host in self._hosts(context, reservation):
            for server in client.servers_on_host(host['service_name']):
                (reclaim if preemption.is_preemptible(server) else blocked).append(
                    (server, host))
        return preemption.targets(reclaim, blocked)

    def before_end(self, context, lease, reservation):
        action = reservation['host_reservation']['before_end']
        if action == 'default':
            action = CONF['physical:host'].before_end
        if action != 'snapshot':
            return
        client = nova.get_client()
        for host in self._hosts(context, reservation):
            for server in client.servers_on_host(host['service_name']):
                client.snapshot_server(server['id'],
                                       CONF.nova.image_prefix + server.get('name', ''))

    def heal(self, context, lease, reservation, lost_host_ids):
        return healing.heal(context, lease, reservation, lost_host_ids,
                            params=_stored_params(reservation['host_reservation']),
                            select=select_hosts)

    def reservation_fields(self, reservation):
        row = reservation.get('host_reservation')
        if not row:
            return {}
        return _stored_params(row)
