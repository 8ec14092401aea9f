"""Make Nova agree with the store again after a crash or a hand edit.

Events are retried until they complete, so the store is the truth; but a
manager killed between two cloud steps, or an operator's hand edit, can
leave Nova astray: a host in no pool, or in the aggregate of a reservation
that ended, a reservation flavor or inventory gone. A pass compares what
the store says must be (each active reservation's plugin tells where its
hosts belong and puts back its own objects) with Nova's aggregates, and
repairs the difference, adding a host to where it belongs before taking it
out of where it does not, so that it is never outside every pool. It
holds the allocation lock, so no lease change or event claim runs
meanwhile, and leaves alone the leases whose events are running.
Each fix is logged, notified (``reconciler.fixed``) and returned.
"""
import logging

from blazar import context as blazar_context
from blazar import rpc
from blazar.clients import nova
from blazar.conf import CONF
from blazar.db import api as db_api
from blazar.manager import status
from blazar.utils import worker

LOG = logging.getLogger(__name__)


def _busy(lease):
    return any(e['status'] == status.EventStatus.IN_PROGRESS for e in lease['events'])


class Reconciler:

    def __init__(self, plugins):
        self.plugins = plugins

    def run(self, context):
        """One pass; returns the fixes made, as text lines."""
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            fixes = self._pass(context)
        for fix in fixes:
            LOG.warning('Reconciler: %s', fix)
        if fixes:
            rpc.notify(context, 'reconciler.fixed', {'fixes': fixes})
        return fixes

    def _pass(self, context):
        freepool_name = CONF.nova.aggregate_freepool_name
        hosts = {h['id']: h for h in db_api.host_list(context)}
        expected = {h['service_name']: {freepool_name} for h in hosts.values()}
        owned, frozen, fixes = {freepool_name}, set(), []
        for lease in db_api.lease_list(context):
            for reservation in lease['reservations']:
                if reservation['status'] in ('pending', 'active', 'error'):
                    owned.add(reservation['id'])
                plugin = self.plugins.get(reservation['resource_type'])
                if plugin is None:
                    continue
                pools = plugin.expected_pools(context, lease, reservation) \
                    if reservation['status'] == 'active' else {}
                names = {hosts[h]['service_name'] for h in pools if h in hosts}
                if _busy(lease) or lease['status'] not in status.LeaseStatus.STABLE:
                    frozen |= names | set(
                        hosts[h]['service_name'] for h in
                        db_api.reservation_host_ids(context, reservation['id'])
                        if h in hosts)
                    continue
                if reservation['status'] == 'active':
                    fixes += plugin.repair(context, lease, reservation)
                for host_id, aggregates in pools.items():
                    if host_id in hosts:
                        name = hosts[host_id]['service_name']
                        if freepool_name not in aggregates:
                            expected[name].discard(freepool_name)
                        expected[name] |= aggregates
        client = nova.get_client()
        client.freepool()
        aggregates = {a['name']: a for a in client.list_aggregates() if a['name'] in owned}
        for name, places in sorted(expected.items()):
            if name in frozen:
                continue
            for pool in sorted(places):
                agg = aggregates.get(pool)
                if agg is not None and name not in agg['hosts']:
                    client.add_host(agg['id'], name)
                    fixes.append('host %s put back into aggregate %s' % (name, pool))
        for pool, agg in sorted(aggregates.items()):
            for name in agg['hosts']:
                if name in expected and name not in frozen and pool not in expected[name]:
                    client.remove_host(agg['id'], name)
                    fixes.append('host %s taken out of aggregate %s' % (name, pool))
        return fixes


class ReconcilerWorker(worker.Worker):
    """Runs a pass at start-up and every ``[manager] reconcile_interval``."""

    def __init__(self, reconciler):
        super().__init__('blazar-reconciler', self._pass,
                         error_delay=CONF.manager.reconcile_interval)
        self.reconciler = reconciler

    def start(self):
        if CONF.manager.reconcile_interval:
            super().start()

    def _pass(self):
        self.reconciler.run(blazar_context.get_admin_context())
        return CONF.manager.reconcile_interval
