"""physical:host healing: move a reservation off hosts it can no longer use
(the plugin side of :meth:`blazar.plugins.base.ResourcePlugin.heal`).

A lost host is replaced by one matching the reservation's properties and
free for the rest of its window, chosen by the placement policy of lease
creation. An active reservation gets the replacement in Nova at once (into
its aggregate, out of the freepool); the lost host goes back to the
freepool and leaves the aggregate if Nova lets it (instances still on it
keep it there until the lease ends). A lost host without replacement keeps
its allocation: the reservation waits for it, and is whole again when it
recovers.
"""
import logging

from oslo_utils import timeutils

from blazar import exceptions
from blazar.clients import nova
from blazar.db import api as db_api

LOG = logging.getLogger(__name__)


def _release(context, reservation, host_ids, undo):
    """Give lost hosts of an active reservation back to the freepool, and
    take them out of its aggregate unless Nova refuses (servers on them)."""
    client = nova.get_client()
    freepool = client.freepool()
    aggregate = client.find_aggregate(reservation['id'])
    for host in db_api.hosts_get(context, host_ids):
        name = host['service_name']
        client.add_host(freepool['id'], name)
        undo.add(client.remove_host, freepool['id'], name)
        if aggregate is None:
            continue
        try:
            client.remove_host(aggregate['id'], name)
        except exceptions.BlazarException as exc:
            LOG.warning('Host %s stays in the aggregate of reservation %s until '
                        'its lease ends: %s', name, reservation['id'], exc)
        else:
            undo.add(client.add_host, aggregate['id'], name)


def heal(context, lease, reservation, lost_host_ids, undo, params, select,
         hand_over):
    """See :meth:`blazar.plugins.base.ResourcePlugin.heal`. ``params``: the
    reservation's stored parameters; ``select(context, window, params)``:
    host selection of lease creation (the reservation's own allocations
    count as busy); ``hand_over(context, lease, reservation, host_ids,
    undo)``: the start's Nova hand-over."""
    now = timeutils.utcnow()
    held = db_api.reservation_host_ids(context, reservation['id'])
    lost = [h for h in dict.fromkeys(lost_host_ids) if h in held]
    if not lost:
        return True
    active = reservation['status'] == 'active'
    start = max(now, lease['start_date']) if active else lease['start_date']
    if start >= lease['end_date']:
        return False
    chosen = select(context, (start, lease['end_date']),
                    dict(params, min=0, max=len(lost)))
    moved = dict(zip(lost, chosen, strict=False))
    if not moved:
        return False
    if active:
        hand_over(context, lease, reservation, list(moved.values()), undo)
        _release(context, reservation, list(moved), undo)
        db_api.reservation_update(context, reservation['id'],
                                  {'resources_changed': True})
    db_api.allocations_delete(context, reservation['id'], list(moved))
    db_api.allocations_create(context, reservation['id'], list(moved.values()),
                              start, lease['end_date'])
    LOG.info('Reservation %s (%s): hosts %s replaced by %s', reservation['id'],
             reservation['status'], list(moved), list(moved.values()))
    return len(moved) == len(lost)
