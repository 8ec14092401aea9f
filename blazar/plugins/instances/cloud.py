"""The Nova and Placement objects that make an instance reservation real,
as idempotent converger steps.

From creation (phase ``reserved``): a private flavor whose id is the
reservation id, asking for one unit of the reservation's own resource class
(``CUSTOM_RESERVATION_<ID>``) and for hosts of the reservation's aggregate;
a server group when affinity is set, made as the owner (Nova lets only the
group's own project boot into it); the aggregate itself (owner metadata, no
zone: its hosts stay in the freepool); the resource class. At the start
(``active``) the owner gets the flavor, and each host joins the aggregate
and gets as many units of the class as it holds slots, on its
``blazar_<hostname>`` child provider: a boot with the flavor lands only on
reserved capacity, and one beyond ``amount`` finds no room. At the end
(``absent``) the servers of the flavor and every object go.

``observed`` records what exists: ``group`` ({id, policy}), ``old_groups``
(replaced by an affinity change, deleted once the flavor no longer names
them), ``aggregate_id``, ``inventories`` ({hypervisor hostname: units}) and
``members`` (service names in the aggregate).
"""
import logging

from oslo_utils import uuidutils

from blazar import exceptions
from blazar.clients import nova
from blazar.clients import placement
from blazar.conf import CONF
from blazar.plugins.steps import Marked
from blazar.plugins.steps import Step

LOG = logging.getLogger(__name__)
NAME_PREFIX = 'reservation:'
FLAVOR_FIELDS = ('vcpus', 'ram', 'disk', 'ephemeral', 'swap')


def resource_class(reservation_id):
    return 'CUSTOM_RESERVATION_' + reservation_id.upper().replace('-', '_')


def reservation_of_class(name):
    """The reservation id a ``CUSTOM_RESERVATION_*`` class was made for."""
    raw = name[len('CUSTOM_RESERVATION_'):].lower().replace('_', '-')
    return raw if len(raw) == 36 else None


def flavor_spec(reservation_id, params):
    """The flavor's sizes and extra specs (the group comes at run time)."""
    source = params.get('source_flavor')
    extra_specs = dict(source['extra_specs']) if source else {}
    extra_specs['aggregate_instance_extra_specs:reservation'] = reservation_id
    extra_specs['resources:%s' % resource_class(reservation_id)] = '1'
    if source:
        sizes = {'vcpus': source['vcpus'], 'ram': source['ram'], 'disk': source['disk'],
                 'ephemeral': source.get('ephemeral') or 0,
                 'swap': source.get('swap') or 0}
    else:
        sizes = {'vcpus': params['vcpus'], 'ram': params['memory_mb'],
                 'disk': params['disk_gb'], 'ephemeral': 0, 'swap': 0}
    return dict(sizes, extra_specs={k: str(v) for k, v in extra_specs.items()})


def spec(lease, reservation_id, params, hosts, slots):
    """The intent of an instance reservation. ``hosts``: {host id: host
    dict}; ``slots``: {host id: instances held there}."""
    return {'lease_id': lease['id'], 'reservation_id': reservation_id,
            'project_id': lease['project_id'],
            'owner': {'user_id': lease.get('user_id'),
                      'project_id': lease['project_id'],
                      'trust_id': lease.get('trust_id')},
            'flavor': flavor_spec(reservation_id, params),
            'affinity': params['affinity'],
            'slots': {hosts[h]['hypervisor_hostname']: n
                      for h, n in sorted(slots.items()) if n > 0},
            'service_names': {hosts[h]['hypervisor_hostname']: hosts[h]['service_name']
                              for h in slots}}


def _group_policy(affinity):
    return None if affinity is None else ('affinity' if affinity else 'anti-affinity')


def _metadata(spec, group_id):
    metadata = {'reservation': spec['reservation_id'],
                'filter_tenant_id': spec['project_id'],
                CONF.nova.blazar_owner: spec['project_id']}
    if group_id:
        metadata['affinity_id'] = group_id
    return metadata


def _group_id(observed):
    return (observed.get('group') or {}).get('id')


def _group(spec):
    """A server group of the wanted policy, made as the owner; one of
    another policy (affinity changed) is kept for deletion after the flavor
    stops naming it."""
    policy = _group_policy(spec['affinity'])
    name = NAME_PREFIX + spec['reservation_id']

    def run(observed):
        current = observed.get('group')
        if current and current.get('policy') == policy:
            return
        if current:
            observed['old_groups'] = sorted(set(observed.get('old_groups', []))
                                            | {current['id']})
            observed['group'] = None
        if policy is None:
            return
        old = set(observed.get('old_groups', []))
        for group in nova.get_client().list_server_groups(name=name):
            if group['policy'] == policy and group['id'] not in old:
                observed['group'] = {'id': group['id'], 'policy': policy}
                return
        group = nova.owner_client(spec['owner']).create_server_group(name, policy)
        observed['group'] = {'id': group['id'], 'policy': policy}
    return Step('group', 'make the %s server group of reservation %s'
                % (policy, spec['reservation_id']), run)


