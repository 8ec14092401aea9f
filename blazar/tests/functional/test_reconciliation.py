"""Nova put back in line with the store: settled intents checked again
(blazar/manager/converger.py), the freepool and orphans swept
(blazar/manager/sweeper.py)."""
import uuid

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.simulator import state as sim_state
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_atomicity import assert_no_host_lost
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_instance_reservations import reserved_inventory
from blazar.tests.functional.test_leases import wait_for_status


def resync(stack):
    """Every settled intent is looked at again, as the periodic check does."""
    ctx = blazar_context.get_admin_context()
    db_api.intents_resync(ctx, db_api.utcnow() + __import__('datetime').timedelta(
        seconds=1), limit=1000)
    stack.manager.converger_worker.wake()
    settled()


def sweep_freepool(stack):
    return stack.manager.sweeper.freepool(blazar_context.get_admin_context())


def test_nothing_to_fix_fixes_nothing(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    before = aggregates(cloud)
    cloud.clear_requests()
    resync(stack)
    assert sweep_freepool(stack) == []
    assert aggregates(cloud) == before
    # Looking changes nothing: only reads were made.
    assert {method for method, _path, _action in cloud.requests} == {'GET'}, [
        r for r in cloud.requests if r[0] != 'GET']


def test_hosts_astray_are_put_back(api, stack, notifications):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    (held,) = aggregates(cloud)[res_id]['hosts']
    pools = aggregates(cloud)
    # Hand edits (or a crash of another tool): the held host back in the
    # freepool too, an idle host in no pool at all, another idle one in the
    # reservation's aggregate.
    idle = sorted(set(pools['freepool']['hosts']))
    cloud.aggregate_add_host(pools['freepool']['id'], held)
    cloud.aggregate_remove_host(pools['freepool']['id'], idle[0])
    cloud.aggregate_add_host(pools[res_id]['id'], idle[1])
    resync(stack)
    assert sweep_freepool(stack) == [idle[0]]
    assert aggregates(cloud)[res_id]['hosts'] == [held]
    assert sorted(aggregates(cloud)['freepool']['hosts']) == idle
    assert_no_host_lost(api, cloud)
    assert [p for t, p in notifications() if t == 'reconciler.fixed'][0]['fixes'] == [
        'host %s put back into aggregate freepool' % idle[0]]
    assert sweep_freepool(stack) == []


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
    resync(stack)
    assert reserved_inventory(cloud, res_id) == expected
    flavor = cloud.get_flavor(sim_state.ADMIN, res_id)
    assert flavor['projects'] == ['admin']      # the owner's access too


def _orphans(cloud):
    """Objects carrying our marks for a reservation that does not exist."""
    rid = str(uuid.uuid4())
    host_agg = cloud.create_aggregate(rid, availability_zone='blazar_' + rid)
    cloud.aggregate_set_metadata(host_agg['id'], {'blazar:owner': 'p1'})
    cloud.aggregate_add_host(host_agg['id'], 'compute-1')
    flavor = cloud.create_flavor('reservation:' + rid, ram=512, vcpus=1, disk=1,
                                 flavor_id=rid, is_public=False)
    group = cloud.create_server_group(sim_state.ADMIN, 'reservation:' + rid, 'affinity')
    rc = 'CUSTOM_RESERVATION_' + rid.upper().replace('-', '_')
    cloud.placement.create_resource_class(rc)
    return rid, host_agg, flavor, group, rc


def test_orphans_are_removed_after_the_grace_period(api, stack, config, notifications):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    live = api.post('/v1/leases', lease_with([instance_reservation(1)])).json()['lease']
    settled()
    live_id = live['reservations'][0]['id']
    rid, host_agg, flavor, group, rc = _orphans(cloud)
    ctx = blazar_context.get_admin_context()
    sweeper = stack.manager.sweeper
    config.set_override('orphan_grace_period', 3600, group='manager')
    assert sweeper.orphans(ctx) == []           # seen, not yet removed
    config.set_override('orphan_grace_period', 0, group='manager')
    removed = sweeper.orphans(ctx)
    assert sorted((o.kind, o.reservation_id) for o in removed) == sorted([
        ('aggregate', rid), ('flavor', rid), ('server_group', rid),
        ('resource_class', rid)])
    pools = aggregates(cloud)
    assert rid not in pools
    assert 'compute-1' in pools['freepool']['hosts']   # back in the freepool first
    assert rid not in cloud.flavors
    assert rc not in cloud.placement.list_resource_classes()
    # The live reservation's objects stay.
    assert live_id in pools
    assert live_id in cloud.flavors
    told = [p for t, p in notifications() if t == 'orphan.removed']
    assert sorted(p['kind'] for p in told) == ['aggregate', 'flavor', 'resource_class',
                                               'server_group']
    assert sweeper.orphans(ctx) == []
