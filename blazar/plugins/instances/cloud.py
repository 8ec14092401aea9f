"""The Nova and Placement objects that make an instance reservation real.

At creation: a private flavor whose id is the reservation id, asking for one
unit of the reservation's own resource class (``CUSTOM_RESERVATION_<ID>``)
and for hosts of the reservation's aggregate; a server group when affinity
is set; the aggregate itself (owner metadata, no zone: its hosts stay in the
freepool); the resource class. At the start the owner gets the flavor and
each host gets as many units of the class as it holds slots, on its
``blazar_<hostname>`` child provider: a boot with the flavor lands only on
reserved capacity, and one beyond ``amount`` finds no room. At the end
everything is taken away again.

Every creating step records its undoing step, so a failure anywhere leaves
nothing behind; every removing step is idempotent, so an end can be retried.
"""
import logging

from blazar import exceptions
from blazar.clients import nova
from blazar.clients import placement
from blazar.conf import CONF

LOG = logging.getLogger(__name__)
NAME_PREFIX = 'reservation:'


def resource_class(reservation_id):
    return 'CUSTOM_RESERVATION_' + reservation_id.upper().replace('-', '_')


def _flavor_spec(reservation_id, params, group_id):
    source = params.get('source_flavor')
    extra_specs = dict(source['extra_specs']) if source else {}
    extra_specs['aggregate_instance_extra_specs:reservation'] = reservation_id
    extra_specs['resources:%s' % resource_class(reservation_id)] = '1'
    if group_id:
        extra_specs['affinity_id'] = group_id
    if source:
        sizes = {'vcpus': source['vcpus'], 'ram': source['ram'], 'disk': source['disk'],
                 'ephemeral': source.get('ephemeral') or 0,
                 'swap': source.get('swap') or 0}
    else:
        sizes = {'vcpus': params['vcpus'], 'ram': params['memory_mb'],
                 'disk': params['disk_gb']}
    return dict(sizes, extra_specs=extra_specs)


def _aggregate_metadata(lease, reservation_id, group_id):
    metadata = {'reservation': reservation_id,
                'filter_tenant_id': lease['project_id'],
                CONF.nova.blazar_owner: lease['project_id']}
    if group_id:
        metadata['affinity_id'] = group_id
    return metadata


def create_group(lease, reservation_id, affinity, undo):
    """The server group, made as the owner: Nova lets only the group's own
    project boot into it."""
    if affinity is None:
        return None
    group = nova.owner_client(lease).create_server_group(
        NAME_PREFIX + reservation_id, 'affinity' if affinity else 'anti-affinity')
    undo.add(nova.get_client().delete_server_group, group['id'])
    return group['id']


def create_flavor(reservation_id, params, group_id, undo):
    client = nova.get_client()
    client.create_flavor(reservation_id, NAME_PREFIX + reservation_id, is_public=False,
                         **_flavor_spec(reservation_id, params, group_id))
    undo.add(client.delete_flavor, reservation_id)
    return reservation_id


def create(lease, reservation_id, params, undo):
    """Create the reservation's objects; returns their ids."""
    client = nova.get_client()
    group_id = create_group(lease, reservation_id, params['affinity'], undo)
    flavor_id = create_flavor(reservation_id, params, group_id, undo)
    aggregate = client.create_aggregate(
        reservation_id, metadata=_aggregate_metadata(lease, reservation_id, group_id))
    undo.add(client.delete_aggregate, aggregate['id'])
    rc_client = placement.get_client()
    rc_client.create_resource_class(resource_class(reservation_id))
    undo.add(rc_client.delete_resource_class, resource_class(reservation_id))
    return {'flavor_id': flavor_id, 'server_group_id': group_id,
            'aggregate_id': aggregate['id']}


def replace_shape(lease, reservation_id, old, new, row, undo):
    """A pending reservation changed its shape or affinity: the flavor (and
    the group) are made again. Returns the new object ids."""
    client = nova.get_client()
    group_id = row['server_group_id']
    if old['affinity'] != new['affinity']:
        if group_id:
            # A deleted group cannot come back with its id: delete it last.
            undo.after(client.delete_server_group, group_id)
        group_id = create_group(lease, reservation_id, new['affinity'], undo)
        aggregate = client.find_aggregate(reservation_id)
        if aggregate is not None:
            client.set_metadata(aggregate['id'], {'affinity_id': group_id})
            undo.add(client.set_metadata, aggregate['id'],
                     {'affinity_id': row['server_group_id']})
    client.delete_flavor(reservation_id)
    undo.add(client.create_flavor, reservation_id, NAME_PREFIX + reservation_id,
             is_public=False, **_flavor_spec(reservation_id, old, row['server_group_id']))
    create_flavor(reservation_id, new, group_id, undo)
    return {'server_group_id': group_id}