def _flavor(spec):
    rid = spec['reservation_id']

    def wanted(observed):
        specs = dict(spec['flavor']['extra_specs'])
        if _group_id(observed):
            specs['affinity_id'] = _group_id(observed)
        return specs

    def run(observed):
        client = nova.get_client()
        flavor = client.get_flavor(rid)
        specs = wanted(observed)
        if flavor is not None:
            same = all(flavor.get(k) == spec['flavor'][k] for k in FLAVOR_FIELDS) and \
                flavor['extra_specs'] == specs and flavor.get('is_public') is False
            if same:
                return
            # Nova cannot resize a flavor: it is made again (a pending
            # reservation's shape changed).
            client.delete_flavor(rid)
        sizes = {k: spec['flavor'][k] for k in FLAVOR_FIELDS}
        client.create_flavor(rid, NAME_PREFIX + rid, is_public=False,
                             extra_specs=specs, **sizes)
    return Step('flavor', 'make flavor %s' % rid, run)


def _aggregate(spec):
    def run(observed):
        agg = nova.get_client().get_or_create_aggregate(
            spec['reservation_id'], metadata=_metadata(spec, _group_id(observed)),
            known_id=observed.get('aggregate_id'))
        observed['aggregate_id'] = agg['id']
        observed['members'] = sorted(agg['hosts'])
    return Step('aggregate', 'make aggregate %s' % spec['reservation_id'], run)


def _resource_class(spec):
    def run(observed):
        placement.get_client().create_resource_class(
            resource_class(spec['reservation_id']))
    return Step('resource-class', 'make resource class %s'
                % resource_class(spec['reservation_id']), run)


def _old_groups(spec):
    def run(observed):
        client = nova.get_client()
        for group_id in list(observed.get('old_groups', [])):
            client.delete_server_group(group_id)
            observed['old_groups'] = [g for g in observed['old_groups'] if g != group_id]
    return Step('old-groups', 'delete replaced server groups', run)


def _access(spec):
    def run(observed):
        client = nova.get_client()
        flavor = client.get_flavor(spec['reservation_id'])
        if flavor is None or not client.flavor_usable_by(flavor, spec['project_id']):
            client.add_flavor_access(spec['reservation_id'], spec['project_id'])
    return Step('access', 'give project %s flavor %s'
                % (spec['project_id'], spec['reservation_id']), run)


def _aggregate_id(spec, observed):
    if not observed.get('aggregate_id'):
        agg = nova.get_client().find_aggregate(spec['reservation_id'])
        if agg is None:
            return None
        observed['aggregate_id'] = agg['id']
    return observed['aggregate_id']


def _provider(hostname, create):
    client = placement.get_client()
    if create:
        return client.reservation_provider(hostname)
    return client.get_provider_by_name(placement.RESERVATION_PROVIDER_PREFIX + hostname)


def _host(spec, hostname, units):
    """A host joins the aggregate and gets ``units`` of the class."""
    rc = resource_class(spec['reservation_id'])
    service = spec['service_names'][hostname]

    def run(observed):
        client = nova.get_client()
        if service not in observed.get('members', []):
            agg_id = _aggregate_id(spec, observed)
            if agg_id is None:
                raise exceptions.AggregateNotFound(name=spec['reservation_id'])
            client.add_host(agg_id, service)
            observed['members'] = sorted(set(observed.get('members', [])) | {service})
        rc_client = placement.get_client()
        provider = _provider(hostname, create=True)
        current = rc_client.get_inventories(provider['uuid']).get(rc)
        if current is None or current['total'] != units or current['max_unit'] != 1:
            rc_client.set_inventory(provider['uuid'], rc, units, max_unit=1)
        observed.setdefault('inventories', {})[hostname] = units
        observed.setdefault('services', {})[hostname] = service
    return Step('host:%s:%d' % (hostname, units), 'hand %d instance(s) of room on %s '
                'to reservation %s' % (units, hostname, spec['reservation_id']), run)


def _release_host(spec, hostname, service, tolerate_refusal):
    """Take a host's room and membership back; during the lease a host
    still running instances may refuse (it is cleaned up at the end)."""
    rc = resource_class(spec['reservation_id'])

    def run(observed):
        try:
            provider = _provider(hostname, create=False)
            if provider is not None:
                placement.get_client().remove_inventory(provider['uuid'], rc)
            observed.get('inventories', {}).pop(hostname, None)
            agg_id = _aggregate_id(spec, observed)
            if agg_id is not None and service:
                nova.get_client().remove_host(agg_id, service)
            observed['members'] = [m for m in observed.get('members', [])
                                   if m != service]
            observed.get('services', {}).pop(hostname, None)
        except (exceptions.NovaConflict, exceptions.PlacementConflict) as exc:
            if not tolerate_refusal:
                raise
            LOG.warning('Host %s keeps reservation %s objects until its end: %s',
                        hostname, spec['reservation_id'], exc)
    return Step('release:' + hostname, 'take the room of reservation %s back from %s'
                % (spec['reservation_id'], hostname), run)


