"""The simulated scheduler honours Placement: custom classes on child
providers confine reservation flavors, traits filter hosts, allocations
follow servers, and hypervisor usage is Placement's."""
import time

import pytest

from blazar.simulator import scheduler
from blazar.simulator import state
from blazar.simulator.testing import placement_adapter_for
from blazar.tests.unit.simulator.test_scheduler import assert_no_valid_host
from blazar.tests.unit.simulator.test_scheduler import host_of

RC = 'CUSTOM_RESERVATION_X'


@pytest.fixture
def placement(sim):
    return placement_adapter_for(sim)


def provider(cloud, name):
    return cloud.placement.list_providers(name=name)[0]


def reserve_on(cloud, hostname, rc=RC, total=2):
    """What Blazar does at lease start: a child provider with the class."""
    root = provider(cloud, hostname)
    child = cloud.placement.create_provider('blazar_' + hostname,
                                            parent_uuid=root['uuid'])
    cloud.placement.ensure_resource_class(rc)
    cloud.placement.set_inventories(child['uuid'], child['generation'], {
        rc: {'total': total, 'max_unit': 1}})
    return child


def reservation_flavor(nova, name='reservation:x', rc=RC, ram=1024, vcpus=1,
                       disk=10, **extra):
    flavor = nova.flavors.create(name, ram, vcpus, disk)
    flavor.set_keys(dict({'resources:%s' % rc: '1'}, **extra))
    return flavor


def boot(client, flavor, **kwargs):
    return client.servers.create('vm', 'img', flavor, nics='none', **kwargs)


# --- the reservation flow ----------------------------------------------------
def test_custom_class_confines_servers_to_reserved_slots(cloud, nova, alice,
                                                         placement):
    child = reserve_on(cloud, 'compute-2', total=2)
    flavor = reservation_flavor(nova)
    ids = [boot(nova, flavor).id for _ in range(3)]
    assert [host_of(nova, i) for i in ids[:2]] == ['compute-2'] * 2
    assert_no_valid_host(nova, ids[2])
    # the claims: VCPU/MEMORY_MB/DISK_GB on the root, the class on the child
    root = provider(cloud, 'compute-2')['uuid']
    allocations = placement.get('/allocations/%s' % ids[0]).json()
    assert allocations['allocations'] == {
        root: {'generation': allocations['allocations'][root]['generation'],
               'resources': {'VCPU': 1, 'MEMORY_MB': 1024, 'DISK_GB': 10}},
        child['uuid']: {
            'generation': allocations['allocations'][child['uuid']][
                'generation'],
            'resources': {RC: 1}}}
    assert allocations['consumer_type'] == 'INSTANCE'
    usages = placement.get('/resource_providers/%s/usages'
                           % child['uuid']).json()['usages']
    assert usages == {RC: 2}
    # a slot freed is usable again, and only there
    nova.servers.delete(ids[0])
    again = boot(nova, flavor)
    assert host_of(nova, again.id) == 'compute-2'
    assert_no_valid_host(nova, boot(nova, flavor).id)


def test_blazar_instance_reservation_shape(cloud, nova, alice):
    """Aggregate + extra specs + custom class, as the instance plugin sets
    them up: the servers land on the reserved hosts only, up to the slots."""
    free = nova.aggregates.create('freepool', None)
    for host in ('compute-1', 'compute-2', 'compute-3'):
        nova.aggregates.add_host(free, host)
    agg = nova.aggregates.create('res-1', None)
    nova.aggregates.set_metadata(agg, {'reservation': 'res-1',
                                       'filter_tenant_id': 'projA',
                                       'blazar:owner': 'projA'})
    for host in ('compute-1', 'compute-3'):
        nova.aggregates.add_host(agg, host)
        reserve_on(cloud, host, total=1)
    flavor = nova.flavors.create('reservation:res-1', 2048, 2, 20,
                                 is_public=False)
    flavor.set_keys({'aggregate_instance_extra_specs:reservation': 'res-1',
                     'resources:%s' % RC: '1'})
    nova.flavor_access.add_tenant_access(flavor, 'projA')
    ids = [boot(alice, flavor).id for _ in range(3)]
    assert sorted(host_of(nova, i) for i in ids[:2]) == ['compute-1',
                                                         'compute-3']
    assert_no_valid_host(nova, ids[2])


def test_no_inventory_anywhere_means_no_valid_host(cloud, nova):
    cloud.placement.ensure_resource_class(RC)
    assert_no_valid_host(nova, boot(nova, reservation_flavor(nova)).id)


def test_multi_create_is_all_or_nothing_in_placement(cloud, nova):
    child = reserve_on(cloud, 'compute-1', total=2)
    flavor = reservation_flavor(nova)
    nova.servers.create('vm', 'img', flavor, nics='none', min_count=3,
                        max_count=3)
    servers = nova.servers.list()
    assert [s.status for s in servers] == ['ERROR'] * 3
    assert cloud.placement.usages(child['uuid'])[1] == {RC: 0}
    assert cloud.placement.consumers == {}
    nova.servers.create('vm', 'img', flavor, nics='none', min_count=2,
                        max_count=2)
    assert cloud.placement.usages(child['uuid'])[1] == {RC: 2}


