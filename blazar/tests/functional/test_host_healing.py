"""Monitoring and healing of host reservations, end to end: a compute
service fails in the simulator, the polling or the notification monitor
notices, the reservations holding the host get replacements in Nova and in
the store, or are flagged when there is none, and recovery clears the
flags. Operators' maintenance and reallocation over the API."""
import time
import uuid

import pytest

from blazar.simulator import notifications as sim_notifications
from blazar.tests.functional import conftest as fconf
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import in_pool
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_leases import in_minutes
from blazar.tests.functional.test_leases import wait_for_status

DEADLINE = 30


def wait_until(what, condition, timeout=DEADLINE):
    """Poll ``condition()`` until it returns something true; fail naming
    ``what`` after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('%s: not within %ss' % (what, timeout))
        time.sleep(0.2)


def _monitored_stack(config, shared_stack, simulator, polling, notification,
                     healing_interval=0):
    fconf.stop_shared_stack(shared_stack)
    group = 'physical:host'
    config.set_override('enable_polling_monitor', polling, group=group)
    config.set_override('polling_interval', 1, group=group)
    config.set_override('enable_notification_monitor', notification, group=group)
    config.set_override('healing_interval', healing_interval, group=group)
    # A topic of its own: no notification of another test (or test run on
    # the same broker) reaches this monitor.
    topic = 'versioned_notifications-%s' % uuid.uuid4().hex[:8]
    config.set_override('notification_topics', [topic], group=group)
    return fconf.Stack(simulator), topic


@pytest.fixture
def polled(config, database, simulator, shared_stack):
    """The service with the polling monitor on (every second)."""
    stack, _topic = _monitored_stack(config, shared_stack, simulator, True, False)
    yield stack
    stack.stop()


@pytest.fixture
def notified(config, database, simulator, shared_stack):
    """The service with only the notification monitor on, and the simulator
    publishing service.update on the fake transport."""
    stack, topic = _monitored_stack(config, shared_stack, simulator, False, True)
    notifier = sim_notifications.ServiceNotifier('fake:/', topics=[topic])
    simulator.publish_service_updates(notifier)
    yield stack
    stack.stop()


def host_names(api):
    return {h['id']: h['hypervisor_hostname']
            for h in api.get('/v1/os-hosts').json()['hosts']}


def held(api, reservation_id):
    """Hostnames of the hosts a reservation holds (allocations API)."""
    names = host_names(api)
    return sorted(names[a['resource_id']] for a in
                  api.get('/v1/os-hosts/allocations').json()['allocations']
                  if any(r['id'] == reservation_id for r in a['reservations']))


def host(api, name):
    resp = api.get('/v1/os-hosts/%s' % name)
    assert resp.status_code == 200, resp.text
    return resp.json()['host']


def reservation_of(api, lease_id):
    lease = api.get('/v1/leases/%s' % lease_id).json()['lease']
    return lease, lease['reservations'][0]


def events(notifications, event_type):
    return [payload for kind, payload in notifications() if kind == event_type]


def active_and_pending(api, simulator):
    """An active lease on one host and a pending one (later, on one host):
    the placement policy puts both on the same host, the snug fit."""
    enrol(api, 4)
    tenant = api.as_user('alice:proj1')
    active = tenant.post('/v1/leases', lease_with([host_reservation()], 'active',
                                                  start='now', end=60))
    assert active.status_code == 201, active.text
    active = active.json()['lease']
    wait_for_status(tenant, active['id'], 'ACTIVE')
    pending = tenant.post('/v1/leases', lease_with([host_reservation()], 'pending',
                                                   start=90, end=150))
    assert pending.status_code == 201, pending.text
    return tenant, active, pending.json()['lease']


def check_replaced(api, cloud, lease, lost, active):
    """The reservation left ``lost`` for one other host, in Nova if active,
    and carries no degradation flag."""
    lease, reservation = reservation_of(api, lease['id'])
    now_held = held(api, reservation['id'])
    assert len(now_held) == 1 and lost not in now_held
    assert reservation['missing_resources'] is False
    assert lease['degraded'] is False
    assert reservation['resources_changed'] is active
    settled()   # the store decided; the converger makes Nova follow
    if active:
        assert in_pool(cloud, reservation['id']) == now_held
        assert now_held[0] not in in_pool(cloud, 'freepool')
        assert lost in in_pool(cloud, 'freepool')
    else:
        assert in_pool(cloud, reservation['id']) == []
    return now_held[0]


def _fail_and_heal(api, simulator, notifications, mode):
    cloud = simulator.cloud
    tenant, active, pending = active_and_pending(api, simulator)
    res_active = active['reservations'][0]['id']
    res_pending = pending['reservations'][0]['id']
    (lost,) = held(api, res_active)
    assert held(api, res_pending) == [lost]
    assert in_pool(cloud, res_active) == [lost]

    cloud.fail_host(lost, mode=mode)
    wait_until('both reservations moved off %s' % lost,
               lambda: lost not in held(api, res_active) + held(api, res_pending))
    wait_until('the active replacement in Nova',
               lambda: in_pool(cloud, res_active) == held(api, res_active))
    check_replaced(api, cloud, active, lost, active=True)
    check_replaced(api, cloud, pending, lost, active=False)
    failed = host(api, lost)
    assert (failed['reservable'], failed['state']) == (False, 'failed')
    assert 'nova-compute is' in failed['state_reason']
    assert [p['hypervisor_hostname'] for p in events(notifications, 'host.failed')] \
        == [lost]
    healed = wait_until('two reservation.healed notifications',
                        lambda: len(events(notifications, 'reservation.healed')) == 2
                        and events(notifications, 'reservation.healed'))
    assert {p['reservation_id'] for p in healed} == {res_active, res_pending}
    assert all(p['missing_resources'] is False for p in healed)
    assert events(notifications, 'reservation.degraded') == []
    # The tenant sees the new host in the lease.
    assert tenant.get('/v1/leases/%s' % active['id']).json()['lease']['degraded'] is False

    cloud.recover_host(lost)
    back = wait_until('%s reservable again' % lost,
                      lambda: host(api, lost)['reservable'] and host(api, lost))
    assert (back['state'], back['state_reason'], back['failure_reason']) == \
        ('available', None, None)
    assert [p['hypervisor_hostname'] for p in events(notifications, 'host.recovered')] \
        == [lost]


def test_polling_replaces_a_failed_host_of_active_and_pending_reservations(
        api, polled, simulator, notifications):
    _fail_and_heal(polled.api, simulator, notifications, mode='down')


def test_notification_replaces_a_failed_host_at_once(notified, simulator,
                                                     notifications):
    _fail_and_heal(notified.api, simulator, notifications, mode='forced_down')


def test_polling_sees_a_disabled_service_and_tells_why(polled, simulator):
    api = polled.api
    enrol(api, 1)
    simulator.cloud.fail_host('compute-1', mode='disabled', reason='bad DIMM')
    failed = wait_until('compute-1 failed',
                        lambda: host(api, 'compute-1')['state'] == 'failed'
                        and host(api, 'compute-1'))
    assert failed['state_reason'] == 'nova-compute is disabled: bad DIMM'
    assert failed['failure_reason'] == failed['state_reason']


def test_more_failures_than_spares_degrade_until_a_host_comes_back(
        polled, simulator, notifications):
    api, cloud = polled.api, simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([host_reservation(2, 2)], start='now',
                                              end=60)).json()['lease']
    reservation_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    first, second = held(api, reservation_id)
    (spare,) = {'compute-1', 'compute-2', 'compute-3'} - {first, second}

    cloud.fail_host(spare)      # nothing held it
    wait_until('spare failed', lambda: host(api, spare)['state'] == 'failed')
    cloud.fail_host(first)      # no replacement left
    lease = wait_until('lease degraded', lambda: reservation_of(
        api, lease['id'])[0]['degraded'] and reservation_of(api, lease['id'])[0])
    assert lease['reservations'][0]['missing_resources'] is True
    # It keeps the lost host: whole again when it returns.
    assert held(api, reservation_id) == sorted([first, second])
    (degraded,) = wait_until('reservation.degraded', lambda: events(
        notifications, 'reservation.degraded'))
    assert degraded['reservation_id'] == reservation_id
    assert degraded['lease_degraded'] is True

    cloud.recover_host(spare)   # a replacement appears: re-filled
    wait_until('healed with the recovered spare',
               lambda: held(api, reservation_id) == sorted([second, spare]))
    lease, reservation = reservation_of(api, lease['id'])
    assert (lease['degraded'], reservation['missing_resources']) == (False, False)
    settled()   # the converger moves the hosts in Nova
    assert in_pool(cloud, reservation_id) == sorted([second, spare])

    cloud.fail_host(second)     # again no spare: degraded
    wait_until('degraded again', lambda: reservation_of(api, lease['id'])[0]['degraded'])
    cloud.recover_host(second)  # its own host comes back: whole
    wait_until('flags cleared', lambda: not reservation_of(api, lease['id'])[0][
        'degraded'])
    lease, reservation = reservation_of(api, lease['id'])
    assert reservation['missing_resources'] is False
    assert held(api, reservation_id) == sorted([second, spare])
    assert len(events(notifications, 'reservation.degraded')) == 2
    assert len(events(notifications, 'reservation.healed')) >= 2


def test_a_failed_host_is_not_reservable(polled, simulator):
    api = polled.api
    enrol(api, 2)
    simulator.cloud.fail_host('compute-2')
    wait_until('compute-2 failed', lambda: not host(api, 'compute-2')['reservable'])
    resp = api.post('/v1/leases', lease_with([host_reservation(2, 2)]))
    assert resp.status_code == 409
    assert '1 reservable host' in resp.json()['error_message']


def test_only_reservations_within_the_healing_window_are_healed(
        config, database, simulator, shared_stack):
    stack, _ = _monitored_stack(config, shared_stack, simulator, True, False,
                                healing_interval=60)
    try:
        api = stack.api
        enrol(api, 2)
        soon = api.post('/v1/leases', lease_with([host_reservation()], 'soon',
                                                 start=30, end=45)).json()['lease']
        (lost,) = held(api, soon['reservations'][0]['id'])
        later = api.post('/v1/leases', lease_with([host_reservation()], 'later',
                                                  start=120, end=180)).json()['lease']
        assert held(api, later['reservations'][0]['id']) == [lost]
        simulator.cloud.fail_host(lost)
        wait_until('the reservation within the hour moved',
                   lambda: held(api, soon['reservations'][0]['id']) != [lost])
        # The later one waits: the host may be back before it starts.
        later, reservation = reservation_of(api, later['id'])
        assert held(api, reservation['id']) == [lost]
        assert (reservation['missing_resources'], later['degraded']) == (False, False)
    finally:
        stack.stop()


# --- operators: maintenance and reallocation -----------------------------------

def test_maintenance_moves_reservations_then_ends(api, stack, notifications):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([host_reservation()])).json()['lease']
    reservation_id = lease['reservations'][0]['id']
    (target,) = held(api, reservation_id)

    resp = api.put('/v1/os-hosts/%s/maintenance' % target, {'reason': 'firmware'})
    assert resp.status_code == 200, resp.text
    shown = resp.json()['host']
    assert (shown['state'], shown['state_reason'], shown['reservable']) == \
        ('maintenance', 'firmware', False)
    assert shown['maintenance_reason'] == 'firmware'
    assert shown['maintenance_start'] is not None
    # Healed before the answer.
    moved = held(api, reservation_id)
    assert len(moved) == 1 and moved != [target]
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (False, False)
    assert host(api, target)['state'] == 'maintenance'

    resp = api.delete('/v1/os-hosts/%s/maintenance' % target)
    assert resp.status_code == 204, resp.text
    back = host(api, target)
    assert (back['state'], back['reservable'], back['maintenance_start']) == \
        ('available', True, None)
    assert target in in_pool(cloud, 'freepool')


def test_maintenance_without_spare_degrades_and_ending_it_clears(api, stack):
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()])).json()['lease']
    resp = api.put('/v1/os-hosts/compute-1/maintenance', {})
    assert resp.status_code == 200, resp.text
    assert resp.json()['host']['state_reason'] is None
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (True, True)
    assert api.delete('/v1/os-hosts/compute-1/maintenance').status_code == 204
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (False, False)


def test_maintenance_from_a_later_time(api, stack):
    enrol(api, 3)
    early = api.post('/v1/leases', lease_with([host_reservation()], 'early',
                                              start=60, end=120)).json()['lease']
    (target,) = held(api, early['reservations'][0]['id'])
    start = in_minutes(150)
    resp = api.put('/v1/os-hosts/%s/maintenance' % target,
                   {'start_date': start, 'reason': 'rack move'})
    assert resp.status_code == 200, resp.text
    shown = resp.json()['host']
    # Usable until then: still reservable, and a lease ending before keeps it.
    assert (shown['state'], shown['reservable']) == ('available', True)
    assert shown['maintenance_start'].startswith(start.replace(' ', 'T'))
    assert held(api, early['reservations'][0]['id']) == [target]
    # No new allocation reaches into the maintenance.
    resp = api.post('/v1/leases', lease_with([host_reservation(3, 3)], 'across',
                                             start=140, end=200))
    assert resp.status_code == 409, resp.text
    resp = api.post('/v1/leases', lease_with([host_reservation(3, 3)], 'before',
                                             start=125, end=145))
    assert resp.status_code == 201, resp.text


@pytest.mark.parametrize('body, words', [
    ({'colour': 'red'}, "Unknown parameter in body: 'colour'"),
    ({'start_date': 'tomorrow'}, 'start_date'),
    ({'start_date': '2001-01-01 10:00'}, 'start_date must be now or later'),
    ({'reason': 'x' * 256}, 'reason'),
])
def test_bad_maintenance_requests_are_400s(api, stack, body, words):
    enrol(api, 1)
    resp = api.put('/v1/os-hosts/compute-1/maintenance', body)
    assert resp.status_code == 400, resp.text
    assert words in resp.json()['error_message']
    assert host(api, 'compute-1')['state'] == 'available'


def test_maintenance_and_reallocate_are_for_administrators(api, stack):
    (host_id,) = enrol(api, 1)
    tenant = api.as_user('alice:proj1')
    for method, path in (('PUT', '/v1/os-hosts/%s/maintenance' % host_id),
                         ('DELETE', '/v1/os-hosts/%s/maintenance' % host_id),
                         ('PUT', '/v1/os-hosts/%s/allocation' % host_id)):
        resp = tenant.request(method, path, {})
        assert resp.status_code == 403, (method, path, resp.text)
    assert api.put('/v1/os-hosts/99/maintenance', {}).status_code == 404
    assert api.put('/v1/os-hosts/99/allocation', {}).status_code == 404
    assert api.get('/v1/os-hosts/%s/maintenance' % host_id).status_code == 405


def test_reallocate_moves_an_active_reservation_in_nova(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    reservation_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    (target,) = held(api, reservation_id)
    ids = {name: id_ for id_, name in host_names(api).items()}

    resp = api.put('/v1/os-hosts/%s/allocation' % ids[target], {})
    assert resp.status_code == 200, resp.text
    assert resp.json()['allocation'] == {'resource_id': ids[target], 'reservations': []}
    settled()   # the converger moves it in Nova
    (other,) = held(api, reservation_id)
    assert other != target
    assert in_pool(cloud, reservation_id) == [other]
    assert in_pool(cloud, 'freepool') == [target]
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], reservation['resources_changed'],
            lease['degraded']) == (False, True, False)
    # The host stays reservable: it was healthy.
    assert host(api, target)['reservable'] is True


def test_reallocate_what_cannot_move_stays_without_flags(api, stack):
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()])).json()['lease']
    reservation_id = lease['reservations'][0]['id']
    resp = api.put('/v1/os-hosts/compute-1/allocation',
                   {'reservation_id': reservation_id})
    assert resp.status_code == 200, resp.text
    (stays,) = resp.json()['allocation']['reservations']
    assert stays['id'] == reservation_id
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (False, False)
    resp = api.put('/v1/os-hosts/compute-1/allocation', {'lease_id': str(uuid.uuid4())})
    assert resp.status_code == 404
    assert 'has no current or future allocation' in resp.json()['error_message']
    resp = api.put('/v1/os-hosts/compute-1/allocation', {'lease': 'x'})
    assert resp.status_code == 400


def test_reservable_is_not_an_extra_capability(api, stack):
    enrol(api, 1)
    for key in ('reservable', 'state', 'failure_reason', 'maintenance_start'):
        resp = api.put('/v1/os-hosts/compute-1', {key: 'false'})
        assert resp.status_code == 400, resp.text
        assert 'host attribute' in resp.json()['error_message']
    shown = host(api, 'compute-1')
    assert (shown['reservable'], shown['state']) == (True, 'available')


def test_notifications_over_rabbitmq(config, sqlite_database, simulator, shared_stack,
                                     notifications):
    """Nova's service.update through a real broker: the simulator publishes
    on RabbitMQ, the monitor's own pool consumes it."""
    from blazar.tests import backends
    backends.require('rabbitmq')
    config.set_override('transport_url', backends.RABBITMQ_URL,
                        group='oslo_messaging_notifications')
    # A pool (queue) of its own: another run's monitor on the same broker
    # must not take this run's messages.
    config.set_override('notification_pool', 'blazar-test-%s' % uuid.uuid4().hex[:8],
                        group='physical:host')
    stack, topic = _monitored_stack(config, shared_stack, simulator, False, True)
    notifier = sim_notifications.ServiceNotifier(backends.RABBITMQ_URL, topics=[topic])
    simulator.publish_service_updates(notifier)
    try:
        api, cloud = stack.api, simulator.cloud
        enrol(api, 2)
        lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                                  end=60)).json()['lease']
        reservation_id = lease['reservations'][0]['id']
        wait_for_status(api, lease['id'], 'ACTIVE')
        (lost,) = held(api, reservation_id)
        cloud.fail_host(lost, mode='disabled', reason='over the broker')
        wait_until('moved off %s' % lost, lambda: held(api, reservation_id) != [lost])
        check_replaced(api, cloud, lease, lost, active=True)
        assert host(api, lost)['state_reason'] == 'nova-compute is disabled: over the broker'
        cloud.recover_host(lost)
        wait_until('%s back' % lost, lambda: host(api, lost)['reservable'])
        assert notifier.sent == 2
    finally:
        stack.stop()


