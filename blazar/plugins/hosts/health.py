"""A host's health as reservations see it: failed (Nova's compute service
is down, disabled or forced down, as the monitors report), in maintenance
(an operator's decision, from a given time), or available.

A host is ``reservable`` while neither holds; a maintenance to come also
counts as busy time from its start (:func:`.plugin.load_busy`), so no new
allocation reaches into it while the host is still used before it.
"""
from oslo_utils import timeutils

from blazar import exceptions
from blazar.db import api as db_api
from blazar.plugins.hosts import inventory
from blazar.utils import dates

AVAILABLE = 'available'
FAILED = 'failed'
MAINTENANCE = 'maintenance'
MAX_REASON = 255


def lost_since(host, now):
    """From when reservations cannot use ``host`` (a store dict with the
    health fields): ``now`` if it is failed, its maintenance start if it has
    one, None if it is healthy."""
    if host.get('failure_reason'):
        return now
    start = host.get('maintenance_start')
    if start is None:
        return None
    return max(start, now)


def describe(host, now=None):
    """The host with ``state`` and ``state_reason``: maintenance (once in
    force) first, being the operator's word, then failure."""
    now = now or timeutils.utcnow()
    start = host.get('maintenance_start')
    if start is not None and start <= now:
        state, reason = MAINTENANCE, host.get('maintenance_reason')
    elif host.get('failure_reason'):
        state, reason = FAILED, host['failure_reason']
    else:
        state, reason = AVAILABLE, None
    return dict(host, state=state, state_reason=reason)


def check_maintenance(values):
    """``(start, reason)`` from a maintenance request, or a 400."""
    unknown = set(values) - {'start_date', 'reason'}
    if unknown:
        raise exceptions.InvalidInput(
            reason='Unknown parameter(s) for a maintenance: %s'
                   % ', '.join(sorted(unknown)))
    now = dates.utcnow_minute()
    start = dates.parse_input(values.get('start_date') or 'now', 'start_date', now)
    if start < now:
        raise exceptions.InvalidInput(
            reason='start_date must be now or later, not %s' % start)
    reason = values.get('reason')
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise exceptions.MalformedParameter(
            param='reason', reason='a string of at most %d characters' % MAX_REASON)
    return start, reason


def set_maintenance(context, host_ref, start, reason):
    """Put a host in maintenance from ``start``; return it. The caller heals
    the reservations that hold it from then on."""
    with db_api.transaction(context):
        db_api.allocation_lock(context)
        host = inventory.get_host(context, host_ref)
        db_api.host_set_maintenance(context, host['id'], start, reason,
                                    timeutils.utcnow())
    return describe(inventory.get_host(context, host['id']))


def clear_maintenance(context, host_ref):
    """End a host's maintenance (if any); return it."""
    with db_api.transaction(context):
        db_api.allocation_lock(context)
        host = inventory.get_host(context, host_ref)
        db_api.host_clear_maintenance(context, host['id'], timeutils.utcnow())
    return describe(inventory.get_host(context, host['id']))
