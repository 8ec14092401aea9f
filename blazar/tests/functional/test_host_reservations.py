"""Host reservations end to end: allocation, Nova hand-over, lifecycle."""
import time

import pytest

from blazar.simulator import state as sim_state
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_leases import at_minutes
from blazar.tests.functional.test_leases import in_minutes
from blazar.tests.functional.test_leases import wait_for_status


def host_reservation(min_hosts=1, max_hosts=1, hyp='', res='', **extra):
    return dict({'resource_type': 'physical:host', 'min': min_hosts, 'max': max_hosts,
                 'hypervisor_properties': hyp, 'resource_properties': res}, **extra)


def lease_with(reservations, name='l1', start=60, end=120, **extra):
    body = {'name': name, 'start_date': in_minutes(start) if start != 'now' else 'now',
            'end_date': in_minutes(end), 'reservations': reservations, 'events': []}
    body.update(extra)
    return body


def aggregates(cloud):
    return {a['name']: a for a in cloud.list_aggregates()}


def enrol(api, count=4, **caps):
    ids = []
    for index in range(1, count + 1):
        resp = api.post('/v1/os-hosts', dict({'name': 'compute-%d' % index}, **caps))
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()['host']['id'])
    return ids


def allocated_hosts(api, reservation_id):
    return sorted(a['resource_id'] for a in api.get('/v1/os-hosts/allocations').json()[
        'allocations'] if any(r['id'] == reservation_id for r in a['reservations']))


def test_create_allocates_hosts_and_prepares_the_aggregate(api, stack):
    enrol(api)
    tenant = api.as_user('alice:proj1')
    resp = tenant.post('/v1/leases', lease_with([host_reservation(2, 3)]))
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    reservation = lease['reservations'][0]
    assert (reservation['min'], reservation['max']) == (2, 3)
    assert reservation['resource_type'] == 'physical:host'
    assert reservation['status'] == 'pending'
    assert reservation['hypervisor_properties'] == ''
    assert reservation['before_end'] == 'default'
    assert len(allocated_hosts(api, reservation['id'])) == 3
    settled()   # the converger makes the aggregate, after the 201
    aggregate = aggregates(stack.simulator.cloud)[reservation['id']]
    assert aggregate['availability_zone'] == 'blazar_' + reservation['id']
    assert aggregate['metadata']['blazar:owner'] == 'proj1'
    assert aggregate['hosts'] == []


def test_not_enough_hosts_is_a_409_that_explains_and_stores_nothing(api, stack):
    enrol(api, 2)
    resp = api.post('/v1/leases', lease_with([host_reservation(3, 3)]))
    assert resp.status_code == 409, resp.text
    message = resp.json()['error_message']
    assert message.startswith('Not enough hosts available')
    assert '2 reservable' in message
    assert api.get('/v1/leases').json()['leases'] == []
    assert set(aggregates(stack.simulator.cloud)) == {'freepool'}


def test_overlapping_leases_never_share_a_host(api, stack):
    enrol(api, 2)
    first = api.post('/v1/leases', lease_with([host_reservation(2, 2)], 'a', 60, 180))
    assert first.status_code == 201
    clash = api.post('/v1/leases', lease_with([host_reservation(1, 1)], 'b', 120, 240))
    assert clash.status_code == 409
    after = api.post('/v1/leases', lease_with([host_reservation(2, 2)], 'c', 180, 240))
    assert after.status_code == 201, 'back-to-back leases share hosts'


@pytest.mark.parametrize('hyp, res, expected', [
    ('[">=", "$vcpus", "16"]', '', ['compute-3', 'compute-4']),
    ('[">", "$memory_mb", 9000]', '', ['compute-3', 'compute-4']),
    ('', '["==", "$gpu", "a100"]', ['compute-2', 'compute-4']),
    ('[">=", "$vcpus", "16"]', '["==", "$gpu", "a100"]', ['compute-4']),
    ('', '["or", ["==", "$gpu", "h100"], ["<", "$rack", 2]]', ['compute-1']),
    ('', '["not", ["==", "$gpu", "a100"]]', ['compute-1', 'compute-3']),
    (["<=", "$vcpus", 8], '', ['compute-1', 'compute-2']),
])
def test_property_queries(api, stack, hyp, res, expected):
    cloud = sim_state.Cloud(hosts=[
        {'hypervisor_hostname': 'compute-1', 'vcpus': 8, 'memory_mb': 8192},
        {'hypervisor_hostname': 'compute-2', 'vcpus': 8, 'memory_mb': 8192},
        {'hypervisor_hostname': 'compute-3', 'vcpus': 16, 'memory_mb': 16384},
        {'hypervisor_hostname': 'compute-4', 'vcpus': 16, 'memory_mb': 16384}])
    stack.simulator.app.cloud = stack.simulator.cloud = cloud
    hosts = {}
    for name, caps in (('compute-1', {'rack': '1'}), ('compute-2', {'gpu': 'a100'}),
                       ('compute-3', {'rack': '10'}), ('compute-4', {'gpu': 'a100'})):
        hosts[api.post('/v1/os-hosts', dict(name=name, **caps)).json()['host']['id']] = name
    resp = api.post('/v1/leases', lease_with([host_reservation(1, 4, hyp, res)]))
    assert resp.status_code == 201, resp.text
    reservation = resp.json()['lease']['reservations'][0]
    assert sorted(hosts[h] for h in allocated_hosts(api, reservation['id'])) == expected


