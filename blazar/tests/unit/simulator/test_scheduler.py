"""Where servers land: the blazar-nova rules, capacity and affinity."""
import concurrent.futures

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from novaclient import exceptions as nexc
import pytest

from blazar.simulator import scheduler
from blazar.simulator import state
from blazar.simulator.testing import novaclient_for

NO_VALID_HOST = {'code': 500, 'message': 'No valid host was found.'}


def host_of(nova, server_id):
    return getattr(nova.servers.get(server_id), 'OS-EXT-SRV-ATTR:host')


def assert_no_valid_host(nova, server_id):
    server = nova.servers.get(server_id)
    assert server.status == 'ERROR'
    assert {k: server.fault[k] for k in ('code', 'message')} == NO_VALID_HOST
    assert getattr(server, 'OS-EXT-SRV-ATTR:host') is None


@pytest.fixture
def small(nova):
    return nova.flavors.create('small', 1024, 1, 10)


def reservation_pool(nova, name, owner, hosts):
    """What Blazar makes for a host reservation."""
    agg = nova.aggregates.create(name, 'blazar_' + name)
    nova.aggregates.set_metadata(agg, {'blazar:owner': owner})
    for host in hosts:
        nova.aggregates.add_host(agg, host)
    return agg


def freepool(nova, hosts):
    agg = nova.aggregates.create('freepool', None)
    for host in hosts:
        nova.aggregates.add_host(agg, host)
    return agg


# --- host reservations (hint) ---------------------------------------------
def test_reservation_hint_lands_in_owner_pool(nova, alice, small):
    freepool(nova, ['compute-1'])
    reservation_pool(nova, 'r1', 'projA', ['compute-2'])
    for _ in range(3):
        server = alice.servers.create('vm', 'img', small, nics='none',
                                      scheduler_hints={'reservation': 'r1'})
        assert host_of(nova, server.id) == 'compute-2'


def test_reservation_hint_refused_for_other_project(nova, bob, small):
    reservation_pool(nova, 'r1', 'projA', ['compute-2'])
    server = bob.servers.create('vm', 'img', small, nics='none',
                                scheduler_hints={'reservation': 'r1'})
    assert_no_valid_host(nova, server.id)


def test_reservation_hint_accepts_project_id_key(nova, bob, small):
    agg = nova.aggregates.create('r2', 'blazar_r2')
    nova.aggregates.set_metadata(agg, {'projB': 'true'})
    nova.aggregates.add_host(agg, 'compute-3')
    server = bob.servers.create('vm', 'img', small, nics='none',
                                scheduler_hints={'reservation': 'r2'})
    assert host_of(nova, server.id) == 'compute-3'


def test_reservation_hint_refused_without_hosts(nova, alice, small):
    reservation_pool(nova, 'r1', 'projA', [])
    server = alice.servers.create('vm', 'img', small, nics='none',
                                  scheduler_hints={'reservation': 'r1'})
    assert_no_valid_host(nova, server.id)


def test_reservation_hint_needs_blazar_zone(nova, alice, small):
    agg = nova.aggregates.create('r1', None)     # not a Blazar pool
    nova.aggregates.set_metadata(agg, {'blazar:owner': 'projA'})
    nova.aggregates.add_host(agg, 'compute-1')
    server = alice.servers.create('vm', 'img', small, nics='none',
                                  scheduler_hints={'reservation': 'r1'})
    assert_no_valid_host(nova, server.id)


# --- instance reservations (flavor) ------------------------------------------
def test_reservation_flavor_confined_to_its_aggregate(nova, alice):
    freepool(nova, ['compute-1', 'compute-2'])
    agg = nova.aggregates.create('res-1', None)
    nova.aggregates.set_metadata(agg, {'reservation': 'res-1',
                                       'blazar:owner': 'projA'})
    nova.aggregates.add_host(agg, 'compute-2')
    flavor = nova.flavors.create('reservation:res-1', 2048, 2, 20,
                                 is_public=False)
    flavor.set_keys({'aggregate_instance_extra_specs:reservation': 'res-1'})
    nova.flavor_access.add_tenant_access(flavor, 'projA')
    ids = [alice.servers.create('vm', 'img', flavor, nics='none').id
           for _ in range(5)]
    # compute-2 has 8 vCPUs / 8 GiB: four 2-vCPU/2-GiB servers fit.
    assert [host_of(nova, i) for i in ids[:4]] == ['compute-2'] * 4
    assert_no_valid_host(nova, ids[4])


# --- everything else ---------------------------------------------------------
def test_plain_servers_avoid_blazar_pools(nova, alice, small):
    freepool(nova, ['compute-1'])
    reservation_pool(nova, 'r1', 'projA', ['compute-2'])
    hosts = {host_of(nova, alice.servers.create('vm', 'img', small,
                                                nics='none').id)
             for _ in range(4)}
    assert hosts == {'compute-3'}


def test_plain_server_fails_when_every_host_is_reservable(nova, alice,
                                                          small):
    freepool(nova, ['compute-1', 'compute-2', 'compute-3'])
    server = alice.servers.create('vm', 'img', small, nics='none')
    assert_no_valid_host(nova, server.id)


