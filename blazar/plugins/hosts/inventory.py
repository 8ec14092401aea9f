"""The inventory of reservable hosts: enrolment, update, removal, and the
read-only views (allocations, properties).

Nova is read before the store is changed; what Nova must do after a change
(put an enrolled host in the freepool, take a removed one out) is a
deferred call recorded in the change's transaction (blazar/deferred.py):
made at once after the commit, and retried until it succeeds if Nova fails
then. No Nova call happens while the allocation lock is held.
"""
import logging

from oslo_utils import timeutils

from blazar import deferred
from blazar import exceptions
from blazar.clients import nova
from blazar.clients import placement
from blazar.conf import CONF
from blazar.db import api as db_api

LOG = logging.getLogger(__name__)
RESOURCE_TYPE = 'physical:host'
MAX_CAPABILITY_KEY = 64
FREEPOOL_ADD = 'freepool.add'
FREEPOOL_REMOVE = 'freepool.remove'

# Host attributes taken from Nova; an extra capability may not shadow them.
HOST_FIELDS = ('id', 'hypervisor_id', 'hypervisor_hostname', 'service_name',
               'hypervisor_type', 'hypervisor_version', 'vcpus', 'memory_mb',
               'local_gb', 'cpu_info', 'availability_zone', 'status', 'trust_id',
               'reservable', 'created_at', 'updated_at', 'name',
               # health (blazar.plugins.hosts.health): set by the monitors and
               # the maintenance API only
               'failure_reason', 'maintenance_start', 'maintenance_reason',
               'state', 'state_reason')


def check_capabilities(capabilities, allow_null=False):
    """Extra capabilities: short keys, not host attributes, scalar values.
    With ``allow_null`` (an update) a null value stays None: it deletes the
    capability, as upstream's ``host-unset`` expects."""
    checked = {}
    for key, value in capabilities.items():
        if len(key) > MAX_CAPABILITY_KEY:
            raise exceptions.ExtraCapabilityTooLong(key=key)
        if key in HOST_FIELDS:
            raise exceptions.InvalidInput(
                reason='%s is a host attribute read from Nova, not an extra '
                       'capability' % key)
        if value is None and allow_null:
            checked[key] = None
            continue
        if isinstance(value, (dict, list)) or value is None:
            raise exceptions.InvalidInput(
                reason='extra capability %s must be a string, number or boolean' % key)
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        checked[key] = str(value)
    return checked


def placement_inventory(hostname):
    """A compute node's Placement inventories and traits, copied into the
    store so that instance capacity needs no HTTP call; empty when
    Placement is not configured or has no provider of that name (the raw
    hypervisor sizes count then)."""
    if not CONF.placement.auth_type:
        return {}, set()
    client = placement.get_client()
    provider = client.get_provider_by_name(hostname)
    if provider is None:
        LOG.warning('Placement has no resource provider %s: instance capacity '
                    'of that host is its raw size', hostname)
        return {}, set()
    return (client.get_inventories(provider['uuid']),
            set(client.get_traits(provider['uuid'])))


def get_host(context, host_ref):
    """A host by our id or by hypervisor hostname; 404 if not enrolled."""
    host = None
    # Ids are 32-bit integers on every backend; larger digits are a name.
    if str(host_ref).isascii() and str(host_ref).isdigit() and int(host_ref) < 2 ** 31:
        host = db_api.host_get(context, int(host_ref))
    if host is None:
        host = db_api.host_get_by_hostname(context, str(host_ref))
    if host is None:
        raise exceptions.HostNotEnrolled(host=host_ref)
    return host


def list_hosts(context):
    return db_api.host_list(context)


def create_host(context, values):
    values = dict(values)
    ref = values.pop('name', None) or values.pop('id', None)
    if not ref:
        raise exceptions.MissingParameter(param='name')
    capabilities = check_capabilities(values)
    client = nova.get_client()
    hypervisor = client.get_hypervisor(str(ref))
    hostname = hypervisor['hypervisor_hostname']
    if db_api.host_get_by_hostname(context, hostname):
        raise exceptions.HostAlreadyEnrolled(host=hostname)
    servers = client.servers_on_host(hypervisor['service_name'])
    if servers:
        raise exceptions.HostHavingServers(
            host=hostname, servers=', '.join(s['id'] for s in servers[:5]))
    row = {key: hypervisor[key] for key in (
        'hypervisor_id', 'hypervisor_hostname', 'service_name', 'hypervisor_type',
        'hypervisor_version', 'vcpus', 'memory_mb', 'local_gb', 'cpu_info',
        'availability_zone')}
    row['trust_id'] = values.get('trust_id')
    row['reservable'] = True
    inventories, traits = placement_inventory(hostname)
    with db_api.transaction(context):
        # Host changes take the allocation lock too: they serialise with
        # allocation decisions and move its generation, which keys the
        # manager's cached calendar (blazar.plugins.hosts.availability).
        db_api.allocation_lock(context)
        if db_api.host_get_by_hostname(context, hostname):
            raise exceptions.HostAlreadyEnrolled(host=hostname)
        host = db_api.host_create(context, row, capabilities, RESOURCE_TYPE)
        db_api.host_set_inventory(context, host['id'], inventories, traits)
        call = deferred.add(context, FREEPOOL_ADD, {'host': hypervisor['service_name']})
    deferred.run(context, [call])
    LOG.info('Enrolled host %s (%s)', host['id'], hostname)
    return host


