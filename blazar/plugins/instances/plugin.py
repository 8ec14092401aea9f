"""virtual:instance and flavor:instance: room for N instances of a shape.

A reservation holds *slots* (room for one instance) on hosts, counted in
the allocation rows; how many fit where is decided by the pure slot
arithmetic over every reservation's holdings (:mod:`.capacity`), inside the
allocation lock, so host and instance reservations share the hosts without
ever over-committing one. The hosts stay in the freepool: the reservation's
flavor, aggregate and Placement inventory (:mod:`.cloud`) are what confine
its instances to its slots.
"""
import collections
import json
import logging

from oslo_utils import timeutils

from blazar import exceptions
from blazar.allocation import preemption as preemption_choice
from blazar.clients import nova
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins import preemption
from blazar.plugins.hosts import plugin as host_plugin
from blazar.plugins.instances import calendar
from blazar.plugins.instances import capacity
from blazar.plugins.instances import cloud
from blazar.plugins.instances import params as checks

LOG = logging.getLogger(__name__)
SHAPE_KEYS = ('vcpus', 'memory_mb', 'disk_gb', 'resources', 'traits', 'source_flavor')
PARAM_KEYS = SHAPE_KEYS + ('amount', 'affinity', 'resource_properties')


def _differs(new, old, keys=PARAM_KEYS):
    return any(new.get(k) != old.get(k) for k in keys)


def stored_params(row):
    return {'vcpus': row['vcpus'], 'memory_mb': row['memory_mb'],
            'disk_gb': row['disk_gb'], 'amount': row['amount'],
            'affinity': row['affinity'],
            'resource_properties': row['resource_properties'] or '',
            'resources': capacity.per_instance(row),
            'traits': json.loads(row['traits']) if row.get('traits') else
            {'required': [], 'forbidden': []},
            'source_flavor': (json.loads(row['source_flavor'])
                              if row.get('source_flavor') else None)}


def _row_values(params):
    return {'vcpus': params['vcpus'], 'memory_mb': params['memory_mb'],
            'disk_gb': params['disk_gb'], 'amount': params['amount'],
            'affinity': params['affinity'],
            'resource_properties': params['resource_properties'],
            'resources': json.dumps(params['resources'], sort_keys=True),
            'traits': json.dumps(params['traits'], sort_keys=True),
            'source_flavor': (json.dumps(params['source_flavor'], sort_keys=True)
                              if params.get('source_flavor') else None)}


