"""physical:host healing: move a reservation off hosts it can no longer use
(the plugin side of :meth:`blazar.plugins.base.ResourcePlugin.heal`).

A lost host is replaced by one matching the reservation's properties and
free for the rest of its window, chosen by the placement policy of lease
creation. Only the store changes here: the reservation's intent is
refreshed, and the converger moves an active reservation's replacement
into its aggregate and the lost host back to the freepool (out of the
aggregate if Nova lets it: instances still on it keep it there until the
lease ends). A lost host without replacement keeps
its allocation: the reservation waits for it, and is whole again when it
recovers.
"""
import logging

from oslo_utils import timeutils

from blazar.db import api as db_api

LOG = logging.getLogger(__name__)


def heal(context, lease, reservation, lost_host_ids, params, select):
    """See :meth:`blazar.plugins.base.ResourcePlugin.heal`. ``params``: the
    reservation's stored parameters; ``select(context, window, params)``:
    host selection of lease creation (the reservation's own allocations
    count as busy)."""
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
        db_api.reservation_update(context, reservation['id'],
                                  {'resources_changed': True})
    db_api.allocations_delete(context, reservation['id'], list(moved))
    db_api.allocations_create(context, reservation['id'], list(moved.values()),
                              start, lease['end_date'])
    LOG.info('Reservation %s (%s): hosts %s replaced by %s', reservation['id'],
             reservation['status'], list(moved), list(moved.values()))
    return len(moved) == len(lost)