def update_host(context, host_ref, values, capability_in_use=None):
    """Add or change extra capabilities.

    ``capability_in_use(context, host, keys)`` names those a current or
    future reservation of the host depends on; changing them is refused.
    """
    if not values:
        raise exceptions.InvalidInput(reason='No data to update')
    capabilities = check_capabilities(values, allow_null=True)
    with db_api.transaction(context):
        # Under the allocation lock: no reservation relying on a capability
        # can be made between the check and the change.
        db_api.allocation_lock(context)
        host = get_host(context, host_ref)
        if capability_in_use:
            changed = {k for k, v in capabilities.items()
                       if host['capabilities'].get(k) != v}
            busy = capability_in_use(context, host, changed)
            if busy:
                raise exceptions.CantAddExtraCapability(
                    keys=', '.join(sorted(busy)), host=host['hypervisor_hostname'],
                    reason='a current or future reservation of the host relies on '
                           'it')
        return db_api.host_update(context, host['id'], {'updated_at': timeutils.utcnow()},
                                  capabilities, RESOURCE_TYPE)


def delete_host(context, host_ref):
    host = get_host(context, host_ref)
    if db_api.host_has_allocations(context, host['id'], timeutils.utcnow()):
        raise exceptions.CantDeleteHost(
            host=host['hypervisor_hostname'], reason='The host is reserved.')
    client = nova.get_client()
    servers = client.servers_on_host(host['service_name'])
    if servers:
        raise exceptions.CantDeleteHost(
            host=host['hypervisor_hostname'],
            reason='Servers are running on it: %s'
                   % ', '.join(s['id'] for s in servers[:5]))
    with db_api.transaction(context):
        db_api.allocation_lock(context)
        if db_api.host_has_allocations(context, host['id'], timeutils.utcnow()):
            raise exceptions.CantDeleteHost(
                host=host['hypervisor_hostname'], reason='The host is reserved.')
        db_api.host_destroy(context, host['id'])
        call = deferred.add(context, FREEPOOL_REMOVE, {'host': host['service_name']})
    deferred.run(context, [call])
    LOG.info('Removed host %s (%s)', host['id'], host['hypervisor_hostname'])


def list_allocations(context, host_ids=None, lease_id=None, reservation_id=None,
                     window=None, host_id=None, page=None):
    """Per host, the reservations holding it; by default only current and
    future ones, with a lease, reservation or window filter all of them
    (``window``: see db_api.ALLOCATION_WINDOW). ``host_id``: that host
    only; ``page``: a page of hosts by id (limit, marker, sort_dir). Two
    statements whatever the number of hosts and allocations."""
    if host_id is not None:
        try:
            host_id = int(host_id)
        except ValueError:
            host_id = -1
        host_id = host_id if 0 <= host_id < 2 ** 31 else -1
    if host_ids is not None and len(host_ids) == 1 and host_id is None:
        host_id = host_ids[0]
    # Hosts page by id only (the API's sort key resource_id).
    ids = db_api.host_id_page(context, dict(page or {}, sort_key='id'),
                              host_id=host_id)
    if host_ids is not None:
        ids = [i for i in ids if i in host_ids]
    window = {k: v for k, v in (window or {}).items() if v is not None}
    unfiltered = lease_id is None and reservation_id is None and not window
    paged = host_ids is not None or host_id is not None or bool(page)
    rows = db_api.allocation_list(
        context, host_ids=ids if paged else None,
        lease_id=lease_id, reservation_id=reservation_id,
        ends_after=timeutils.utcnow() if unfiltered else None, window=window)
    by_host = {i: [] for i in ids}
    seen = set()
    for row in rows:
        key = (row['compute_host_id'], row['reservation_id'])
        if row['compute_host_id'] in by_host and key not in seen:
            seen.add(key)
            by_host[row['compute_host_id']].append({
                'id': row['reservation_id'], 'lease_id': row['lease_id'],
                'start_date': row['start_date'], 'end_date': row['end_date']})
    return [{'resource_id': str(i), 'reservations': reservations}
            for i, reservations in by_host.items()]


def list_resource_properties(context, detail=False, include_private=False):
    props = db_api.resource_property_list(context, RESOURCE_TYPE)
    if not include_private:
        props = [p for p in props if not p['private']]
    if detail:
        return props
    return [{'property': p['property']} for p in props]


def update_resource_property(context, name, values):
    prop = db_api.resource_property_update(context, RESOURCE_TYPE, name, values)
    if prop is None:
        raise exceptions.ResourcePropertyNotFound(name=name)
    return prop


@deferred.handler(FREEPOOL_ADD)
def _freepool_add(context, payload):
    """An enrolled host joins the freepool (unless a reservation holds it)."""
    client = nova.get_client()
    client.add_host(client.freepool()['id'], payload['host'])


@deferred.handler(FREEPOOL_REMOVE)
def _freepool_remove(context, payload):
    """A removed host leaves the freepool, unless it was enrolled again."""
    if any(h['service_name'] == payload['host'] for h in db_api.host_health_list(context)):
        return
    client = nova.get_client()
    client.remove_host(client.freepool()['id'], payload['host'])