def test_a_degraded_lease_can_still_be_updated(api, stack):
    enrol(api, 1)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    assert api.put('/v1/os-hosts/compute-1/maintenance', {}).status_code == 200
    assert reservation_of(api, lease['id'])[0]['degraded'] is True
    new_end = in_minutes(120)
    resp = api.put('/v1/leases/%s' % lease['id'], {'end_date': new_end})
    assert resp.status_code == 200, resp.text
    # It keeps waiting for its host, for the longer window.
    reservation_id = lease['reservations'][0]['id']
    assert held(api, reservation_id) == ['compute-1']
    (allocation,) = api.get('/v1/os-hosts/compute-1/allocation').json()[
        'allocation']['reservations']
    assert allocation['end_date'][:16] == new_end.replace(' ', 'T')
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (True, True)
    assert api.delete('/v1/os-hosts/compute-1/maintenance').status_code == 204
    assert reservation_of(api, lease['id'])[0]['degraded'] is False


def test_moving_an_active_reservation_converges_whatever_nova_step_fails(api, stack,
                                                                        config):
    """Healing changes the store at once; Nova failing at any step of the
    move delays it, never leaves a host in no pool, and the move completes."""
    from blazar.tests.functional import test_atomicity as atomicity
    config.set_override('event_retry_delay', 0.05, group='manager')
    config.set_override('event_retry_max_delay', 0.2, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    reservation_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')

    def reallocate():
        (current,) = held(api, reservation_id)
        resp = api.put('/v1/os-hosts/%s/allocation' % current, {})
        assert resp.status_code == 200, resp.text

    steps = atomicity._steps(atomicity._record(cloud, lambda: (reallocate(), settled())))
    assert steps
    for step in steps:
        atomicity._arm(cloud, step)
        reallocate()
        atomicity.assert_no_host_lost(api, cloud)
        settled()
        cloud.clear_faults()
        atomicity.assert_no_host_lost(api, cloud)
        assert in_pool(cloud, reservation_id) == held(api, reservation_id), step
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (False, False)


def test_an_active_lease_healed_can_still_be_ended_now(api, stack):
    """The replacement is held from the healing on: ending the lease at
    once keeps what it holds instead of choosing hosts again."""
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    reservation_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    (target,) = held(api, reservation_id)
    ids = {name: id_ for id_, name in host_names(api).items()}
    assert api.put('/v1/os-hosts/%s/allocation' % ids[target], {}).status_code == 200
    (other,) = held(api, reservation_id)
    resp = api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    wait_for_status(api, lease['id'], 'TERMINATED')
    assert other != target
