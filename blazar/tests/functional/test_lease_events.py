"""Lifecycle events through the real manager: back-to-back hand-over,
notifications, work left by a dead manager taken over."""
import datetime
import time

from oslo_utils import timeutils
import sqlalchemy as sa

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.db import models
from blazar.tests.functional.conftest import settled
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


def _held_by_a_dead_manager(reservation_id, seconds):
    """What a manager killed while converging a reservation leaves: its
    claim on the intent, running out in ``seconds`` (negative: run out)."""
    ctx = blazar_context.get_admin_context()
    with db_api.transaction(ctx) as session:
        session.execute(sa.update(models.CloudIntent).where(
            models.CloudIntent.reservation_id == reservation_id).values(
            claimed_by='dead-manager',
            claimed_until=timeutils.utcnow() + datetime.timedelta(seconds=seconds)))


def _wait(predicate, what, timeout=10):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, 'timed out waiting for %s' % what
        time.sleep(0.05)


def _status(api, lease_id):
    return api.get('/v1/leases/%s' % lease_id).json()['lease']


def test_a_start_waits_for_the_end_that_gives_its_host_back(api, stack, config):
    """The old lease's end is held by a manager that died: the new lease
    does not take the host before that end has emptied it, or the end would
    delete the new tenant's servers and put the host in the freepool. Once
    the end has run, the start goes on at once, not after a retry delay."""
    config.set_override('event_retry_delay', 300, group='manager')
    config.set_override('event_retry_max_delay', 300, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 1)
    old = api.post('/v1/leases', lease_with([host_reservation()], 'old', 'now', 60))
    old = wait_for_status(api, old.json()['lease']['id'], 'ACTIVE')
    new = api.post('/v1/leases', lease_with([host_reservation()], 'new', 60, 120))
    new = new.json()['lease']
    settled()
    stack.manager.converger_worker.pause()
    moment = timeutils.utcnow() - datetime.timedelta(seconds=1)
    _make_due(old['id'], 'end_lease', moment)
    _make_due(new['id'], 'start_lease', moment)
    stack.manager.event_loop.wake()
    _wait(lambda: _status(api, new['id'])['status'] == 'STARTING', 'the start applied')
    assert _status(api, old['id'])['status'] == 'TERMINATING'
    _held_by_a_dead_manager(old['reservations'][0]['id'], 60)
    stack.manager.converger_worker.resume()
    _wait(lambda: _status(api, new['id'])['status_reason'], 'the start to wait')
    waiting = _status(api, new['id'])
    assert waiting['status'] == 'STARTING'
    assert waiting['status_reason'] == (
        'waiting for the end of lease %s to give back its hosts' % old['id'])
    start = [e for e in waiting['events'] if e['event_type'] == 'start_lease'][0]
    assert (start['status'], start['attempts']) == ('IN_PROGRESS', 0)
    assert waiting['reservations'][0]['status'] == 'pending'
    assert aggregates(cloud)[new['reservations'][0]['id']]['hosts'] == []
    assert aggregates(cloud)[old['reservations'][0]['id']]['hosts'] == ['compute-1']

    _held_by_a_dead_manager(old['reservations'][0]['id'], -1)
    stack.manager.converger_worker.wake()
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
    # Not after the start: upstream's 403 "Datetime is out of lease limits".
    assert api.put('/v1/leases/%s' % lease['id'],
                   {'before_end_date': 'now'}).status_code == 403
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


def test_a_start_left_by_a_dead_manager_is_taken_over_once_its_claim_expires(
        api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()])).json()['lease']
    res_id = lease['reservations'][0]['id']
    settled()
    stack.manager.converger_worker.pause()
    _make_due(lease['id'], 'start_lease', timeutils.utcnow() - datetime.timedelta(seconds=1))
    stack.manager.event_loop.wake()
    _wait(lambda: _status(api, lease['id'])['status'] == 'STARTING', 'the start applied')
    # Killed half-way: the host is in the aggregate, and still in the freepool.
    cloud.aggregate_add_host(aggregates(cloud)[res_id]['id'], 'compute-1')
    _held_by_a_dead_manager(res_id, 60)
    stack.manager.converger_worker.resume()
    time.sleep(1)
    # The claim still holds: nobody else takes the work meanwhile.
    assert _status(api, lease['id'])['status'] == 'STARTING'
    _held_by_a_dead_manager(res_id, -1)
    stack.manager.converger_worker.wake()
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
    stack.manager.converger_worker.pause()
    assert api.delete('/v1/leases/%s' % lease['id']).status_code == 204
    assert _status(api, lease['id'])['status'] == 'DELETING'
    _held_by_a_dead_manager(res_id, 60)
    stack.manager.converger_worker.resume()
    time.sleep(1)
    assert _status(api, lease['id'])['status'] == 'DELETING'
    _held_by_a_dead_manager(res_id, -1)
    stack.manager.converger_worker.wake()
    _wait(lambda: api.get('/v1/leases/%s' % lease['id']).status_code == 404,
          'the lease to go', timeout=15)
    assert res_id not in aggregates(cloud)
    assert aggregates(cloud)['freepool']['hosts'] == ['compute-1']


def test_a_lease_goes_through_upstream_s_statuses(api, stack):
    """PENDING, STARTING while the hosts are handed over, ACTIVE, UPDATING
    while more are, TERMINATING while they are taken back, TERMINATED; the
    reservation is active only once handed over, deleted once given back."""
    enrol(api, 2)
    seen = []
    made = {}

    def step(change, transitional, stable):
        stack.manager.converger_worker.pause()
        change()
        lease_id = made['lease']['id']
        _wait(lambda: _status(api, lease_id)['status'] == transitional, transitional)
        seen.append((transitional, _status(api, lease_id)['reservations'][0]['status']))
        stack.manager.converger_worker.resume()
        settled()
        current = _status(api, lease_id)
        seen.append((current['status'], current['reservations'][0]['status']))
        assert current['status'] == stable

    def create():
        made['lease'] = api.post('/v1/leases', lease_with([host_reservation(1, 1)],
                                                          start='now', end=60)).json()['lease']
        assert made['lease']['status'] == 'PENDING'

    def lease_path():
        return '/v1/leases/%s' % made['lease']['id']

    step(create, 'STARTING', 'ACTIVE')
    step(lambda: api.put(lease_path(), {'reservations': [
        {'id': made['lease']['reservations'][0]['id'], 'min': 2, 'max': 2}]}),
         'UPDATING', 'ACTIVE')
    step(lambda: api.put(lease_path(), {'end_date': 'now'}), 'TERMINATING', 'TERMINATED')
    assert seen == [('STARTING', 'pending'), ('ACTIVE', 'active'),
                    ('UPDATING', 'active'), ('ACTIVE', 'active'),
                    ('TERMINATING', 'active'), ('TERMINATED', 'deleted')]


def test_a_paused_manager_applies_no_due_event_until_resumed(api, stack):
    """Between two tests the store is switched under the shared manager,
    which paused its converger but not its event loop: a start applied
    astride the switch waited forever for its own row lock."""
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()], 'l', 60, 120))
    assert lease.status_code == 201, lease.text
    lease = lease.json()['lease']
    stack.manager.pause()
    try:
        _make_due(lease['id'], 'start_lease', timeutils.utcnow() - datetime.timedelta(seconds=1))
        stack.manager.event_loop.wake()
        time.sleep(0.5)
        assert _status(api, lease['id'])['status'] == 'PENDING'
    finally:
        stack.manager.resume()
    wait_for_status(api, lease['id'], 'ACTIVE')
