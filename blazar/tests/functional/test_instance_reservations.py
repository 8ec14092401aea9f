"""Instance reservations end to end: slots, Nova/Placement objects, lifecycle."""
import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.simulator import errors as sim_errors
from blazar.simulator import state as sim_state
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_leases import wait_for_status

OWNER = 'alice:proj1'


def instance_reservation(amount=3, vcpus=2, memory_mb=4096, disk_gb=20, affinity=None,
                         resource_properties='', **extra):
    return dict({'resource_type': 'virtual:instance', 'vcpus': vcpus,
                 'memory_mb': memory_mb, 'disk_gb': disk_gb, 'amount': amount,
                 'affinity': affinity, 'resource_properties': resource_properties},
                **extra)


def rc_name(reservation_id):
    return 'CUSTOM_RESERVATION_' + reservation_id.upper().replace('-', '_')


def slots(reservation_id):
    return db_api.reservation_slots(blazar_context.get_admin_context(), reservation_id)


def boot(cloud, reservation, count=1, project='proj1', name='vm'):
    caller = sim_state.Caller('alice', project)
    hints = {}
    if reservation.get('server_group_id'):
        hints['group'] = reservation['server_group_id']
    return [cloud.create_servers(caller, '%s%d' % (name, i), reservation['flavor_id'],
                                 scheduler_hints=hints)[0] for i in range(count)]


def reserved_inventory(cloud, reservation_id):
    """{hostname: total} of the reservation's class on blazar_<host> providers."""
    out = {}
    rc = rc_name(reservation_id)
    for provider in cloud.placement.list_providers():
        if provider['name'].startswith('blazar_'):
            inv = cloud.placement.get_inventories(provider['uuid'])[1]
            if rc in inv:
                out[provider['name'][len('blazar_'):]] = inv[rc]['total']
    return out


def start_now(api, amount=3, affinity=False, **extra):
    resp = api.as_user(OWNER).post('/v1/leases', lease_with(
        [instance_reservation(amount, affinity=affinity, **extra)], start='now', end=60))
    assert resp.status_code == 201, resp.text
    lease = wait_for_status(api, resp.json()['lease']['id'], 'ACTIVE')
    return lease, lease['reservations'][0]


