"""What a host reservation is in Nova, as idempotent converger steps.

A host reservation is an aggregate named after the reservation, with
availability zone ``blazar_<id>`` and the owner project in its metadata
(what the blazar-nova filter reads). It exists from phase ``reserved``
(``[manager] prepare_ahead`` before the start, or at once); at the start
its hosts join it and leave the freepool (``active``); at the end the
servers on them are deleted, the hosts go back to the freepool and the
aggregate is deleted (``absent``). A host always
joins its new pool before it leaves the old one, so it is never outside
every pool.

``observed`` records what was really done: ``aggregate_id``, ``members``
(the hosts handed over), ``freepool_id`` and ``stuck`` (hosts Nova would not
let go of while servers still ran on them, cleaned up at the end).
"""
import logging

from oslo_utils import uuidutils

from blazar import exceptions
from blazar.clients import nova
from blazar.conf import CONF
from blazar.plugins.steps import Marked
from blazar.plugins.steps import Restart
from blazar.plugins.steps import Step

LOG = logging.getLogger(__name__)


def spec(lease, reservation_id, host_names=None):
    """The intent of a host reservation (see ``intent_spec``): its hosts
    (service names) once it has started, none before."""
    found = {'lease_id': lease['id'], 'reservation_id': reservation_id,
             'project_id': lease['project_id'],
             'zone': CONF['physical:host'].blazar_az_prefix + reservation_id,
             'metadata': {CONF.nova.blazar_owner: lease['project_id']}}
    if host_names is not None:
        found['hosts'] = sorted(set(host_names))
    return found


def _members(observed):
    return list(observed.get('members', []))


def _set_members(observed, names):
    observed['members'] = sorted(set(names))


def _aggregate(client, spec, observed, create=True):
    """The reservation's aggregate (made if missing and ``create``)."""
    name = spec['reservation_id']
    if create:
        # Never seen: a new reservation's, made at once (no listing of
        # every aggregate to find it absent).
        agg = client.get_or_create_aggregate(name, availability_zone=spec['zone'],
                                             metadata=spec['metadata'],
                                             known_id=observed.get('aggregate_id'),
                                             likely_new='aggregate_id' not in observed)
    else:
        agg = client.find_aggregate(name, observed.get('aggregate_id'))
    observed['aggregate_id'] = agg['id'] if agg else None
    return agg


def _freepool_id(client, observed):
    if not observed.get('freepool_id'):
        observed['freepool_id'] = client.freepool()['id']
    return observed['freepool_id']


def _with_pools(func, pools):
    """Run ``func(client, aggregate_id, freepool_id)``; an aggregate deleted
    behind our back is looked up (or made) again once."""
    def run(spec, observed, create=True):
        client = nova.get_client()
        for attempt in (1, 2):
            agg_id = observed.get('aggregate_id')
            if not agg_id or attempt == 2:
                agg = _aggregate(client, spec, observed, create)
                agg_id = agg['id'] if agg else None
            try:
                return func(client, agg_id, _freepool_id(client, observed))
            except exceptions.AggregateNotFound:
                pools.forget()
                observed.pop('aggregate_id', None)
                observed.pop('freepool_id', None)
                if attempt == 2:
                    raise
    return run


class _Pools:
    """Members of the aggregates as one run of a plan has read them: each
    aggregate is read once per run, and what the run changes is noted, so
    that every step looks before it acts without a read per host."""

    def __init__(self):
        self._hosts = {}

    def has(self, client, agg_id, name):
        if agg_id not in self._hosts:
            self._hosts[agg_id] = set(client.get_aggregate(agg_id)['hosts'])
        return name in self._hosts[agg_id]

    def add(self, client, agg_id, name):
        if not self.has(client, agg_id, name):
            client.add_host(agg_id, name)
            self._hosts[agg_id].add(name)

    def remove(self, client, agg_id, name):
        if self.has(client, agg_id, name):
            client.remove_host(agg_id, name)
            self._hosts[agg_id].discard(name)

    def forget(self):
        self._hosts.clear()


def _join(spec, name, pools):
    def run(observed):
        def move(client, agg_id, freepool_id):
            pools.add(client, agg_id, name)
            _set_members(observed, _members(observed) + [name])
            pools.remove(client, freepool_id, name)
        _with_pools(move, pools)(spec, observed)
    return Step('join:' + name, 'move host %s from the freepool into aggregate %s'
                % (name, spec['reservation_id']), run)


