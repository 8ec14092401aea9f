"""Lifecycle events through the real manager: back-to-back hand-over,
notifications, retries of a failed start."""
import datetime
import time

from oslo_utils import timeutils

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_leases import wait_for_status


def _make_due(lease_id, event_type, when):
    ctx = blazar_context.get_admin_context()
    event = [e for e in db_api.lease_get(ctx, lease_id)['events']
             if e['event_type'] == event_type][0]
    db_api.event_update(ctx, event['id'], {'time': when})


def test_back_to_back_leases_hand_the_host_over_in_order(api, stack):
    """The old lease's end and the new lease's start fall due together:
    the end runs first, so the host is free for the start."""
    enrol(api, 1)
    old = api.post('/v1/leases', lease_with([host_reservation()], 'old', 'now', 60))
    old = old.json()['lease']
    wait_for_status(api, old['id'], 'ACTIVE')
    new = api.post('/v1/leases', lease_with([host_reservation()], 'new', 60, 120))
    assert new.status_code == 201, new.text
    new = new.json()['lease']
    moment = timeutils.utcnow() - datetime.timedelta(seconds=1)
    _make_due(new['id'], 'start_lease', moment)
    _make_due(old['id'], 'end_lease', moment)
    stack.manager.event_loop.wake()
    wait_for_status(api, old['id'], 'TERMINATED')
    started = wait_for_status(api, new['id'], 'ACTIVE')
    assert started['status_reason'] is None
    res_id = new['reservations'][0]['id']
    assert aggregates(stack.simulator.cloud)[res_id]['hosts'] == ['compute-1']


def test_a_start_waits_for_the_end_that_gives_its_host_back(api, stack, config):
    """The old lease's end is still held by a manager that died: the new
    lease does not take the host before that end has emptied it, or the end
    would delete the new tenant's servers and put the host in the freepool.
    Once the end has run, the start runs at once, not after its retry delay."""
    config.set_override('event_retry_delay', 300, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 1)
    old = api.post('/v1/leases', lease_with([host_reservation()], 'old', 'now', 60))
    old = wait_for_status(api, old.json()['lease']['id'], 'ACTIVE')
    new = api.post('/v1/leases', lease_with([host_reservation()], 'new', 60, 120))
    new = new.json()['lease']
    moment = timeutils.utcnow() - datetime.timedelta(seconds=1)
    ctx = blazar_context.get_admin_context()
    end = [e for e in old['events'] if e['event_type'] == 'end_lease'][0]
    db_api.event_update(ctx, end['id'], {
        'time': moment, 'status': 'IN_PROGRESS', 'claimed_by': 'dead-manager',
        'claimed_until': timeutils.utcnow() + datetime.timedelta(seconds=60)})
    _make_due(new['id'], 'start_lease', moment)
    stack.manager.event_loop.wake()
    deadline = timeutils.utcnow() + datetime.timedelta(seconds=10)
    while True:
        waiting = api.get('/v1/leases/%s' % new['id']).json()['lease']
        if waiting['status_reason']:
            break
        assert timeutils.utcnow() < deadline, waiting
        time.sleep(0.1)
    assert waiting['status'] == 'PENDING'
    assert waiting['status_reason'] == (
        'waiting for the end of lease %s to give back its hosts' % old['id'])
    start = [e for e in waiting['events'] if e['event_type'] == 'start_lease'][0]
    assert (start['status'], start['attempts']) == ('UNDONE', 0)
    assert aggregates(cloud)[new['reservations'][0]['id']]['hosts'] == []
    assert aggregates(cloud)[old['reservations'][0]['id']]['hosts'] == ['compute-1']

    db_api.event_update(ctx, end['id'], {
        'claimed_until': timeutils.utcnow() - datetime.timedelta(seconds=1)})
    stack.manager.event_loop.wake()
    wait_for_status(api, old['id'], 'TERMINATED', timeout=15)
    started = wait_for_status(api, new['id'], 'ACTIVE', timeout=15)
    assert started['status_reason'] is None
    pools = aggregates(cloud)
    assert pools[new['reservations'][0]['id']]['hosts'] == ['compute-1']
    assert 'compute-1' not in pools['freepool']['hosts']


def test_notifications_for_each_change_and_event(api, stack, notifications):
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    api.put('/v1/leases/%s' % lease['id'], {'name': 'renamed'})
    api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    wait_for_status(api, lease['id'], 'TERMINATED')
    api.delete('/v1/leases/%s' % lease['id'])
    sent = notifications()
    types = [t for t, _ in sent]
    for expected in ('lease.create', 'lease.event.start_lease', 'lease.update',
                     'lease.event.end_lease', 'lease.delete'):
        assert expected in types
    assert types.index('lease.create') < types.index('lease.event.start_lease') < \
        types.index('lease.event.end_lease') < types.index('lease.delete')
    payload = dict(sent)['lease.create']
    assert payload['id'] == lease['id'] and payload['reservations']


