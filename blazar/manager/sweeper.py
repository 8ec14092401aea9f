"""Keeping Nova in line beyond what intents say: the freepool, and orphans.

* Every enrolled host that no host reservation holds in the cloud belongs
  in the freepool (a host enrolled while Nova failed, or taken out by hand,
  is put back).
* Orphans: objects carrying the service's marks (each plugin's
  ``marked_objects``: reservation aggregates, private reservation flavors,
  server groups, ``CUSTOM_RESERVATION_*`` classes, tagged floating IPs...)
  that no intent and no reservation wants. One seen so for longer than
  ``[manager] orphan_grace_period`` is removed, logged and notified
  (``orphan.removed``). The grace period covers an object being made for a
  reservation whose intent is committed but not yet seen by this pass.

What intents describe is checked by the converger itself (a periodic
resync of settled intents), so this is the only other place that makes
Nova agree with the store.
"""
import datetime
import logging

from oslo_config import cfg
from oslo_utils import timeutils

from blazar import rpc
from blazar.clients import nova
from blazar.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
HOST_TYPE = 'physical:host'


class Sweeper:

    def __init__(self, plugins):
        self.plugins = plugins

    def freepool(self, context):
        """Put enrolled hosts no host reservation holds back in the
        freepool; returns their names."""
        if HOST_TYPE not in self.plugins:
            return []
        held = set()
        for intent in db_api.intents_of_type(context, HOST_TYPE):
            held |= set(intent['observed'].get('members', []))
            if intent['phase'] == 'active':
                held |= set(intent['spec'].get('hosts', []))
        enrolled = {h['service_name'] for h in db_api.host_health_list(context)}
        client = nova.get_client()
        freepool = client.freepool()
        missing = sorted(enrolled - held - set(freepool['hosts']))
        for name in missing:
            client.add_host(freepool['id'], name)
            LOG.warning('Host %s was in no pool: put back in the freepool', name)
        if missing:
            rpc.notify(context, 'reconciler.fixed', {
                'fixes': ['host %s put back into aggregate %s'
                          % (name, CONF.nova.aggregate_freepool_name)
                          for name in missing]})
        return missing

    def orphans(self, context, now=None):
        """One orphan pass; returns the ``Marked`` objects removed."""
        now = now or timeutils.utcnow()
        marked = {}
        for plugin in self.plugins.values():
            for obj in plugin.marked_objects():
                marked.setdefault((obj.kind, obj.ident), obj)
        known = db_api.intent_ids_known(context, {o.reservation_id for o in marked.values()})
        orphans = {key: obj for key, obj in marked.items()
                   if obj.reservation_id not in known}
        first_seen = db_api.orphans_seen(
            context, {key: obj.reservation_id for key, obj in orphans.items()}, now)
        grace = datetime.timedelta(seconds=CONF.manager.orphan_grace_period)
        removed = []
        for key, obj in sorted(orphans.items()):
            if now - first_seen[key] < grace:
                continue
            try:
                obj.remove()
            except Exception as exc:  # noqa: BLE001  the next pass tries again
                LOG.warning('Could not remove orphan %s %s (reservation %s): %s',
                            obj.kind, obj.ident, obj.reservation_id, exc)
                continue
            db_api.orphan_forget(context, obj.kind, obj.ident)
            LOG.warning('Removed orphan %s %s of reservation %s (no live reservation '
                        'wants it, seen since %s)', obj.kind, obj.ident,
                        obj.reservation_id, first_seen[key])
            rpc.notify(context, 'orphan.removed', {
                'kind': obj.kind, 'id': obj.ident, 'reservation_id': obj.reservation_id,
                'first_seen': first_seen[key]})
            removed.append(obj)
        return removed