def test_preemptible_only_on_idle_freepool_hosts(nova, alice):
    free = freepool(nova, ['compute-1', 'compute-2'])
    flavor = nova.flavors.create('spot', 512, 1, 1)
    flavor.set_keys({'blazar:preemptible': 'true'})
    nova.aggregates.remove_host(free, 'compute-2')
    reservation_pool(nova, 'r1', 'projA', ['compute-2'])
    hosts = {host_of(nova, alice.servers.create('vm', 'img', flavor,
                                                nics='none').id)
             for _ in range(3)}
    assert hosts == {'compute-1'}


def test_capacity_is_honoured(nova, alice):
    big = nova.flavors.create('big', 8192, 8, 100)     # a whole host
    ids = [alice.servers.create('vm', 'img', big, nics='none').id
           for _ in range(4)]
    assert sorted(host_of(nova, i) for i in ids[:3]) == [
        'compute-1', 'compute-2', 'compute-3']
    assert_no_valid_host(nova, ids[3])
    alice.servers.delete(ids[0])
    again = alice.servers.create('vm', 'img', big, nics='none')
    assert nova.servers.get(again.id).status == 'ACTIVE'


def test_disabled_or_down_hosts_are_skipped(nova, alice, cloud, small):
    cloud.fail_host('compute-1', 'disabled')
    cloud.fail_host('compute-2', 'down')
    hosts = {host_of(nova, alice.servers.create('vm', 'img', small,
                                                nics='none').id)
             for _ in range(3)}
    assert hosts == {'compute-3'}


def test_anti_affinity(nova, alice, small):
    group = alice.server_groups.create(name='g', policy='anti-affinity')
    hint = {'group': group.id}
    ids = [alice.servers.create('vm', 'img', small, nics='none',
                                scheduler_hints=hint).id for _ in range(4)]
    hosts = [host_of(nova, i) for i in ids[:3]]
    assert len(set(hosts)) == 3
    assert_no_valid_host(nova, ids[3])
    assert set(alice.server_groups.get(group.id).members) == set(ids)


def test_anti_affinity_max_server_per_host(nova, alice, small):
    group = alice.server_groups.create(
        name='g', policy='anti-affinity', rules={'max_server_per_host': 2})
    hint = {'group': group.id}
    ids = [alice.servers.create('vm', 'img', small, nics='none',
                                scheduler_hints=hint).id for _ in range(7)]
    hosts = [host_of(nova, i) for i in ids[:6]]
    assert all(hosts.count(h) == 2 for h in set(hosts))
    assert_no_valid_host(nova, ids[6])


def test_affinity(nova, alice, small):
    group = alice.server_groups.create(name='g', policy='affinity')
    ids = [alice.servers.create('vm', 'img', small, nics='none',
                                scheduler_hints={'group': group.id}).id
           for _ in range(3)]
    assert len({host_of(nova, i) for i in ids}) == 1


def test_requested_host_still_filtered(nova, small):
    server = nova.servers.create('vm', 'img', small, nics='none',
                                 host='compute-2')
    assert host_of(nova, server.id) == 'compute-2'
    freepool(nova, ['compute-3'])
    server = nova.servers.create('vm', 'img', small, nics='none',
                                 host='compute-3')
    assert_no_valid_host(nova, server.id)


def test_forced_host_skips_filters_but_not_capacity(nova, small):
    freepool(nova, ['compute-3'])
    server = nova.servers.create('vm', 'img', small, nics='none',
                                 availability_zone='nova:compute-3')
    assert host_of(nova, server.id) == 'compute-3'
    huge = nova.flavors.create('huge', 100000, 1, 1)
    server = nova.servers.create('vm', 'img', huge, nics='none',
                                 availability_zone='nova:compute-3')
    assert_no_valid_host(nova, server.id)


def test_forced_host_is_admin_only(alice, small):
    with pytest.raises(nexc.Forbidden):
        alice.servers.create('vm', 'img', small, nics='none',
                             availability_zone='nova:compute-1')


def test_availability_zone_request(nova, alice, small):
    agg = nova.aggregates.create('edge', 'edge')
    nova.aggregates.add_host(agg, 'compute-1')
    server = alice.servers.create('vm', 'img', small, nics='none',
                                  availability_zone='edge')
    assert host_of(nova, server.id) == 'compute-1'
    assert nova.servers.get(server.id).to_dict()[
        'OS-EXT-AZ:availability_zone'] == 'edge'
    with pytest.raises(nexc.BadRequest):
        alice.servers.create('vm', 'img', small, nics='none',
                             availability_zone='nowhere')


def test_unshelve_reschedules_with_hints(nova, alice, small):
    reservation_pool(nova, 'r1', 'projA', ['compute-2'])
    sid = alice.servers.create('vm', 'img', small, nics='none',
                               scheduler_hints={'reservation': 'r1'}).id
    alice.servers.shelve(sid)
    alice.servers.unshelve(sid)
    assert host_of(nova, sid) == 'compute-2'


