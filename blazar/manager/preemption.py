"""Reclaiming preemptible servers for reservations that start.

Ahead of a lease's start (``before_start_lease``, ``[preemptible]
grace_period`` before it) the owners of the preemptible servers on the
capacity it needs are told (``preemption.notice``); at the start, before
the capacity is handed over, those servers get ``[preemptible] action``
and the start waits until the capacity is free (``preemption.reclaimed``
per server). Each plugin says which servers are in the way
(``preemption_targets``): whole hosts for host reservations, just enough
room per host for instance reservations. Servers that are not preemptible
are never touched: the reservation is healed around their host, or marked
as missing resources (lease degraded) when no other host can be had.
Every server noticed or reclaimed is recorded (``GET /v1/preemptions``).
"""
import logging

from oslo_utils import timeutils

from blazar import exceptions
from blazar import rpc
from blazar.clients import nova
from blazar.conf import CONF
from blazar.db import api as db_api
from blazar.plugins.steps import Restart

LOG = logging.getLogger(__name__)
DONE_STATUS = {'delete': ('DELETED',), 'shelve': ('SHELVED_OFFLOADED',),
               'stop': ('SHUTOFF',)}


def _record(context, lease, reservation, server, host, status, **extra):
    values = {'lease_id': lease['id'], 'reservation_id': reservation['id'],
              'server_id': server['id'], 'server_name': server.get('name'),
              'project_id': server.get('project_id'), 'user_id': server.get('user_id'),
              'host': host['service_name'], 'action': CONF.preemptible.action,
              'status': status}
    values.update(extra)
    row = db_api.preemption_record(context, values)
    return {k: row[k] for k in ('server_id', 'server_name', 'project_id', 'user_id',
                                'host', 'action', 'lease_id', 'reservation_id')}


class Reaper:

    def __init__(self, plugins, lifecycle=None):
        self.plugins = plugins
        self.lifecycle = lifecycle

    @staticmethod
    def list(context, lease_id=None, reservation_id=None, project_id=None, page=None):
        return db_api.preemption_list(context, lease_id=lease_id,
                                      reservation_id=reservation_id,
                                      project_id=project_id, page=page)

    def notice(self, context, lease, plugin, reservation):
        """Tell the owners of the servers to be reclaimed at the start."""
        targets = plugin.preemption_targets(context, lease, reservation)
        now = timeutils.utcnow()
        for server, host in targets['reclaim']:
            payload = _record(context, lease, reservation, server, host, 'noticed',
                              noticed_at=now)
            payload['start_date'] = lease['start_date']
            rpc.notify(context, 'preemption.notice', payload)
        for server, host in targets['blocked']:
            LOG.warning('Server %s (not preemptible) occupies %s, needed by reservation '
                        '%s from %s', server['id'], host['service_name'],
                        reservation['id'], lease['start_date'])

    def reclaim(self, context, lease, plugin, reservation):
        """Free the capacity a starting reservation needs; heal around what
        may not be touched. Raises (the start is retried) while servers are
        not yet gone, offloaded or stopped."""
        targets = plugin.preemption_targets(context, lease, reservation)
        if targets['blocked'] and self._heal_around(context, lease, plugin, reservation,
                                                    targets['blocked']):
            # The reservation moved: its intent changed, plan again.
            raise Restart()
        if not targets['reclaim']:
            return
        client = nova.get_client()
        action = CONF.preemptible.action
        act = {'delete': client.delete_server, 'shelve': client.shelve_server,
               'stop': client.stop_server}[action]
        for server, _host in targets['reclaim']:
            act(server['id'])
        ids = [s['id'] for s, _h in targets['reclaim']]
        left = client.wait_servers_status(ids, DONE_STATUS[action],
                                          CONF.preemptible.action_timeout)
        now = timeutils.utcnow()
        for server, host in targets['reclaim']:
            if server['id'] in left:
                _record(context, lease, reservation, server, host, 'failed',
                        reason='still %s after %ss' % (action,
                                                       CONF.preemptible.action_timeout))
                continue
            payload = _record(context, lease, reservation, server, host, 'reclaimed',
                              reclaimed_at=now)
            rpc.notify(context, 'preemption.reclaimed', payload)
            LOG.info('Reclaimed preemptible server %s (project %s) on %s for '
                     'reservation %s: %s', server['id'], server.get('project_id'),
                     host['service_name'], reservation['id'], action)
        if left:
            raise exceptions.NovaError(
                reason='%d preemptible server(s) in the way of reservation %s are '
                       'not %s yet: %s' % (len(left), reservation['id'],
                                           '/'.join(DONE_STATUS[action]).lower(),
                                           ', '.join(left[:5])))

    def _heal_around(self, context, lease, plugin, reservation, blocked):
        """Move the reservation off hosts held by servers that are not
        preemptible; what cannot move is flagged missing (lease degraded).
        Returns whether the reservation's hosts changed."""
        host_ids = sorted({host['id'] for _server, host in blocked})
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            current = db_api.lease_get(context, lease['id'])
            res = next(r for r in current['reservations'] if r['id'] == reservation['id'])
            before = set(db_api.reservation_host_ids(context, reservation['id']))
            plugin.heal(context, current, res, host_ids)
            after = set(db_api.reservation_host_ids(context, reservation['id']))
            still = set(host_ids) & after
            if still:
                db_api.reservation_update(context, reservation['id'],
                                          {'missing_resources': True})
                db_api.lease_update(context, lease['id'], {'degraded': True})
            moved = before != after
            if moved and self.lifecycle is not None:
                self.lifecycle.respec(context, db_api.lease_get(context, lease['id']), res)
        for server, host in blocked:
            reason = ('not preemptible: reservation healed onto another host'
                      if host['id'] not in still else
                      'not preemptible: no other host, reservation degraded')
            payload = _record(context, lease, reservation, server, host, 'blocked',
                              reason=reason)
            rpc.notify(context, 'preemption.blocked', payload)
            LOG.warning('Server %s on %s is not preemptible; %s', server['id'],
                        host['service_name'], reason)
        return moved