def _leave(spec, name, tolerate_refusal, pools):
    """Back to the freepool, then out of the aggregate. During the lease a
    failed host may still carry servers and Nova may refuse: it is left
    there (``stuck``) for the end to clean up."""
    def run(observed):
        def move(client, agg_id, freepool_id):
            pools.add(client, freepool_id, name)
            if agg_id is not None:
                try:
                    pools.remove(client, agg_id, name)
                except exceptions.NovaConflict as exc:
                    if not tolerate_refusal:
                        raise
                    LOG.warning('Host %s stays in aggregate %s until the end: %s',
                                name, spec['reservation_id'], exc)
                    observed['stuck'] = sorted(set(observed.get('stuck', [])) | {name})
            _set_members(observed, [m for m in _members(observed) if m != name])
        _with_pools(move, pools)(spec, observed, create=False)
    return Step('leave:' + name, 'give host %s back to the freepool' % name, run)


def _ensure_aggregate(spec):
    def run(observed):
        _aggregate(nova.get_client(), spec, observed)
    return Step('aggregate', 'make aggregate %s' % spec['reservation_id'], run)


def _discover(spec):
    """Hosts Nova has in the aggregate that we do not know we put there
    (a manager died between the two): they are ours to give back."""
    def run(observed):
        agg = _aggregate(nova.get_client(), spec, observed, create=False)
        extra = set((agg or {}).get('hosts', ())) - set(_members(observed))
        if extra:
            _set_members(observed, _members(observed) + sorted(extra))
            raise Restart()
    return Step('discover', 'look for hosts left in aggregate %s'
                % spec['reservation_id'], run)


def _delete_servers(spec, names):
    def run(observed):
        client = nova.get_client()
        servers = [s for name in names for s in client.servers_on_host(name)]
        client.delete_servers(servers, 'reservation %s' % spec['reservation_id'])
    return Step('servers', 'delete the servers on %s' % ', '.join(names), run)


def _delete_aggregate(spec):
    def run(observed):
        client = nova.get_client()
        agg = client.find_aggregate(spec['reservation_id'], observed.get('aggregate_id'))
        if agg is not None:
            client.delete_aggregate(agg['id'], known=agg)
        observed['aggregate_id'] = None
    return Step('delete-aggregate', 'delete aggregate %s' % spec['reservation_id'], run)


def plan(phase, spec, observed):
    members = _members(observed)
    pools = _Pools()
    if phase == 'reserved':
        return [_ensure_aggregate(spec)]
    if phase == 'active':
        wanted = spec['hosts']
        return ([_ensure_aggregate(spec), _discover(spec)]
                + [_join(spec, name, pools) for name in wanted]
                + [_leave(spec, name, True, pools) for name in members
                   if name not in wanted])
    # absent: only hosts really handed over are emptied and given back.
    steps = [_discover(spec)]
    if members:
        steps.append(_delete_servers(spec, members))
    steps += [_leave(spec, name, False, pools) for name in members]
    return steps + [_delete_aggregate(spec)]


def marked_objects():
    """Host reservation aggregates (a uuid name and our zone prefix, no
    instance reservation metadata), for orphan collection."""
    prefix = CONF['physical:host'].blazar_az_prefix
    found = []
    for agg in nova.get_client().list_aggregates():
        if _is_uuid(agg['name']) and (agg.get('availability_zone') or '').startswith(
                prefix) and 'reservation' not in agg['metadata']:
            found.append(Marked('aggregate', str(agg['id']), agg['name'],
                                lambda agg_id=agg['id']: remove_aggregate(agg_id)))
    return found


def remove_aggregate(aggregate_id):
    """An orphan aggregate goes; its hosts go back to the freepool first."""
    client = nova.get_client()
    try:
        agg = client.get_aggregate(aggregate_id)
    except exceptions.AggregateNotFound:
        return
    freepool_id = client.freepool()['id']
    for name in agg['hosts']:
        client.add_host(freepool_id, name)
    client.delete_aggregate(aggregate_id)


def _is_uuid(value):
    return uuidutils.is_uuid_like(value)