# --- the filter itself, without HTTP -----------------------------------------
def _host(aggregates, **kwargs):
    values = dict(host='h', node='h', up=True, enabled=True, zones=['nova'],
                  aggregates=aggregates, free_vcpus=4, free_ram_mb=4096,
                  free_disk_gb=40)
    values.update(kwargs)
    return scheduler.HostState(**values)


def _spec(**kwargs):
    values = dict(project_id='p', flavor={'vcpus': 1, 'ram': 1, 'disk': 1,
                                          'extra_specs': {}})
    values.update(kwargs)
    return scheduler.RequestSpec(**values)


POOLS = scheduler.Pools()
FREE = {'name': 'freepool', 'availability_zone': None, 'metadata': {}}
RES = {'name': 'r', 'availability_zone': 'blazar_r',
       'metadata': {'blazar:owner': 'p'}}
LEGACY = {'name': 'r', 'availability_zone': 'blazar:r',
          'metadata': {'blazar:owner': 'p'}}


@pytest.mark.parametrize('aggregates, spec, passes', [
    ([RES], _spec(hints={'reservation': 'r'}), True),
    ([RES], _spec(hints={'reservation': ['x', 'r']}), True),
    ([LEGACY], _spec(hints={'reservation': 'r'}), True),
    ([RES], _spec(hints={'reservation': 'r'}, project_id='q'), False),
    ([FREE], _spec(hints={'reservation': 'r'}), False),
    ([], _spec(), True),
    ([FREE], _spec(), False),
    ([RES], _spec(), False),
    ([FREE], _spec(flavor={'extra_specs': {'blazar:preemptible': 'True'}}),
     True),
    ([FREE, RES],
     _spec(flavor={'extra_specs': {'blazar:preemptible': 'true'}}), False),
    ([], _spec(flavor={'extra_specs': {'blazar:preemptible': 'true'}}),
     False),
    ([FREE], _spec(flavor={'extra_specs': {
        'aggregate_instance_extra_specs:reservation': 'x'}}), True),
])
def test_blazar_filter_rules(aggregates, spec, passes):
    assert scheduler.blazar_filter(_host(aggregates), spec, POOLS) is passes


def test_preemptibles_can_be_disallowed():
    pools = scheduler.Pools(allow_preemptibles=False)
    spec = _spec(flavor={'extra_specs': {'blazar:preemptible': 'true'}})
    assert not scheduler.blazar_filter(_host([FREE]), spec, pools)
    assert scheduler.blazar_filter(_host([]), spec, pools)


def test_extra_specs_filter_checks_unscoped_keys_only_too():
    host = _host([{'name': 'a', 'availability_zone': None,
                   'metadata': {'reservation': 'x', 'affinity_id': 'g'}}])
    ok = _spec(flavor={'extra_specs': {
        'aggregate_instance_extra_specs:reservation': 'x',
        'affinity_id': 'g', 'hw:cpu_policy': 'shared',
        'resources:CUSTOM_X': '1'}})
    assert scheduler.aggregate_extra_specs_filter(host, ok, POOLS)
    wrong = _spec(flavor={'extra_specs': {'affinity_id': 'other'}})
    assert not scheduler.aggregate_extra_specs_filter(host, wrong, POOLS)


def test_candidates_hook_narrows_hosts():
    seen = []

    def candidates(spec, hosts):
        seen.append(len(hosts))
        return [h for h in hosts if h.host == 'b']
    sched = scheduler.Scheduler(candidates=candidates)
    hosts = [_host([], host='a', node='a', free_ram_mb=9999),
             _host([], host='b', node='b')]
    assert sched.select(_spec(), hosts, POOLS).host == 'b'
    assert seen == [2]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3000),
                          st.integers(0, 40)), max_size=25))
def test_never_overcommits(boots):
    cloud = state.Cloud(hosts=2, vcpus=6, memory_mb=4096, local_gb=60,
                        pools=scheduler.Pools())
    admin = state.ADMIN
    for index, (vcpus, ram, disk) in enumerate(boots):
        cloud.create_flavor('f%d' % index, ram, vcpus, disk,
                            flavor_id=str(index))
        cloud.create_servers(admin, 'vm', str(index))
    for hyp in cloud.list_hypervisors():
        assert hyp['vcpus_used'] <= hyp['vcpus']
        assert hyp['memory_mb_used'] <= hyp['memory_mb']
        assert hyp['local_gb_used'] <= hyp['local_gb']
    placed = [s for s in cloud.list_servers(admin) if s['status'] == 'ACTIVE']
    assert len(placed) == sum(h['running_vms']
                              for h in cloud.list_hypervisors())


def test_concurrent_boots_never_overcommit(sim, nova):
    """Parallel HTTP boots are serialised by the cloud's lock."""
    big = nova.flavors.create('big', 8192, 8, 100)     # a whole host

    def boot(index):
        client = novaclient_for(sim, 'u%d:projA' % index)
        return client.servers.create('vm', 'img', big, nics='none').id
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(boot, range(12)))
    statuses = [nova.servers.get(i).status for i in ids]
    assert statuses.count('ACTIVE') == 3
    assert statuses.count('ERROR') == 9