def test_before_end_snapshots_the_servers(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation(before_end='snapshot')],
                                              start='now', end=60,
                                              before_end_date=None)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    res_id = lease['reservations'][0]['id']
    from blazar.simulator import state as sim_state
    flavor = cloud.create_flavor('m1.snap', ram=512, vcpus=1, disk=1)
    server = cloud.create_servers(sim_state.Caller('admin', 'admin'), 'vm1', flavor['id'],
                                  scheduler_hints={'reservation': res_id})[0]
    assert server['status'] == 'ACTIVE'
    assert api.put('/v1/leases/%s' % lease['id'],
                   {'before_end_date': 'now'}).status_code == 403  # not after the start
    ctx = blazar_context.get_admin_context()
    events = {e['event_type']: e for e in db_api.lease_get(ctx, lease['id'])['events']}
    if 'before_end_lease' not in events:
        db_api.event_create(ctx, {'lease_id': lease['id'], 'event_type': 'before_end_lease',
                                  'time': timeutils.utcnow(), 'status': 'UNDONE',
                                  'attempts': 0})
    else:
        _make_due(lease['id'], 'before_end_lease', timeutils.utcnow())
    stack.manager.event_loop.wake()
    deadline = datetime.datetime.utcnow() + datetime.timedelta(seconds=10)
    while not [i for i in cloud.list_images() if i['name'] == 'reserved_vm1']:
        assert datetime.datetime.utcnow() < deadline, cloud.list_images()
        import time
        time.sleep(0.1)
    assert api.get('/v1/leases/%s' % lease['id']).json()['lease']['status'] == 'ACTIVE'


def _crash_mid_start(lease_id, claimed_until, cloud, host):
    """What a manager killed in the middle of a start leaves behind: the
    event claimed, the lease STARTING, the host half handed over."""
    ctx = blazar_context.get_admin_context()
    lease = db_api.lease_get(ctx, lease_id)
    start = [e for e in lease['events'] if e['event_type'] == 'start_lease'][0]
    db_api.event_update(ctx, start['id'], {
        'status': 'IN_PROGRESS', 'claimed_by': 'dead-manager',
        'claimed_until': claimed_until,
        'time': timeutils.utcnow() - datetime.timedelta(seconds=5)})
    db_api.lease_update(ctx, lease_id, {'status': 'STARTING'})
    aggregate = aggregates(cloud)[lease['reservations'][0]['id']]
    cloud.aggregate_add_host(aggregate['id'], host)


def test_an_event_left_by_a_dead_manager_is_taken_over_once_its_claim_expires(
        api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()])).json()['lease']
    res_id = lease['reservations'][0]['id']
    _crash_mid_start(lease['id'], timeutils.utcnow() + datetime.timedelta(seconds=60),
                     cloud, 'compute-1')
    stack.manager.event_loop.wake()
    import time
    time.sleep(1)
    # The claim still holds: nobody else runs the event meanwhile.
    assert api.get('/v1/leases/%s' % lease['id']).json()['lease']['status'] == 'STARTING'
    # The dead manager's claim runs out: the event is taken over.
    ctx = blazar_context.get_admin_context()
    start = [e for e in db_api.lease_get(ctx, lease['id'])['events']
             if e['event_type'] == 'start_lease'][0]
    db_api.event_update(ctx, start['id'], {
        'claimed_until': timeutils.utcnow() - datetime.timedelta(seconds=1)})
    stack.manager.event_loop.wake()
    active = wait_for_status(api, lease['id'], 'ACTIVE', timeout=15)
    start = [e for e in active['events'] if e['event_type'] == 'start_lease'][0]
    assert start['status'] == 'DONE'
    assert aggregates(cloud)[res_id]['hosts'] == ['compute-1']
    assert 'compute-1' not in aggregates(cloud)['freepool']['hosts']


def test_a_deletion_left_by_a_dead_manager_is_finished_by_another(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    lease = wait_for_status(api, lease['id'], 'ACTIVE')
    res_id = lease['reservations'][0]['id']
    # What a manager killed in the middle of a deletion leaves: the lease
    # DELETING, its end event claimed by it, the host still handed over.
    ctx = blazar_context.get_admin_context()
    end = [e for e in db_api.lease_get(ctx, lease['id'])['events']
           if e['event_type'] == 'end_lease'][0]
    db_api.event_update(ctx, end['id'], {
        'status': 'IN_PROGRESS', 'claimed_by': 'dead-manager',
        'claimed_until': timeutils.utcnow() - datetime.timedelta(seconds=1)})
    db_api.lease_update(ctx, lease['id'], {'status': 'DELETING'})
    stack.manager.event_loop.wake()
    deadline = datetime.datetime.utcnow() + datetime.timedelta(seconds=15)
    while api.get('/v1/leases/%s' % lease['id']).status_code != 404:
        assert datetime.datetime.utcnow() < deadline
        import time
        time.sleep(0.1)
    assert res_id not in aggregates(cloud)
    assert aggregates(cloud)['freepool']['hosts'] == ['compute-1']