@pytest.mark.parametrize('changes, words', [
    ({'min': 0}, 'reservations.0.min: 0 is not a whole number from 1'),
    ({'min': 3, 'max': 2}, 'Invalid values for min/max of hosts. Max must be equal to or '
     'larger than min. Got min 3 and max 2.'),
    ({'max': 'two'}, 'max'),
    ({'min': None}, 'Missing parameter reservations.0.min'),
    ({'hypervisor_properties': '[">=", "$vcpus"'}, 'hypervisor_properties'),
    ({'resource_properties': '["=>", "$gpu", "a"]'}, '=>'),
    ({'before_end': 'explode'}, 'before_end'),
    ({'colour': 'blue'}, 'colour'),
])
def test_bad_host_reservations_are_400s(api, stack, changes, words):
    enrol(api, 2)
    reservation = {k: v for k, v in dict(host_reservation(), **changes).items()
                   if v is not None}
    resp = api.post('/v1/leases', lease_with([reservation]))
    assert resp.status_code == 400, resp.text
    assert words in resp.json()['error_message']
    assert api.get('/v1/leases').json()['leases'] == []


def test_unknown_property_matches_nothing(api, stack):
    enrol(api, 2)
    resp = api.post('/v1/leases', lease_with([host_reservation(
        res='["==", "$nobody_has_this", "x"]')]))
    assert resp.status_code == 409
    assert '0 match the properties' in resp.json()['error_message']


def in_pool(cloud, name):
    return sorted(aggregates(cloud).get(name, {}).get('hosts', []))