def hand_over(lease, reservation_id, hosts, slots, undo, give_flavor=True):
    """Give the owner the flavor and ``slots`` (``{host id: n}``) more
    instances' room on ``hosts`` (dicts by id)."""
    client = nova.get_client()
    if give_flavor:
        client.add_flavor_access(reservation_id, lease['project_id'])
        undo.add(client.remove_flavor_access, reservation_id, lease['project_id'])
    aggregate = client.get_or_create_aggregate(
        reservation_id, metadata=_aggregate_metadata(lease, reservation_id, None))
    rc_client = placement.get_client()
    rc = resource_class(reservation_id)
    rc_client.create_resource_class(rc)
    for host_id, n in sorted(slots.items()):
        host = hosts[host_id]
        if host['service_name'] not in aggregate['hosts']:
            client.add_host(aggregate['id'], host['service_name'])
            undo.add(client.remove_host, aggregate['id'], host['service_name'])
        provider = rc_client.reservation_provider(host['hypervisor_hostname'])
        rc_client.add_to_inventory(provider['uuid'], rc, n, max_unit=1)
        undo.add(rc_client.remove_inventory, provider['uuid'], rc, n)


def release_hosts(reservation_id, hosts):
    """Take lost hosts out of the reservation's aggregate and inventory when
    the cloud lets it (instances still on a failed host keep it there until
    the end, which cleans up whatever is left)."""
    client = nova.get_client()
    aggregate = client.find_aggregate(reservation_id)
    rc_client = placement.get_client()
    for host in hosts:
        try:
            if aggregate is not None:
                client.remove_host(aggregate['id'], host['service_name'])
            provider = rc_client.get_provider_by_name(
                placement.RESERVATION_PROVIDER_PREFIX + host['hypervisor_hostname'])
            if provider is not None:
                rc_client.remove_inventory(provider['uuid'], resource_class(reservation_id))
        except exceptions.BlazarException as exc:
            LOG.warning('Host %s keeps reservation %s objects until its end: %s',
                        host['service_name'], reservation_id, exc)


def delete_servers(reservation_id):
    """Delete every server booted with the reservation's flavor and wait
    (bounded) for them to go; raises while some remain, so the end is
    retried."""
    client = nova.get_client()
    client.delete_servers(client.list_servers(flavor=reservation_id),
                          'reservation %s' % reservation_id)


def remove(lease, reservation_id, row, hosts):
    """Remove everything the reservation made; safe to repeat."""
    client = nova.get_client()
    if lease is not None:
        client.remove_flavor_access(reservation_id, lease['project_id'])
    delete_servers(reservation_id)
    client.delete_flavor(reservation_id)
    if row.get('server_group_id'):
        client.delete_server_group(row['server_group_id'])
    aggregate = client.find_aggregate(reservation_id)
    if aggregate is not None:
        client.delete_aggregate(aggregate['id'])
    rc_client = placement.get_client()
    rc = resource_class(reservation_id)
    for host in hosts:
        provider = rc_client.get_provider_by_name(
            placement.RESERVATION_PROVIDER_PREFIX + host['hypervisor_hostname'])
        if provider is not None:
            rc_client.remove_inventory(provider['uuid'], rc)
    rc_client.delete_resource_class(rc)


def repair(lease, reservation_id, params, row, hosts, slots):
    """Make an active reservation's flavor, owner access, aggregate and
    per-host inventories what they should be; a line per fix."""
    client = nova.get_client()
    fixes = []
    flavor = client.get_flavor(reservation_id)
    if flavor is None:
        client.create_flavor(reservation_id, NAME_PREFIX + reservation_id, is_public=False,
                             **_flavor_spec(reservation_id, params, row['server_group_id']))
        fixes.append('flavor %s made again' % reservation_id)
        flavor = client.get_flavor(reservation_id)
    if not client.flavor_usable_by(flavor, lease['project_id']):
        client.add_flavor_access(reservation_id, lease['project_id'])
        fixes.append('project %s given flavor %s again' % (lease['project_id'],
                                                           reservation_id))
    if client.find_aggregate(reservation_id) is None:
        client.get_or_create_aggregate(
            reservation_id, metadata=_aggregate_metadata(lease, reservation_id,
                                                         row['server_group_id']))
        fixes.append('aggregate %s made again' % reservation_id)
    rc_client = placement.get_client()
    rc = resource_class(reservation_id)
    rc_client.create_resource_class(rc)
    for host_id, n in sorted(slots.items()):
        host = hosts[host_id]
        provider = rc_client.reservation_provider(host['hypervisor_hostname'])
        current = rc_client.get_inventories(provider['uuid']).get(rc)
        if current is None or current['total'] != n:
            rc_client.set_inventory(provider['uuid'], rc, n, max_unit=1)
            fixes.append('%s inventory on %s set to %d (was %s)' % (
                rc, host['hypervisor_hostname'], n,
                current['total'] if current else 'missing'))
    return fixes