# --- usages ------------------------------------------------------------------
def test_usages_follow_boots_deletes_and_shelving(cloud, nova, alice,
                                                  placement):
    flavor = nova.flavors.create('f', 1000, 2, 5, ephemeral=3, swap=1500)
    server = boot(alice, flavor)
    host = host_of(nova, server.id)
    root = provider(cloud, host)['uuid']
    path = '/resource_providers/%s/usages' % root
    # DISK_GB = disk + ephemeral + swap rounded up to GiB, as Nova asks
    assert placement.get(path).json()['usages'] == {
        'VCPU': 2, 'MEMORY_MB': 1000, 'DISK_GB': 10}
    hyp = [h for h in nova.hypervisors.list()
           if h.hypervisor_hostname == host][0]
    assert (hyp.vcpus_used, hyp.memory_mb_used, hyp.local_gb_used) == (
        2, 1000, 10)
    alice.servers.shelve(server.id)
    assert placement.get(path).json()['usages'] == {
        'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0}
    assert placement.get('/allocations/%s' % server.id).json() == {
        'allocations': {}}
    alice.servers.unshelve(server.id)
    root = provider(cloud, host_of(nova, server.id))['uuid']
    assert cloud.placement.usages(root)[1]['VCPU'] == 2
    alice.servers.delete(server.id)
    assert all(v == 0 for p in cloud.placement.providers
               for v in cloud.placement.usages(p)[1].values())


def test_slow_delete_keeps_allocations_until_the_server_is_gone():
    cloud = state.Cloud(hosts=1, vcpus=2, delete_delay=0.2)
    cloud.create_flavor('f', 512, 2, 1, flavor_id='f')
    server = cloud.create_servers(state.ADMIN, 'vm', 'f')[0]
    cloud.delete_server(state.ADMIN, server['id'])
    assert cloud.list_hypervisors()[0]['vcpus_used'] == 2
    assert cloud.placement.get_allocations(server['id']) is not None
    time.sleep(0.3)
    assert cloud.list_hypervisors()[0]['vcpus_used'] == 0
    assert cloud.placement.get_allocations(server['id']) is None


def test_foreign_allocations_count_on_the_hypervisor(cloud, nova, placement):
    """Hypervisor *_used figures are Placement's usages, whoever allocated."""
    root = provider(cloud, 'compute-1')['uuid']
    resp = placement.put('/allocations/%s' % 'c0ffee00-0000-4000-8000-'
                         '000000000001', json={
                             'allocations': {root: {'resources': {
                                 'VCPU': 6, 'MEMORY_MB': 100}}},
                             'project_id': 'p', 'user_id': 'u',
                             'consumer_generation': None,
                             'consumer_type': 'MIGRATION'})
    assert resp.status_code == 204, resp.text
    hyp = [h for h in nova.hypervisors.list()
           if h.hypervisor_hostname == 'compute-1'][0]
    assert (hyp.vcpus_used, hyp.memory_mb_used) == (6, 100)
    big = nova.flavors.create('big', 1024, 2, 1)
    ids = [boot(nova, big, host='compute-1').id for _ in range(2)]
    assert host_of(nova, ids[0]) == 'compute-1'      # 6 + 2 <= 8 vCPUs
    assert_no_valid_host(nova, ids[1])


# --- capacity from the inventory ---------------------------------------------
def test_allocation_ratios_allow_overcommit():
    cloud = state.Cloud(hosts=1, vcpus=2, memory_mb=4096, local_gb=100,
                        cpu_allocation_ratio=8.0, ram_allocation_ratio=1.5,
                        reserved_host_memory_mb=512)
    inventories = cloud.placement.get_inventories(
        cloud.list_hypervisors()[0]['id'])[1]
    assert inventories['VCPU']['allocation_ratio'] == 8.0
    assert inventories['MEMORY_MB']['reserved'] == 512
    cloud.create_flavor('f', 1024, 2, 1, flavor_id='f')
    placed = [cloud.create_servers(state.ADMIN, 'vm', 'f')[0]['status']
              for _ in range(6)]
    # VCPU: 2 * 8 = 16 -> eight 2-vCPU servers, but MEMORY_MB:
    # (4096 - 512) * 1.5 = 5376 -> five 1024 MiB servers
    assert placed == ['ACTIVE'] * 5 + ['ERROR']
    hyp = cloud.list_hypervisors()[0]
    assert (hyp['vcpus_used'], hyp['memory_mb_used']) == (10, 5120)


def test_per_host_sizing_and_traits():
    cloud = state.Cloud(hosts=[
        'plain', {'hypervisor_hostname': 'gpu', 'traits': ['CUSTOM_GPU'],
                  'cpu_allocation_ratio': 2.0}])
    gpu = cloud.placement.list_providers(name='gpu')[0]['uuid']
    assert cloud.placement.get_provider_traits(gpu)[1] == ['COMPUTE_NODE',
                                                           'CUSTOM_GPU']
    assert cloud.placement.get_inventories(gpu)[1]['VCPU'][
        'allocation_ratio'] == 2.0
    with pytest.raises(TypeError):
        cloud.add_hypervisor('x', cpu_ratio=3)


def test_forced_host_still_needs_placement(cloud, nova):
    reserve_on(cloud, 'compute-1', total=1)
    flavor = reservation_flavor(nova)
    server = boot(nova, flavor, availability_zone='nova:compute-2')
    assert_no_valid_host(nova, server.id)
    server = boot(nova, flavor, availability_zone='nova:compute-1')
    assert host_of(nova, server.id) == 'compute-1'


def test_resources_extra_specs_override_and_drop(cloud, nova, placement):
    flavor = nova.flavors.create('f', 2048, 4, 10)
    flavor.set_keys({'resources:VCPU': '0', 'resources:DISK_GB': '1',
                     'resources1:MEMORY_MB': '100'})
    server = boot(nova, flavor)
    allocations = placement.get('/allocations/%s' % server.id).json()
    [entry] = allocations['allocations'].values()
    assert entry['resources'] == {'MEMORY_MB': 2148, 'DISK_GB': 1}


# --- traits ------------------------------------------------------------------
def test_required_and_forbidden_traits():
    cloud = state.Cloud(hosts=[{'hypervisor_hostname': 'a',
                                'traits': ['HW_CPU_X86_AVX2']},
                               {'hypervisor_hostname': 'b',
                                'traits': ['CUSTOM_SLOW']},
                               'c'],
                        pools=scheduler.Pools())
    cloud.placement.ensure_trait('CUSTOM_UNUSED')
    for name, specs in [('avx', {'trait:HW_CPU_X86_AVX2': 'required'}),
                        ('fast', {'trait:CUSTOM_SLOW': 'forbidden'}),
                        ('none', {'trait:CUSTOM_UNUSED': 'required'})]:
        cloud.create_flavor(name, 64, 1, 1, flavor_id=name)
        cloud.set_extra_specs(name, specs)

    def hosts(flavor, count):
        return {cloud.create_servers(state.ADMIN, 'vm', flavor)[0]['host']
                for _ in range(count)}
    assert hosts('avx', 4) == {'a'}
    assert hosts('fast', 6) == {'a', 'c'}
    assert hosts('none', 1) == {None}


def test_trait_on_root_with_class_on_child(cloud, nova):
    """The unnumbered group is served by the tree: the root's trait and
    the child's class together satisfy the request."""
    for host in ('compute-1', 'compute-2'):
        reserve_on(cloud, host, total=5)
    root = provider(cloud, 'compute-2')
    cloud.placement.ensure_trait('CUSTOM_FAST')
    cloud.placement.set_provider_traits(
        root['uuid'], cloud.placement.get_provider(root['uuid'])['generation'],
        ['COMPUTE_NODE', 'CUSTOM_FAST'])
    flavor = reservation_flavor(nova, **{'trait:CUSTOM_FAST': 'required'})
    assert {host_of(nova, boot(nova, flavor).id) for _ in range(3)} == {
        'compute-2'}


# --- the pure helpers --------------------------------------------------------
@pytest.mark.parametrize('flavor, expected', [
    ({'vcpus': 2, 'ram': 512, 'disk': 10, 'ephemeral': 5, 'swap': 1},
     ({'VCPU': 2, 'MEMORY_MB': 512, 'DISK_GB': 16}, [], set())),
    ({'vcpus': 1, 'ram': 1, 'disk': 0, 'extra_specs': {
        'resources:CUSTOM_RESERVATION_AB': '1', 'resources:VCPU': '0',
        'trait:HW_CPU_X86_AVX': 'required', 'trait:CUSTOM_X': 'forbidden',
        'trait:CUSTOM_Y': 'ignored', 'resources:PCPU': 'bogus',
        'hw:cpu_policy': 'shared'}},
     ({'MEMORY_MB': 1, 'CUSTOM_RESERVATION_AB': 1},
      [{'HW_CPU_X86_AVX'}], {'CUSTOM_X'})),
])
def test_placement_request(flavor, expected):
    assert scheduler.placement_request(flavor) == expected


def test_snapshots_without_placement_use_free_sizes():
    host = scheduler.HostState(host='h', node='h', up=True, enabled=True,
                               zones=['nova'], aggregates=[], free_vcpus=1,
                               free_ram_mb=10, free_disk_gb=1)
    assert host.fits({'vcpus': 1, 'ram': 10, 'disk': 1})
    host.placement = True
    assert not host.fits({'vcpus': 1, 'ram': 10, 'disk': 1})
    host.allocation = {}
    assert host.fits({'vcpus': 99, 'ram': 10, 'disk': 1})