def _delete_servers(spec):
    def run(observed):
        client = nova.get_client()
        client.delete_servers(client.list_servers(flavor=spec['reservation_id']),
                              'reservation %s' % spec['reservation_id'])
    return Step('servers', 'delete the servers of flavor %s' % spec['reservation_id'], run)


def _remove_access(spec):
    def run(observed):
        nova.get_client().remove_flavor_access(spec['reservation_id'], spec['project_id'])
    return Step('remove-access', 'take flavor %s from project %s'
                % (spec['reservation_id'], spec['project_id']), run)


def _delete_flavor(spec):
    def run(observed):
        nova.get_client().delete_flavor(spec['reservation_id'])
    return Step('delete-flavor', 'delete flavor %s' % spec['reservation_id'], run)


def _delete_groups(spec):
    def run(observed):
        client = nova.get_client()
        ids = set(observed.get('old_groups', [])) | ({_group_id(observed)} - {None})
        ids |= {g['id'] for g in client.list_server_groups(
            name=NAME_PREFIX + spec['reservation_id'])}
        for group_id in sorted(ids):
            client.delete_server_group(group_id)
        observed['group'], observed['old_groups'] = None, []
    return Step('delete-groups', 'delete the server groups of reservation %s'
                % spec['reservation_id'], run)


def _delete_aggregate(spec):
    def run(observed):
        client = nova.get_client()
        agg = client.find_aggregate(spec['reservation_id'], observed.get('aggregate_id'))
        if agg is not None:
            client.delete_aggregate(agg['id'], known=agg)
        observed['aggregate_id'], observed['members'] = None, []
    return Step('delete-aggregate', 'delete aggregate %s' % spec['reservation_id'], run)


def _delete_class(spec):
    def run(observed):
        placement.get_client().delete_resource_class(resource_class(spec['reservation_id']))
    return Step('delete-class', 'delete resource class %s'
                % resource_class(spec['reservation_id']), run)


def _objects(spec):
    return [_group(spec), _flavor(spec), _aggregate(spec), _resource_class(spec),
            _old_groups(spec)]


def plan(phase, spec, observed):
    if phase == 'reserved':
        return _objects(spec)
    held = dict(observed.get('inventories', {}))
    services = dict(observed.get('services', {}), **spec.get('service_names', {}))
    if phase == 'active':
        slots = spec['slots']
        return (_objects(spec) + [_access(spec)]
                + [_host(spec, name, n) for name, n in sorted(slots.items())]
                + [_release_host(spec, name, services.get(name), tolerate_refusal=True)
                   for name in sorted(held) if name not in slots])
    hostnames = sorted(set(held) | set(spec.get('slots', {})))
    return ([_remove_access(spec), _delete_servers(spec)]
            + [_release_host(spec, name, services.get(name), tolerate_refusal=False)
               for name in hostnames]
            + [_delete_flavor(spec), _delete_groups(spec), _delete_aggregate(spec),
               _delete_class(spec)])


def marked_objects():
    """Everything instance reservations make, found by its marks, for
    orphan collection: aggregates with ``reservation`` metadata naming
    themselves, private flavors ``reservation:<id>`` whose id is ``<id>``,
    server groups ``reservation:<id>``, and ``CUSTOM_RESERVATION_*``
    classes (with their inventories)."""
    client = nova.get_client()
    found = []
    for agg in client.list_aggregates():
        if agg['metadata'].get('reservation') == agg['name'] and _is_uuid(agg['name']):
            found.append(Marked('aggregate', str(agg['id']), agg['name'],
                                lambda agg_id=agg['id']: client.delete_aggregate(agg_id)))
    for flavor in client.list_flavors():
        if not flavor['is_public'] and flavor['name'] == NAME_PREFIX + flavor['id'] and \
                _is_uuid(flavor['id']):
            found.append(Marked('flavor', flavor['id'], flavor['id'],
                                lambda fid=flavor['id']: client.delete_flavor(fid)))
    for group in client.list_server_groups():
        rid = (group['name'] or '')[len(NAME_PREFIX):]
        if group['name'].startswith(NAME_PREFIX) and _is_uuid(rid):
            found.append(Marked('server_group', group['id'], rid,
                                lambda gid=group['id']: client.delete_server_group(gid)))
    for rc in placement.get_client().list_resource_classes('CUSTOM_RESERVATION_'):
        rid = reservation_of_class(rc)
        if rid:
            found.append(Marked('resource_class', rc, rid,
                                lambda name=rc: remove_class(name)))
    return found


def remove_class(name):
    """A class goes with its inventories on the reservation providers."""
    rc_client = placement.get_client()
    for provider in rc_client.list_providers(placement.RESERVATION_PROVIDER_PREFIX):
        if name in rc_client.get_inventories(provider['uuid']):
            rc_client.remove_inventory(provider['uuid'], name)
    rc_client.delete_resource_class(name)


def _is_uuid(value):
    return uuidutils.is_uuid_like(value)