class VirtualInstancePlugin(base.ResourcePlugin):
    resource_type = checks.VIRTUAL

    def __init__(self):
        # The slot calendars by shape, kept by this manager for its lease
        # creates and availability answers alike.
        self.calendars = calendar.SlotCalendars()

    def validate_reservation(self, values):
        return checks.check_virtual(values)

    def prepare(self, context, lease, values):
        """Parameters that need the cloud to be known (the flavor's shape)."""
        return values

    def merged(self, current, changes):
        """The parameters after an update's ``changes``."""
        values = {k: current[k] for k in checks.VIRTUAL_PARAMS}
        values.update(changes)
        return checks.check_virtual(values)

    @staticmethod
    def _window(lease):
        return (lease['start_date'], lease['end_date'])

    def reserve(self, context, lease, reservation_id, values, row_id):
        window = self._window(lease)
        slots = capacity.select(context, window, values, cached=self.calendars)
        db_api.instance_reservation_create(context, dict(
            _row_values(values), id=row_id, reservation_id=reservation_id,
            flavor_id=reservation_id))
        db_api.reservation_slots_set(context, reservation_id, slots, *window, new=True)
        LOG.info('Reservation %s holds instance slots %s from %s to %s',
                 reservation_id, slots, *window)

    def update_reservation(self, context, lease, reservation, changes):
        """``changes`` come through ``prepare_update`` (a new flavor's shape
        read before the lock)."""
        row = reservation['instance_reservation']
        old = stored_params(row)
        status = reservation['status']
        if changes and status not in ('pending', 'active'):
            raise exceptions.CantUpdateParameter(
                param=', '.join(sorted(changes)),
                reason='reservation %s is %s' % (reservation['id'], status))
        new = self.merged(old, changes) if changes else old
        active = status == 'active'
        if active:
            self._check_active_change(old, new)
        window = self._window(lease)
        current = db_api.reservation_slots(context, reservation['id'])
        if not _differs(new, old) and host_plugin.within_held_window(
                context, reservation['id'], window):
            # Room held for a window is room for any part of it.
            db_api.allocations_set_window(context, reservation['id'], *window)
            return
        slots = capacity.select(context, window, new, reservation_id=reservation['id'],
                                current=current, allow_drop=not active)
        db_api.reservation_slots_set(context, reservation['id'], slots, *window)
        db_api.instance_reservation_update(context, row['id'], _row_values(new))
        if slots != current:
            LOG.info('Reservation %s: instance slots %s -> %s', reservation['id'],
                     current, slots)

    @staticmethod
    def _check_active_change(old, new):
        fixed = sorted(k for k in ('vcpus', 'memory_mb', 'disk_gb', 'affinity',
                                   'resource_properties', 'source_flavor')
                       if new.get(k) != old.get(k))
        if fixed:
            raise exceptions.CantUpdateParameter(
                param=', '.join(fixed),
                reason='the reservation is active: only its amount can grow')
        if new['amount'] < old['amount']:
            raise exceptions.CantUpdateParameter(
                param='amount', reason='the reservation is active: its amount can '
                'grow, not shrink (%d -> %d)' % (old['amount'], new['amount']))

    def _hosts(self, context, reservation_id):
        slots = db_api.reservation_slots(context, reservation_id)
        return slots, {h['id']: h for h in db_api.hosts_get(context, slots)}

    # --- the cloud (blazar/plugins/instances/cloud.py) --------------------------
    def intent_spec(self, context, lease, reservation, phase):
        slots, hosts = self._hosts(context, reservation['id'])
        return cloud.spec(lease, reservation['id'],
                          stored_params(reservation['instance_reservation']), hosts, slots)

    def plan(self, phase, spec, observed):
        return cloud.plan(phase, spec, observed)

    def marked_objects(self):
        return cloud.marked_objects()

    def remember(self, context, reservation_id, observed):
        db_api.instance_reservation_remember(
            context, reservation_id, observed.get('aggregate_id'),
            (observed.get('group') or {}).get('id'))

    def heal(self, context, lease, reservation, lost_host_ids):
        """Move the slots held on lost hosts to other hosts, one lost host at
        a time (all of them to one host with affinity; never onto a host the
        reservation already uses without it); see the base class."""
        held = db_api.reservation_slots(context, reservation['id'])
        lost = [h for h in dict.fromkeys(lost_host_ids) if h in held]
        active = reservation['status'] == 'active'
        now = timeutils.utcnow()
        start = max(now, lease['start_date']) if active else lease['start_date']
        if not lost or start >= lease['end_date']:
            return not lost
        params = stored_params(reservation['instance_reservation'])
        moved = {}
        for host_id in lost:
            count = held[host_id]
            keep = [h for h in held if h != host_id]
            try:
                found = capacity.select(
                    context, (start, lease['end_date']), dict(params, amount=count),
                    exclude=set(lost) | (set(keep) if params['affinity'] is False
                                         else set()))
            except exceptions.NotEnoughResources:
                LOG.warning('Reservation %s: no room for %d instance(s) of lost host '
                            '%s', reservation['id'], count, host_id)
                continue
            for new_host, n in found.items():
                held[new_host] = held.get(new_host, 0) + n
            moved[host_id] = found
            del held[host_id]
        if not moved:
            return False
        added = collections.Counter()
        for found in moved.values():
            added.update(found)
        if active:
            db_api.reservation_update(context, reservation['id'],
                                      {'resources_changed': True})
        db_api.reservation_slots_set(context, reservation['id'], held,
                                     lease['start_date'], lease['end_date'])
        LOG.info('Reservation %s (%s): slots of hosts %s moved: %s', reservation['id'],
                 reservation['status'], list(moved), moved)
        return len(moved) == len(lost)

    def preemption_targets(self, context, lease, reservation):
        """On each host, just enough preemptible servers that the room every
        instance reservation holds there at this lease's start fits beside
        what stays (the hosts stay shared: only the room is cleared)."""
        _slots, hosts = self._hosts(context, reservation['id'])
        if not hosts:
            return preemption.targets()
        at = lease['start_date']
        held = db_api.slot_holdings(context, at)
        inventories, _traits = db_api.host_inventories(context, list(hosts))
        shape = stored_params(reservation['instance_reservation'])['resources']
        client = nova.get_client()
        reclaim, blocked = [], []
        for host_id, host in sorted(hosts.items()):
            room, names = {}, set()
            for start, end, row, count in held.get(host_id, ()):
                if row is None or not start <= at < end:
                    continue
                names.add(cloud.NAME_PREFIX + row['reservation_id'])
                for rc, amount in capacity.per_instance(row).items():
                    room[rc] = room.get(rc, 0) + amount * count
            servers = sorted(client.servers_on_host(host['service_name']),
                             key=lambda s: s.get('created') or '', reverse=True)
            outside = [s for s in servers
                       if (s.get('flavor') or {}).get('original_name') not in names]
            victims, in_way = preemption_choice.choose(
                capacity.host_capacity(host, inventories.get(host_id), shape), room,
                [(s['id'], preemption.resources(s), preemption.is_preemptible(s))
                 for s in outside])
            by_id = {s['id']: s for s in outside}
            reclaim += [(by_id[i], host) for i in victims]
            blocked += [(by_id[i], host) for i in in_way]
        return preemption.targets(reclaim, blocked)

    def reservation_fields(self, reservation):
        row = reservation.get('instance_reservation')
        if not row:
            return {}
        return {'vcpus': row['vcpus'], 'memory_mb': row['memory_mb'],
                'disk_gb': row['disk_gb'], 'amount': row['amount'],
                'affinity': row['affinity'],
                'resource_properties': row['resource_properties'] or '',
                'flavor_id': row['flavor_id'], 'server_group_id': row['server_group_id'],
                'aggregate_id': row['aggregate_id']}


