"""Preemptible servers: noticed ahead of a lease's start, reclaimed at it,
just enough of them; other servers are never touched."""
import datetime
import time

from oslo_utils import timeutils
import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.simulator import state as sim_state
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_leases import wait_for_status

ADMIN = sim_state.ADMIN
SPOT = sim_state.Caller('spot', 'spotproj')


@pytest.fixture
def spot_flavor(stack):
    cloud = stack.simulator.cloud
    flavor = cloud.create_flavor('spot.small', ram=512, vcpus=2, disk=1)
    cloud.set_extra_specs(flavor['id'], {'blazar:preemptible': 'true'})
    return flavor


def boot_spot(cloud, flavor, count, name='spot'):
    servers = [cloud.create_servers(SPOT, '%s%d' % (name, i), flavor['id'])[0]
               for i in range(count)]
    assert all(s['status'] == 'ACTIVE' for s in servers), servers
    return servers


def alive(cloud):
    return {s['id']: s for s in cloud.list_servers(ADMIN, {'all_tenants': '1'})
            if s['status'] != 'DELETED'}


def preemptions(api, **params):
    resp = api.get('/v1/preemptions', params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()['preemptions']


def _make_due(lease_id, event_type):
    ctx = blazar_context.get_admin_context()
    event = [e for e in db_api.lease_get(ctx, lease_id)['events']
             if e['event_type'] == event_type][0]
    db_api.event_update(ctx, event['id'], {'time': timeutils.utcnow()})


def test_host_lease_notices_then_reclaims_the_preemptibles_on_its_hosts(
        api, stack, config, spot_flavor, notifications):
    config.set_override('grace_period', 600, group='preemptible')
    cloud = stack.simulator.cloud
    enrol(api, 2)
    spots = boot_spot(cloud, spot_flavor, 4)
    assert {s['host'] for s in spots} <= {'compute-1', 'compute-2'}
    # A plain server lands outside Blazar's hosts and is never touched.
    plain_flavor = cloud.create_flavor('plain', ram=512, vcpus=1, disk=1)
    plain = cloud.create_servers(SPOT, 'plain', plain_flavor['id'])[0]
    assert plain['host'] not in ('compute-1', 'compute-2')

    lease = api.post('/v1/leases', lease_with([host_reservation(2, 2)], start=60,
                                              end=120)).json()['lease']
    events = {e['event_type']: e for e in lease['events']}
    notice_at = datetime.datetime.strptime(events['before_start_lease']['time'],
                                           '%Y-%m-%dT%H:%M:%S.%f')
    start_at = datetime.datetime.strptime(events['start_lease']['time'],
                                          '%Y-%m-%dT%H:%M:%S.%f')
    assert start_at - notice_at == datetime.timedelta(seconds=600)

    _make_due(lease['id'], 'before_start_lease')
    stack.manager.event_loop.wake()
    deadline = timeutils.utcnow() + datetime.timedelta(seconds=15)
    while len(preemptions(api, lease_id=lease['id'])) < 4:
        assert timeutils.utcnow() < deadline, preemptions(api)
        time.sleep(0.1)
    noticed = preemptions(api, lease_id=lease['id'])
    assert {p['server_id'] for p in noticed} == {s['id'] for s in spots}
    assert {p['status'] for p in noticed} == {'noticed'}
    assert {p['project_id'] for p in noticed} == {'spotproj'}
    sent = [p for t, p in notifications() if t == 'preemption.notice']
    assert {p['server_id'] for p in sent} == {s['id'] for s in spots}
    assert len(alive(cloud)) == 5          # nothing reclaimed before the start

    _make_due(lease['id'], 'start_lease')
    stack.manager.event_loop.wake()
    active = wait_for_status(api, lease['id'], 'ACTIVE', timeout=20)
    assert set(alive(cloud)) == {plain['id']}
    reclaimed = preemptions(api, lease_id=lease['id'])
    assert {p['status'] for p in reclaimed} == {'reclaimed'}
    assert all(p['action'] == 'delete' and p['reclaimed_at'] for p in reclaimed)
    assert {p['server_id'] for t, p in notifications()
            if t == 'preemption.reclaimed'} == {s['id'] for s in spots}
    res_id = active['reservations'][0]['id']
    assert sorted(aggregates(cloud)[res_id]['hosts']) == ['compute-1', 'compute-2']


def test_an_instance_lease_reclaims_just_the_room_it_needs(api, stack, spot_flavor):
    cloud = stack.simulator.cloud
    enrol(api, 1)                               # compute-1: 8 vCPUs
    spots = boot_spot(cloud, spot_flavor, 4)    # 4 x 2 vCPUs: full
    assert {s['host'] for s in spots} == {'compute-1'}
    lease = api.post('/v1/leases', lease_with([instance_reservation(
        2, vcpus=2, memory_mb=512, disk_gb=1, affinity=None)], start='now', end=60)
    ).json()['lease']
    active = wait_for_status(api, lease['id'], 'ACTIVE', timeout=20)
    left = alive(cloud)
    assert len(left) == 2                       # two reclaimed, no more
    reclaimed = {p['server_id'] for p in preemptions(api, lease_id=lease['id'])
                 if p['status'] == 'reclaimed'}
    assert len(reclaimed) == 2 and not reclaimed & set(left)
    reservation = active['reservations'][0]
    caller = sim_state.Caller('admin', 'admin')
    booted = [cloud.create_servers(caller, 'r%d' % i, reservation['flavor_id'])[0]
              for i in range(2)]
    assert [s['status'] for s in booted] == ['ACTIVE', 'ACTIVE']


def test_the_action_can_be_shelve(api, stack, config, spot_flavor):
    config.set_override('action', 'shelve', group='preemptible')
    cloud = stack.simulator.cloud
    enrol(api, 1)
    spots = boot_spot(cloud, spot_flavor, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE', timeout=20)
    assert alive(cloud)[spots[0]['id']]['status'] == 'SHELVED_OFFLOADED'
    assert [p['action'] for p in preemptions(api)] == ['shelve']


def test_a_server_that_is_not_preemptible_is_never_touched(api, stack, notifications):
    """The reservation is healed onto another host; with none left it is
    marked as missing resources and the lease degraded."""
    cloud = stack.simulator.cloud
    enrol(api, 1)
    first = api.post('/v1/leases', lease_with([host_reservation()], 'a', 60, 120)
                     ).json()['lease']
    enrol_two = api.post('/v1/os-hosts', {'name': 'compute-2'})
    assert enrol_two.status_code == 201
    plain = cloud.create_flavor('plain', ram=512, vcpus=1, disk=1)
    squatter = cloud.create_servers(ADMIN, 'squatter', plain['id'],
                                    availability_zone='nova:compute-1')[0]
    assert squatter['host'] == 'compute-1'
    _make_due(first['id'], 'start_lease')
    stack.manager.event_loop.wake()
    active = wait_for_status(api, first['id'], 'ACTIVE', timeout=20)
    res_id = active['reservations'][0]['id']
    assert aggregates(cloud)[res_id]['hosts'] == ['compute-2']
    assert squatter['id'] in alive(cloud)
    assert not active['degraded']
    blocked = preemptions(api, lease_id=first['id'])
    assert [(p['server_id'], p['status']) for p in blocked] == [(squatter['id'], 'blocked')]
    assert 'another host' in blocked[0]['reason']

    # No host left: degraded, and still untouched.
    second = api.post('/v1/leases', lease_with([host_reservation()], 'b', 60, 120)
                      ).json()['lease']
    cloud.create_servers(ADMIN, 'squatter2', plain['id'],
                         availability_zone='nova:compute-1')
    _make_due(second['id'], 'start_lease')
    stack.manager.event_loop.wake()
    degraded = wait_for_status(api, second['id'], 'ACTIVE', timeout=20)
    assert degraded['degraded'] is True
    assert degraded['reservations'][0]['missing_resources'] is True
    assert len(alive(cloud)) == 2
    assert 'no other host' in preemptions(api, lease_id=second['id'])[0]['reason']


def test_preemptions_are_for_administrators(api, stack):
    resp = api.as_user('alice:proj1').get('/v1/preemptions')
    assert resp.status_code == 403
    resp = api.get('/v1/preemptions', params={'colour': 'red'})
    assert resp.status_code == 400 and 'colour' in resp.json()['error_message']
