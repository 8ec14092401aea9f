"""Blazar against a real Nova 34 and Placement 16: host enrolment, host and
instance reservations through their whole life with servers booted by the
tenant, and a failed compute host healed (conftest.py says what runs).

Nova's scheduler runs the blazar-nova ``BlazarFilter`` as deployed in
production, so the hint ``reservation=<id>`` is what sends a server to the
reserved hosts, and a server without it finds no host in a Blazar pool.
"""
import datetime
import time

import pytest

pytestmark = pytest.mark.realnova

OWNER = 'alice:proj1'
STRANGER = 'bob:proj2'
LEASE_TIMEOUT = 180
NO_VALID_HOST = 'No valid host was found'


def in_minutes(minutes):
    moment = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
    return moment.strftime('%Y-%m-%d %H:%M')


def start_lease(blazar, name, reservation, minutes=60):
    """A lease of ``OWNER`` from now; once ACTIVE, (lease, reservation)."""
    resp = blazar.api.as_user(OWNER).post('/leases', {
        'name': name, 'start_date': 'now', 'end_date': in_minutes(minutes),
        'reservations': [reservation], 'events': []})
    assert resp.status_code == 201, resp.text
    lease = wait_for_lease(blazar, resp.json()['lease']['id'], 'ACTIVE')
    return lease, lease['reservations'][0]