def test_whole_life_through_nova(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    tenant = api.as_user('alice:proj1')
    lease = tenant.post('/v1/leases', lease_with([host_reservation(1, 2)],
                                                 start='now', end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    started = time.time()
    active = wait_for_status(tenant, lease['id'], 'ACTIVE')
    assert time.time() - started < 5
    assert active['reservations'][0]['status'] == 'active'
    reserved = in_pool(cloud, res_id)
    assert len(reserved) == 2
    assert not set(reserved) & set(in_pool(cloud, 'freepool'))
    assert len(in_pool(cloud, 'freepool')) == 1

    flavor = cloud.create_flavor('m1', ram=1024, vcpus=1, disk=1)
    alice = sim_state.Caller('alice', 'proj1')
    server = cloud.create_servers(alice, 'vm', flavor['id'],
                                  scheduler_hints={'reservation': res_id})[0]
    assert server['status'] == 'ACTIVE' and server['host'] in reserved
    stranger = cloud.create_servers(sim_state.Caller('bob', 'proj2'), 'vm', flavor['id'],
                                    scheduler_hints={'reservation': res_id})[0]
    assert stranger['status'] == 'ERROR'

    assert tenant.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'}).status_code == 200
    ended = wait_for_status(tenant, lease['id'], 'TERMINATED')
    assert ended['reservations'][0]['status'] == 'deleted'
    assert res_id not in aggregates(cloud)
    assert len(in_pool(cloud, 'freepool')) == 3
    assert server['id'] not in cloud.servers


def test_delete_pending_lease_removes_its_aggregate(api, stack):
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([host_reservation()])).json()['lease']
    res_id = lease['reservations'][0]['id']
    settled()
    assert res_id in aggregates(stack.simulator.cloud)
    assert api.delete('/v1/leases/%s' % lease['id']).status_code == 204
    # A lease that never started goes at once; its aggregate follows.
    assert api.get('/v1/leases/%s' % lease['id']).status_code == 404
    settled()
    assert res_id not in aggregates(stack.simulator.cloud)
    assert all(a['reservations'] == [] for a in
               api.get('/v1/os-hosts/allocations').json()['allocations'])


def test_delete_active_lease_gives_hosts_back(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([host_reservation(2, 2)], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    assert in_pool(cloud, 'freepool') == []
    assert api.delete('/v1/leases/%s' % lease['id']).status_code == 204
    settled()
    assert api.get('/v1/leases/%s' % lease['id']).status_code == 404
    assert in_pool(cloud, 'freepool') == ['compute-1', 'compute-2']
    assert lease['reservations'][0]['id'] not in aggregates(cloud)


def test_update_pending_moves_and_resizes(api, stack):
    enrol(api, 4)
    lease = api.post('/v1/leases', lease_with([host_reservation(1, 1)])).json()['lease']
    res_id = lease['reservations'][0]['id']
    new_start, new_end = at_minutes(90, 300)
    resp = api.put('/v1/leases/%s' % lease['id'], {
        'start_date': new_start, 'end_date': new_end,
        'reservations': [{'id': res_id, 'min': 3, 'max': 3}]})
    assert resp.status_code == 200, resp.text
    updated = resp.json()['lease']['reservations'][0]
    assert (updated['min'], updated['max']) == (3, 3)
    assert len(allocated_hosts(api, res_id)) == 3
    allocation = [r for a in api.get('/v1/os-hosts/allocations').json()['allocations']
                  for r in a['reservations']][0]
    assert allocation['start_date'][:16] == new_start.replace(' ', 'T')
    assert allocation['end_date'][:16] == new_end.replace(' ', 'T')


def test_rejected_update_changes_nothing(api, stack):
    enrol(api, 2)
    other = api.post('/v1/leases', lease_with([host_reservation(1, 1)], 'other', 200, 300))
    assert other.status_code == 201
    lease = api.post('/v1/leases', lease_with([host_reservation(1, 1)])).json()['lease']
    res_id = lease['reservations'][0]['id']
    before = allocated_hosts(api, res_id)
    resp = api.put('/v1/leases/%s' % lease['id'], {
        'end_date': in_minutes(400), 'reservations': [{'id': res_id, 'min': 2, 'max': 2}]})
    assert resp.status_code == 409, resp.text
    assert api.get('/v1/leases/%s' % lease['id']).json()['lease'] == lease
    assert allocated_hosts(api, res_id) == before


def test_extend_an_active_lease_and_add_hosts(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([host_reservation(1, 1)], start='now',
                                              end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    first = in_pool(cloud, res_id)
    resp = api.put('/v1/leases/%s' % lease['id'], {
        'end_date': in_minutes(120), 'reservations': [{'id': res_id, 'min': 2, 'max': 2}]})
    assert resp.status_code == 200, resp.text
    settled()
    assert api.get('/v1/leases/%s' % lease['id']).json()['lease']['status'] == 'ACTIVE'
    now_held = in_pool(cloud, res_id)
    assert set(first) < set(now_held) and len(now_held) == 2
    assert not set(now_held) & set(in_pool(cloud, 'freepool'))
    resp = api.put('/v1/leases/%s' % lease['id'], {
        'reservations': [{'id': res_id, 'min': 1, 'max': 1}]})
    assert resp.status_code == 409
    assert 'cannot lose hosts' in resp.json()['error_message']
    assert in_pool(cloud, res_id) == now_held


def test_host_in_use_cannot_be_deleted_or_have_queried_capability_changed(api, stack):
    ids = enrol(api, 1, gpu='a100')
    lease = api.post('/v1/leases', lease_with([host_reservation(
        res='["==", "$gpu", "a100"]')])).json()['lease']
    assert lease['status'] == 'PENDING'
    resp = api.delete('/v1/os-hosts/%s' % ids[0])
    assert resp.status_code == 409
    assert 'reserved' in resp.json()['error_message']
    resp = api.put('/v1/os-hosts/%s' % ids[0], {'gpu': 'h100'})
    assert resp.status_code == 409
    assert 'gpu' in resp.json()['error_message']
    assert api.put('/v1/os-hosts/%s' % ids[0], {'rack': 'r9'}).status_code == 200


def test_a_capability_a_reservation_relies_on_is_kept(api, stack):
    host_id, = enrol(api, 1, gpu='a100')
    resp = api.post('/v1/leases', lease_with([host_reservation(
        1, 1, res='["==", "$gpu", "a100"]')]))
    assert resp.status_code == 201, resp.text
    for change in ({'gpu': None}, {'gpu': 'h100'}):
        resp = api.put('/v1/os-hosts/%s' % host_id, change)
        assert resp.status_code == 409, resp.text
        # Upstream's words first.
        assert resp.json()['error_message'].startswith(
            "Can't add extracapabilities gpu to Host compute-1")
    assert api.get('/v1/os-hosts/%s' % host_id).json()['host']['gpu'] == 'a100'
