"""What the slot arithmetic (:mod:`blazar.allocation.slots`) needs, read
from the store in a fixed number of queries whatever the number of hosts.

A host's capacity per resource class is its Placement inventory,
``(total - reserved) x allocation_ratio``, copied into the store at
enrolment; a host without a copied inventory offers its raw hypervisor
sizes. A class whose ``max_unit`` is below one instance's need cannot hold
that instance at all, however much is free.
"""
import json

from oslo_utils import timeutils

from blazar.allocation import hosts as host_allocation
from blazar.allocation import properties
from blazar.allocation import slots as slot_allocation
from blazar.db import api as db_api
from blazar.plugins.hosts import plugin as host_plugin
from blazar.plugins.instances import params


def raw_capacity(host):
    return {'VCPU': host['vcpus'], 'MEMORY_MB': host['memory_mb'],
            'DISK_GB': host['local_gb']}


def usable(inventory):
    return (inventory['total'] - inventory['reserved']) * inventory['allocation_ratio']


def host_capacity(host, inventories, resources):
    """Usable amount per class of one host for instances needing
    ``resources``."""
    if not inventories:
        return raw_capacity(host)
    capacity = {}
    for rc, inv in inventories.items():
        too_big = resources.get(rc, 0) > inv['max_unit']
        capacity[rc] = 0 if too_big else usable(inv)
    return capacity


def per_instance(row):
    """One instance's needs of a stored instance reservation."""
    if row.get('resources'):
        return json.loads(row['resources'])
    return params.shape_resources(row['vcpus'], row['memory_mb'], row['disk_gb'])


def _has_traits(host_traits, traits):
    return (set(traits.get('required', ())) <= host_traits
            and not set(traits.get('forbidden', ())) & host_traits)


def load(context, resources, traits, reservation_id=None, since=None,
         host_ids=None):
    """``(candidates, holdings)`` for :func:`slots.select_slots`: reservable
    hosts having the traits, with their capacity for this shape, and what
    every other reservation (or a maintenance to come) holds on them (four
    queries). ``since``: the
    earliest window start the holdings must answer for (default now; the
    availability calendar may look at the past). ``host_ids``: of those
    hosts only (the availability cache's delta)."""
    hosts = db_api.host_list_flat(context, reservable=True, host_ids=host_ids)
    inventories, host_traits = db_api.host_inventories(context, host_ids)
    candidates = [
        host_allocation.Host(
            id=h['id'], attributes=host_plugin.host_attributes(h),
            size=(h['vcpus'], h['memory_mb'], h['local_gb']),
            capacity=host_capacity(h, inventories.get(h['id']), resources))
        for h in hosts if _has_traits(host_traits.get(h['id'], set()), traits)]
    since = timeutils.utcnow() if since is None else since
    held = db_api.slot_holdings(context, since - host_plugin.margin(),
                                exclude_reservation_id=reservation_id,
                                host_ids=host_ids)
    holdings = {host_id: [(s, e, per_instance(row) if row else None, n)
                          for s, e, row, n in items]
                for host_id, items in held.items()}
    # A maintenance to come is a whole-host hold from its start.
    for h in hosts:
        if h.get('maintenance_start') is not None:
            holdings.setdefault(h['id'], []).append(
                (h['maintenance_start'], db_api.MAINTENANCE_END, None, 1))
    return candidates, holdings


def select(context, window, params, reservation_id=None, current=None,
           allow_drop=True, exclude=(), cached=None):
    """``{host id: slots}`` for a reservation of ``params`` over ``window``,
    on none of the hosts in ``exclude``, under the allocation lock. A new
    reservation's (no ``reservation_id``) reads ``cached``'s view of the
    calendar (SlotCalendars.locked_view: the hosts changed since, not every
    host); a reservation that holds slots already loads the calendar
    without its own holdings."""
    if cached is not None and reservation_id is None:
        view = cached.locked_view(context, params['resources'], params['traits'])
        candidates, holdings = view.candidates, view.busy
    else:
        candidates, holdings = load(context, params['resources'], params['traits'],
                                    reservation_id)
    if exclude:
        candidates = [c for c in candidates if c.id not in exclude]
    return slot_allocation.select_slots(
        candidates, holdings, params['resources'], params['amount'], window,
        margin=host_plugin.margin(), affinity=params['affinity'],
        query=properties.combine('', params['resource_properties']),
        current=current, allow_drop=allow_drop)