def end_lease(blazar, lease):
    resp = blazar.api.as_user(OWNER).put('/leases/%s' % lease['id'], {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    return wait_for_lease(blazar, lease['id'], 'TERMINATED')


def wait_for(what, condition, blazar, timeout=LEASE_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError('timed out waiting for %s\n%s' % (what, blazar.logs()))


def wait_for_lease(blazar, lease_id, status):
    def reached():
        lease = blazar.api.get('/leases/%s' % lease_id).json()['lease']
        assert lease['status'] != 'ERROR', lease
        return lease if lease['status'] == status else None
    return wait_for('lease %s %s' % (lease_id, status), reached, blazar)


def reserved_hosts(blazar, reservation_id):
    """Hypervisor hostnames Blazar allocates to a reservation."""
    names = {str(h['id']): h['hypervisor_hostname']
             for h in blazar.api.get('/os-hosts').json()['hosts']}
    allocations = blazar.api.get('/os-hosts/allocations').json()['allocations']
    return sorted(names[a['resource_id']] for a in allocations
                  if any(r['id'] == reservation_id for r in a['reservations']))


def _host_in_state(blazar, name, state):
    """Blazar's host ``name`` if it is in ``state``, else None."""
    host = next(h for h in blazar.api.get('/os-hosts').json()['hosts']
                if h['hypervisor_hostname'] == name)
    return host if host['state'] == state else None


def rc_name(reservation_id):
    return 'CUSTOM_RESERVATION_' + reservation_id.upper().replace('-', '_')


@pytest.fixture
def servers(cloud):
    """Servers a test boots, deleted at its end whatever happens."""
    booted = []
    yield booted
    cloud.delete_servers([s for s in booted if cloud.server(s) is not None])


@pytest.fixture(scope='module')
def flavor(cloud):
    flavor_id = cloud.create_flavor('rn.small', vcpus=1, ram=512, disk=1)
    yield flavor_id
    cloud.delete_flavor(flavor_id)


def test_enrolment_puts_the_hosts_in_the_freepool(blazar, enrolled, realnova, cloud):
    assert sorted(enrolled) == realnova.hosts
    for name, host in enrolled.items():
        assert (host['service_name'], host['vcpus'], host['memory_mb'],
                host['local_gb'], host['hypervisor_type']) == (name, 10, 8192, 1028, 'fake')
    assert cloud.hosts_in('freepool') == realnova.hosts
    # Nova names each compute node provider after its hypervisor hostname:
    # what Blazar copies the inventory from and hangs blazar_<hostname> under.
    providers = cloud.providers()
    for name in realnova.hosts:
        inventory = cloud.inventories(providers[name]['uuid'])
        assert (inventory['VCPU']['total'], inventory['MEMORY_MB']['total'],
                inventory['DISK_GB']['total']) == (10, 8192, 1028)
    # Enrolling again, or a host Nova does not know, is refused.
    assert blazar.api.post('/os-hosts', {'name': 'host1'}).status_code == 409
    assert blazar.api.post('/os-hosts', {'name': 'host9'}).status_code == 404


def test_host_reservation_whole_life(blazar, enrolled, cloud, flavor, servers):
    lease, reservation = start_lease(blazar, 'hosts', {
        'resource_type': 'physical:host', 'min': 2, 'max': 2,
        'hypervisor_properties': '', 'resource_properties': ''})
    res_id = reservation['id']
    held = reserved_hosts(blazar, res_id)
    assert len(held) == 2
    aggregate = cloud.aggregates()[res_id]
    assert aggregate['availability_zone'] == 'blazar_' + res_id
    assert aggregate['metadata']['blazar:owner'] == 'proj1'
    assert sorted(aggregate['hosts']) == held
    free = cloud.hosts_in('freepool')
    assert len(free) == 1 and not set(free) & set(held)
    # Nova mirrors the membership into Placement (what its AZ filtering uses).
    providers = cloud.providers()
    for name in held:
        assert aggregate['uuid'] in cloud.provider_aggregates(providers[name]['uuid'])

    # The owner's server with the hint lands on a reserved host...
    servers.append(cloud.boot(OWNER, 'in-lease', flavor, hints={'reservation': res_id}))
    server = cloud.wait_built(servers[-1])
    assert server['status'] == 'ACTIVE', server.get('fault')
    assert cloud.host_of(server) in held
    assert server['OS-EXT-AZ:availability_zone'] == 'blazar_' + res_id
    # ...another project's does not, and neither does a server without the
    # hint: BlazarFilter keeps plain servers off every Blazar pool.
    servers.append(cloud.boot(STRANGER, 'stranger', flavor, hints={'reservation': res_id}))
    servers.append(cloud.boot(OWNER, 'no-hint', flavor))
    for refused in servers[1:]:
        refused = cloud.wait_built(refused)
        assert refused['status'] == 'ERROR'
        assert NO_VALID_HOST in refused['fault']['message']

    ended = end_lease(blazar, lease)
    assert ended['reservations'][0]['status'] == 'deleted'
    assert cloud.server(server['id']) is None
    assert res_id not in cloud.aggregates()
    assert cloud.hosts_in('freepool') == sorted(enrolled)


def test_instance_reservation_whole_life(blazar, enrolled, cloud, servers):
    lease, reservation = start_lease(blazar, 'instances', {
        'resource_type': 'virtual:instance', 'amount': 2, 'vcpus': 1,
        'memory_mb': 512, 'disk_gb': 1, 'affinity': False, 'resource_properties': ''})
    res_id, rc = reservation['id'], rc_name(reservation['id'])
    # The flavor: id = reservation id, private, shared with the owner.
    assert reservation['flavor_id'] == res_id
    flavor = cloud.flavor(res_id)
    assert (flavor['vcpus'], flavor['ram'], flavor['disk']) == (1, 512, 1)
    assert flavor['os-flavor-access:is_public'] is False
    assert flavor['extra_specs']['aggregate_instance_extra_specs:reservation'] == res_id
    assert flavor['extra_specs']['resources:' + rc] == '1'
    assert cloud.flavor_access(res_id) == ['proj1']
    group = cloud.server_group(reservation['server_group_id'])
    assert (group['policy'], group['project_id']) == ('anti-affinity', 'proj1')
    # The aggregate holds the hosts of the slots, which stay in the freepool.
    held = reserved_hosts(blazar, res_id)
    assert len(held) == 2
    aggregate = cloud.aggregates()[res_id]
    assert aggregate['metadata']['reservation'] == res_id
    assert aggregate['metadata']['blazar:owner'] == 'proj1'
    assert sorted(aggregate['hosts']) == held
    assert cloud.hosts_in('freepool') == sorted(enrolled)
    # One unit of the reservation's class on each blazar_<hostname> child.
    providers = cloud.providers()
    for name in held:
        child = providers['blazar_' + name]
        assert child['parent_provider_uuid'] == providers[name]['uuid']
        assert cloud.inventories(child['uuid'])[rc]['total'] == 1

    # The owner boots with the flavor and the reservation's server group,
    # which is the owner's (Nova lets only its own project use a group).
    hints = {'group': reservation['server_group_id']}
    for index in range(2):
        servers.append(cloud.boot(OWNER, 'slot%d' % index, res_id, hints=hints))
    booted = [cloud.wait_built(s) for s in servers]
    assert [s['status'] for s in booted] == ['ACTIVE', 'ACTIVE'], \
        [s.get('fault') for s in booted]
    assert sorted(cloud.host_of(s) for s in booted) == held
    for server in booted:
        child = providers['blazar_' + cloud.host_of(server)]['uuid']
        assert cloud.allocations(server['id'])[child] == {rc: 1}
    assert sorted(cloud.server_group(group['id'])['members']) == sorted(servers)
    # No third slot: Placement has no room left for the class.
    servers.append(cloud.boot(OWNER, 'slot3', res_id))
    third = cloud.wait_built(servers[-1])
    assert third['status'] == 'ERROR'
    assert NO_VALID_HOST in third['fault']['message']

    end_lease(blazar, lease)
    assert all(cloud.server(s['id']) is None for s in booted)
    assert cloud.flavor(res_id) is None
    assert cloud.server_group(reservation['server_group_id']) is None
    assert res_id not in cloud.aggregates()
    providers = cloud.providers()
    for name in held:
        assert rc not in cloud.inventories(providers['blazar_' + name]['uuid'])
    assert not cloud.resource_class_exists(rc)


def test_failed_compute_host_is_replaced(blazar, enrolled, realnova, cloud):
    lease, reservation = start_lease(blazar, 'healed', {
        'resource_type': 'physical:host', 'min': 1, 'max': 1,
        'hypervisor_properties': '', 'resource_properties': ''})
    res_id = reservation['id']
    [failed] = reserved_hosts(blazar, res_id)
    realnova.stop_compute(failed)
    try:
        cloud.force_down(failed, True)
        host = wait_for('%s failed in Blazar' % failed,
                        lambda: _host_in_state(blazar, failed, 'failed'), blazar)
        assert host['state_reason'] == 'nova-compute is forced down'
        [replacement] = wait_for('a replacement for %s' % failed, lambda: [
            h for h in reserved_hosts(blazar, res_id) if h != failed], blazar)
        # The store decides at once; the converger then makes Nova match.
        wait_for('Nova to hold %s for %s' % (replacement, res_id),
                 lambda: cloud.hosts_in(res_id) == [replacement], blazar)
        wait_for('%s back in the freepool' % failed,
                 lambda: failed in cloud.hosts_in('freepool'), blazar)
        assert replacement not in cloud.hosts_in('freepool')
        lease = blazar.api.get('/leases/%s' % lease['id']).json()['lease']
        assert lease['degraded'] is False
        assert lease['reservations'][0]['missing_resources'] is False
    finally:
        realnova.start_compute(failed)
        cloud.force_down(failed, False)
    wait_for('%s available again' % failed,
             lambda: _host_in_state(blazar, failed, 'available'), blazar)
    # Deleting the active lease gives the replacement back.
    assert blazar.api.as_user(OWNER).delete('/leases/%s' % lease['id']).status_code == 204
    wait_for('the aggregate of %s removed' % res_id,
             lambda: res_id not in cloud.aggregates(), blazar)
    assert cloud.hosts_in('freepool') == sorted(enrolled)