class FlavorInstancePlugin(VirtualInstancePlugin):
    """N instances of an existing flavor: its resources and traits are
    read from Nova at creation and kept with the reservation."""
    resource_type = checks.FLAVOR

    def validate_reservation(self, values):
        return checks.check_flavor_request(values)

    def prepare(self, context, lease, values):
        client = nova.get_client()
        flavor = client.get_flavor(values['flavor_id'])
        if flavor is None or not client.flavor_usable_by(flavor, lease['project_id']):
            raise exceptions.InvalidInput(
                reason='flavor %s does not exist or is not available to project %s'
                       % (values['flavor_id'], lease['project_id']))
        return checks.from_flavor(values, flavor)

    def prepare_update(self, context, lease, reservation, changes):
        """A new flavor is read from Nova here, before the lock."""
        flavor_id = changes.get('flavor_id')
        row = reservation['instance_reservation']
        current = stored_params(row)['source_flavor'] or {}
        if not flavor_id or flavor_id == current.get('id'):
            return changes
        shape = self.prepare(context, lease, checks.check_flavor_request(dict(
            {'flavor_id': flavor_id, 'amount': row['amount'], 'affinity': row['affinity'],
             'resource_properties': row['resource_properties'] or ''}, **changes)))
        return dict(changes, **{k: shape[k] for k in SHAPE_KEYS})

    def merged(self, current, changes):
        values = {'flavor_id': current['source_flavor']['id'],
                  'amount': current['amount'], 'affinity': current['affinity'],
                  'resource_properties': current['resource_properties']}
        values.update({k: v for k, v in changes.items() if k not in SHAPE_KEYS})
        values = checks.check_flavor_request(values)
        # The shape stays the one read at creation, whatever the flavor
        # became since, unless prepare_update read a new flavor's.
        shape = {k: changes.get(k, current[k]) for k in SHAPE_KEYS}
        return dict(values, **shape)

    def reservation_fields(self, reservation):
        fields = super().reservation_fields(reservation)
        row = reservation.get('instance_reservation')
        if fields and row.get('source_flavor'):
            # As upstream shows it: the source flavor, as JSON.
            fields['resource_properties'] = row['source_flavor']
        return fields