def test_create_makes_the_flavor_group_aggregate_and_class(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    resp = api.as_user(OWNER).post('/v1/leases', lease_with(
        [instance_reservation(3, affinity=False)]))
    assert resp.status_code == 201, resp.text
    reservation = resp.json()['lease']['reservations'][0]
    res_id = reservation['id']
    assert reservation['resource_type'] == 'virtual:instance'
    assert (reservation['vcpus'], reservation['memory_mb'], reservation['disk_gb'],
            reservation['amount'], reservation['affinity']) == (2, 4096, 20, 3, False)
    assert reservation['flavor_id'] == res_id
    # The cloud objects come right after the 201, made by the converger.
    settled()
    reservation = api.get('/v1/leases/%s' % reservation['lease_id']).json()[
        'lease']['reservations'][0]
    assert reservation['server_group_id']
    admin = sim_state.ADMIN
    flavor = cloud.get_flavor(admin, res_id)
    assert (flavor['vcpus'], flavor['ram'], flavor['disk']) == (2, 4096, 20)
    assert flavor['is_public'] is False
    specs = cloud.get_extra_specs(admin, res_id)
    assert specs['aggregate_instance_extra_specs:reservation'] == res_id
    assert specs['resources:' + rc_name(res_id)] == '1'
    assert specs['affinity_id'] == reservation['server_group_id']
    group = cloud.get_server_group(admin, reservation['server_group_id'])
    assert group['policy'] == 'anti-affinity'
    aggregate = aggregates(cloud)[res_id]
    assert aggregate['metadata']['reservation'] == res_id
    assert aggregate['metadata']['blazar:owner'] == 'proj1'
    assert aggregate['hosts'] == []
    assert cloud.placement.resource_class_exists(rc_name(res_id))
    # Three slots on three distinct hosts; no inventory before the start.
    assert sorted(slots(res_id).values()) == [1, 1, 1]
    assert reserved_inventory(cloud, res_id) == {}


def test_start_confines_the_flavor_to_the_reserved_slots_and_end_cleans_up(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease, reservation = start_now(api, 3, affinity=False)
    res_id = reservation['id']
    held = slots(res_id)
    aggregate = aggregates(cloud)[res_id]
    assert len(aggregate['hosts']) == 3
    # The hosts stay in the freepool.
    assert set(aggregate['hosts']) <= set(aggregates(cloud)['freepool']['hosts'])
    assert sum(reserved_inventory(cloud, res_id).values()) == 3
    servers = boot(cloud, reservation, 3)
    assert [s['status'] for s in servers] == ['ACTIVE'] * 3
    assert len({s['host'] for s in servers}) == 3
    assert {s['host'] for s in servers} == set(aggregate['hosts'])
    fourth = boot(cloud, reservation, 1, name='extra')[0]
    assert fourth['status'] == 'ERROR'
    # Another project cannot use the flavor.
    other = sim_state.Caller('bob', 'proj2')
    with pytest.raises(sim_errors.BadRequest, match='could not be found'):
        cloud.create_servers(other, 'x', res_id)
    assert held

    api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    wait_for_status(api, lease['id'], 'TERMINATED')
    admin = sim_state.ADMIN
    assert cloud.list_servers(admin, {'all_tenants': '1', 'flavor': res_id}) == []
    assert res_id not in [f['id'] for f in cloud.list_flavors(admin, is_public=None)]
    assert res_id not in aggregates(cloud)
    assert cloud.list_server_groups(admin, all_projects=True) == []
    assert reserved_inventory(cloud, res_id) == {}
    assert not cloud.placement.resource_class_exists(rc_name(res_id))


def test_affinity_true_puts_every_slot_on_one_host(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease, reservation = start_now(api, 2, affinity=True, vcpus=1, memory_mb=512,
                                   disk_gb=1)
    assert list(slots(reservation['id']).values()) == [2]
    servers = boot(cloud, reservation, 2)
    assert len({s['host'] for s in servers}) == 1
    admin = sim_state.ADMIN
    assert cloud.get_server_group(admin, reservation['server_group_id'])['policy'] \
        == 'affinity'


def test_no_affinity_packs_slots_and_makes_no_group(api, stack):
    enrol(api)
    resp = api.post('/v1/leases', lease_with([instance_reservation(
        4, vcpus=2, memory_mb=1024, disk_gb=1, affinity=None)]))
    assert resp.status_code == 201, resp.text
    reservation = resp.json()['lease']['reservations'][0]
    assert reservation['server_group_id'] is None
    assert reservation['affinity'] is None
    # 8-vCPU hosts: four 2-vCPU instances fit on one host.
    assert list(slots(reservation['id']).values()) == [4]


def test_slots_share_hosts_without_over_committing_them(api, stack):
    enrol(api, 1)   # one host: 8 vCPUs
    first = api.post('/v1/leases', lease_with([instance_reservation(
        3, vcpus=2, memory_mb=512, disk_gb=1)], 'a', 60, 180))
    assert first.status_code == 201, first.text
    too_many = api.post('/v1/leases', lease_with([instance_reservation(
        2, vcpus=2, memory_mb=512, disk_gb=1)], 'b', 120, 240))
    assert too_many.status_code == 409, too_many.text
    assert 'instance' in too_many.json()['error_message']
    one_more = api.post('/v1/leases', lease_with([instance_reservation(
        1, vcpus=2, memory_mb=512, disk_gb=1)], 'c', 120, 240))
    assert one_more.status_code == 201, one_more.text
    # A whole-host reservation cannot take a host holding slots, and slots
    # cannot be had on a host held whole.
    host = api.post('/v1/leases', lease_with([host_reservation()], 'd', 100, 200))
    assert host.status_code == 409, host.text
    after = api.post('/v1/leases', lease_with([host_reservation()], 'e', 300, 400))
    assert after.status_code == 201, after.text
    during = api.post('/v1/leases', lease_with([instance_reservation(
        1, vcpus=1, memory_mb=1, disk_gb=0)], 'f', 350, 360))
    assert during.status_code == 409, during.text


def test_capacity_follows_placement_allocation_ratios(api, stack):
    cloud = stack.simulator.cloud
    cloud.add_hypervisor('big-1', vcpus=4, memory_mb=8192, local_gb=100,
                         cpu_allocation_ratio=4.0)
    assert api.post('/v1/os-hosts', {'name': 'big-1'}).status_code == 201
    # 4 vCPUs x 4.0 = 16 usable vCPUs: eight 2-vCPU instances, not two.
    ok = api.post('/v1/leases', lease_with([instance_reservation(
        8, vcpus=2, memory_mb=512, disk_gb=1, affinity=True)], 'a'))
    assert ok.status_code == 201, ok.text
    full = api.post('/v1/leases', lease_with([instance_reservation(
        1, vcpus=2, memory_mb=512, disk_gb=1)], 'b'))
    assert full.status_code == 409, full.text


@pytest.mark.parametrize('change, message', [
    ({'vcpus': 0}, 'vcpus'),
    ({'amount': 'many'}, 'amount'),
    ({'affinity': 'maybe'}, 'affinity'),
    ({'colour': 'red'}, 'colour'),
    ({'resource_properties': '["=", "$x"'}, 'resource_properties'),
])
def test_bad_parameters_are_400s_naming_the_field(api, stack, change, message):
    enrol(api, 1)
    body = instance_reservation(1)
    body.update(change)
    resp = api.post('/v1/leases', lease_with([body]))
    assert resp.status_code == 400, resp.text
    assert message in resp.json()['error_message']
    assert api.get('/v1/leases').json()['leases'] == []
    assert set(aggregates(stack.simulator.cloud)) == {'freepool'}


def test_cli_strings_are_accepted(api, stack):
    enrol(api, 3)
    body = {'resource_type': 'virtual:instance', 'vcpus': '2', 'memory_mb': '4096',
            'disk_gb': '20', 'amount': '3', 'affinity': 'False',
            'resource_properties': ''}
    resp = api.post('/v1/leases', lease_with([body]))
    assert resp.status_code == 201, resp.text
    assert resp.json()['lease']['reservations'][0]['affinity'] is False


def test_pending_update_changes_shape_and_amount(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease = api.post('/v1/leases', lease_with([instance_reservation(2, affinity=False)])
                     ).json()['lease']
    res_id = lease['reservations'][0]['id']
    resp = api.put('/v1/leases/%s' % lease['id'], {'reservations': [
        {'id': res_id, 'vcpus': 4, 'amount': 4, 'affinity': None}]})
    assert resp.status_code == 200, resp.text
    settled()
    reservation = api.get('/v1/leases/%s' % lease['id']).json()['lease']['reservations'][0]
    assert (reservation['vcpus'], reservation['amount'], reservation['affinity']) == (
        4, 4, None)
    assert reservation['server_group_id'] is None
    admin = sim_state.ADMIN
    assert cloud.get_flavor(admin, res_id)['vcpus'] == 4
    assert 'affinity_id' not in cloud.get_extra_specs(admin, res_id)
    assert sum(slots(res_id).values()) == 4
    assert cloud.list_server_groups(admin, all_projects=True) == []


def test_active_update_grows_amount_at_once_and_refuses_the_rest(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease, reservation = start_now(api, 2, affinity=False)
    res_id = reservation['id']
    resp = api.put('/v1/leases/%s' % lease['id'], {'reservations': [
        {'id': res_id, 'amount': 3}]})
    assert resp.status_code == 200, resp.text
    settled()
    assert sum(reserved_inventory(cloud, res_id).values()) == 3
    assert len(aggregates(cloud)[res_id]['hosts']) == 3
    servers = boot(cloud, resp.json()['lease']['reservations'][0], 3)
    assert [s['status'] for s in servers] == ['ACTIVE'] * 3
    for change in ({'amount': 2}, {'vcpus': 1}):
        resp = api.put('/v1/leases/%s' % lease['id'], {'reservations': [
            dict(change, id=res_id)]})
        assert resp.status_code == 409, resp.text
        assert api.get('/v1/leases/%s' % lease['id']).json()['lease']['status'] == 'ACTIVE'
    assert sum(slots(res_id).values()) == 3


def test_delete_of_a_pending_lease_removes_every_object(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease = api.post('/v1/leases', lease_with([instance_reservation(2, affinity=True,
                                                                    vcpus=1)])
                     ).json()['lease']
    res_id = lease['reservations'][0]['id']
    settled()
    assert api.delete('/v1/leases/%s' % lease['id']).status_code == 204
    settled()
    admin = sim_state.ADMIN
    assert res_id not in aggregates(cloud)
    assert res_id not in [f['id'] for f in cloud.list_flavors(admin, is_public=None)]
    assert cloud.list_server_groups(admin, all_projects=True) == []
    assert not cloud.placement.resource_class_exists(rc_name(res_id))
    assert slots(res_id) == {}


def test_flavor_instance_reserves_an_existing_flavor(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    flavor = cloud.create_flavor('m1.medium', ram=2048, vcpus=2, disk=10, ephemeral=5)
    resp = api.as_user(OWNER).post('/v1/leases', lease_with([{
        'resource_type': 'flavor:instance', 'flavor_id': flavor['id'], 'amount': 2}],
        start='now', end=60))
    assert resp.status_code == 201, resp.text
    lease = wait_for_status(api, resp.json()['lease']['id'], 'ACTIVE')
    reservation = lease['reservations'][0]
    assert (reservation['vcpus'], reservation['memory_mb'], reservation['disk_gb']) == (
        2, 2048, 15)
    import json
    assert json.loads(reservation['resource_properties'])['id'] == flavor['id']
    servers = boot(cloud, reservation, 2)
    assert [s['status'] for s in servers] == ['ACTIVE'] * 2
    assert boot(cloud, reservation, 1, name='x')[0]['status'] == 'ERROR'
    api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    wait_for_status(api, lease['id'], 'TERMINATED')
    assert reservation['id'] not in aggregates(cloud)


def test_flavor_instance_refuses_an_unknown_or_private_flavor(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    resp = api.post('/v1/leases', lease_with([{
        'resource_type': 'flavor:instance', 'flavor_id': 'nope', 'amount': 1}]))
    assert resp.status_code == 400, resp.text
    assert 'nope' in resp.json()['error_message']
    private = cloud.create_flavor('secret', ram=512, vcpus=1, disk=1, is_public=False)
    resp = api.as_user(OWNER).post('/v1/leases', lease_with([{
        'resource_type': 'flavor:instance', 'flavor_id': private['id'], 'amount': 1}]))
    assert resp.status_code == 400, resp.text
    assert set(aggregates(cloud)) == {'freepool'}


def test_flavor_traits_limit_the_hosts(api, stack):
    cloud = stack.simulator.cloud
    cloud.add_hypervisor('gpu-1', vcpus=8, traits=['CUSTOM_GPU'])
    enrol(api, 2)
    assert api.post('/v1/os-hosts', {'name': 'gpu-1'}).status_code == 201
    flavor = cloud.create_flavor('g1', ram=512, vcpus=1, disk=1)
    cloud.set_extra_specs(flavor['id'], {'trait:CUSTOM_GPU': 'required'})
    resp = api.post('/v1/leases', lease_with([{
        'resource_type': 'flavor:instance', 'flavor_id': flavor['id'], 'amount': 2,
        'affinity': False}]))
    assert resp.status_code == 409, resp.text   # one host has the trait
    resp = api.post('/v1/leases', lease_with([{
        'resource_type': 'flavor:instance', 'flavor_id': flavor['id'], 'amount': 2}]))
    assert resp.status_code == 201, resp.text
    gpu = api.get('/v1/os-hosts/gpu-1').json()['host']['id']
    assert list(slots(resp.json()['lease']['reservations'][0]['id'])) == [int(gpu)]


def test_a_maintenance_to_come_leaves_no_room_after_its_start(api, stack):
    enrol(api, 1)
    from blazar.tests.functional.test_leases import in_minutes
    resp = api.put('/v1/os-hosts/compute-1/maintenance',
                   {'start_date': in_minutes(100), 'reason': 'disk swap'})
    assert resp.status_code == 200, resp.text
    body = instance_reservation(1, vcpus=1, memory_mb=512, disk_gb=1)
    assert api.post('/v1/leases', lease_with([body], 'before', 10, 60)
                    ).status_code == 201
    late = api.post('/v1/leases', lease_with([body], 'into', 90, 120))
    assert late.status_code == 409, late.text
