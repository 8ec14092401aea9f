"""The reconciler puts Nova back in line with the store."""
from blazar import context as blazar_context
from blazar.manager import reconciler
from blazar.simulator import state as sim_state
from blazar.tests.functional.test_atomicity import assert_no_host_lost
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_instance_reservations import reserved_inventory
from blazar.tests.functional.test_leases import wait_for_status


def run(stack):
    return reconciler.Reconciler(stack.manager.plugins).run(
        blazar_context.get_admin_context())


def test_nothing_to_fix_fixes_nothing(api, stack):
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    assert run(stack) == []


def test_hosts_astray_are_put_back(api, stack, notifications):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    (held,) = aggregates(cloud)[res_id]['hosts']
    pools = aggregates(cloud)
    # A crash between two steps: the held host back in the freepool too, an
    # idle host in no pool at all, another idle one in the reservation's.
    idle = sorted(set(pools['freepool']['hosts']))
    cloud.aggregate_add_host(pools['freepool']['id'], held)
    cloud.aggregate_remove_host(pools['freepool']['id'], idle[0])
    cloud.aggregate_add_host(pools[res_id]['id'], idle[1])
    fixes = run(stack)
    assert sorted(fixes) == sorted([
        'host %s put back into aggregate freepool' % idle[0],
        'host %s taken out of aggregate freepool' % held,
        'host %s taken out of aggregate %s' % (idle[1], res_id)])
    assert aggregates(cloud)[res_id]['hosts'] == [held]
    assert sorted(aggregates(cloud)['freepool']['hosts']) == idle
    assert_no_host_lost(api, cloud)
    assert [p for t, p in notifications() if t == 'reconciler.fixed'][0]['fixes'] == fixes
    assert run(stack) == []


def test_instance_reservation_objects_are_put_back(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([instance_reservation(2, affinity=False)],
                                              start='now', end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    expected = reserved_inventory(cloud, res_id)
    cloud.delete_flavor(res_id)
    provider = cloud.placement.list_providers(name='blazar_compute-1')[0]
    cloud.placement.delete_inventory(provider['uuid'], 'CUSTOM_RESERVATION_'
                                     + res_id.upper().replace('-', '_'))
    fixes = run(stack)
    assert 'flavor %s made again' % res_id in fixes
    assert any('inventory on compute-1 set to 1' in f for f in fixes), fixes
    assert reserved_inventory(cloud, res_id) == expected
    flavor = cloud.get_flavor(sim_state.ADMIN, res_id)
    assert flavor['projects'] == ['admin']      # the owner's access too
    assert run(stack) == []
