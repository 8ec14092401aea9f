"""Nova failing at any step of create, update, start or end leaves nothing
half done: the store and Nova are exactly as before (create/update), or the
event is retried until it completes (start/end), and no host is ever
outside both the freepool and its reservation's aggregate."""
import re
import time

import pytest

from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_leases import in_minutes
from blazar.tests.functional.test_leases import wait_for_status

_ID = re.compile(r'[0-9a-f]{8}-[0-9a-f-]{27}|CUSTOM_RESERVATION_[0-9A-F_]+|\d+')


def _kind(request):
    method, path, action = request
    return method, _ID.sub('X', path), action


def _steps(requests):
    """Each Nova call as (kind, how many calls of that kind came before)."""
    seen, steps = {}, []
    for request in requests:
        kind = _kind(request)
        steps.append((kind, seen.get(kind, 0)))
        seen[kind] = seen.get(kind, 0) + 1
    return steps


def _arm(cloud, step):
    (method, path, action), skip = step
    pattern = '^%s$' % re.escape(path).replace('X', '[^/]+')
    cloud.inject_fault(method, pattern, status=500, action=action, skip=skip)


def _record(cloud, operation):
    """The Nova requests an operation makes."""
    cloud.clear_requests()
    operation()
    return list(cloud.requests)


def assert_no_host_lost(api, cloud):
    """Every enrolled host is in the freepool or in the aggregate of an
    active reservation, never in none (while an end is under way it may be
    in both: it joins the freepool before it leaves the aggregate)."""
    # The store first: a reservation it calls active may only have handed
    # its hosts back by the time Nova is read, never the other way round.
    active = {r['id'] for lease in api.get('/v1/leases').json()['leases']
              for r in lease['reservations'] if r['status'] == 'active'}
    pools = aggregates(cloud)
    for host in api.get('/v1/os-hosts').json()['hosts']:
        name = host['service_name']
        places = [n for n, a in pools.items() if name in a['hosts']]
        assert places, '%s is in no pool' % name
        assert len(places) == 1 or (len(places) == 2 and 'freepool' in places), places
        assert all(p == 'freepool' or p in active for p in places), places


def _snapshot(api, cloud):
    return (api.get('/v1/leases').json(), api.get('/v1/os-hosts/allocations').json(),
            {n: (sorted(a['hosts']), a['metadata']) for n, a in aggregates(cloud).items()})


def test_create_fails_cleanly_at_every_nova_step(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    body = lease_with([host_reservation(2, 2)])
    created = []
    steps = _steps(_record(cloud, lambda: created.append(api.post('/v1/leases', body))))
    assert created[0].status_code == 201
    api.delete('/v1/leases/%s' % created[0].json()['lease']['id'])
    before = _snapshot(api, cloud)
    assert steps
    for step in steps:
        _arm(cloud, step)
        resp = api.post('/v1/leases', body)
        cloud.clear_faults()
        assert resp.status_code >= 500, (step, resp.text)
        assert 'error_message' in resp.json()
        assert _snapshot(api, cloud) == before, step


def test_update_of_an_active_lease_fails_cleanly_at_every_nova_step(api, stack):
    """Extending an active lease and adding hosts moves them into its
    aggregate at once; a failure at any step changes nothing."""
    cloud = stack.simulator.cloud
    enrol(api, 4)

    def active_lease():
        lease = api.post('/v1/leases', lease_with([host_reservation(1, 1)], start='now',
                                                  end=60)).json()['lease']
        wait_for_status(api, lease['id'], 'ACTIVE')
        return lease

    def grow(lease):
        return api.put('/v1/leases/%s' % lease['id'], {
            'end_date': in_minutes(90),
            'reservations': [{'id': lease['reservations'][0]['id'], 'min': 3, 'max': 3}]})

    probe = active_lease()
    answers = []
    steps = _steps(_record(cloud, lambda: answers.append(grow(probe))))
    assert answers[0].status_code == 200, answers[0].text
    api.delete('/v1/leases/%s' % probe['id'])
    assert steps
    for step in steps:
        lease = active_lease()
        before = _snapshot(api, cloud)
        _arm(cloud, step)
        resp = grow(lease)
        cloud.clear_faults()
        assert resp.status_code >= 500, (step, resp.text)
        assert _snapshot(api, cloud) == before, step
        assert_no_host_lost(api, cloud)
        api.delete('/v1/leases/%s' % lease['id'])


@pytest.fixture
def fast_retries(config):
    config.set_override('event_retry_delay', 0.2, group='manager')
    config.set_override('event_retry_max_delay', 0.5, group='manager')


def _events(lease):
    return {e['event_type']: e for e in lease['events']}


def _wait_for_attempt(api, lease_id, event_type, timeout=10):
    """The lease once its event has run (and failed, or succeeded) once."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lease = api.get('/v1/leases/%s' % lease_id).json()['lease']
        if _events(lease)[event_type]['attempts'] >= 1:
            return lease
        time.sleep(0.05)
    raise AssertionError('%s of %s never ran' % (event_type, lease_id))


def test_a_start_failing_at_any_step_is_undone_and_retried(api, stack, config):
    # Long enough a pause before the retry to look at the undone state.
    config.set_override('event_retry_delay', 1.5, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 2)
    later = lease_with([host_reservation(2, 2)], start=60, end=120)
    create_only = _record(cloud, lambda: api.post('/v1/leases', later))
    api.delete('/v1/leases/%s' % api.get('/v1/leases').json()['leases'][0]['id'])
    now = lease_with([host_reservation(2, 2)], start='now', end=60)
    holder = []
    everything = _record(cloud, lambda: holder.append(wait_for_status(
        api, api.post('/v1/leases', now).json()['lease']['id'], 'ACTIVE')))
    api.delete('/v1/leases/%s' % holder[0]['id'])
    start_steps = _steps(everything[len(create_only):])
    assert start_steps
    for step in start_steps:
        _arm(cloud, step)
        lease = api.post('/v1/leases', lease_with([host_reservation(2, 2)], start='now',
                                                  end=60)).json()['lease']
        failed = _wait_for_attempt(api, lease['id'], 'start_lease')
        assert_no_host_lost(api, cloud)
        if failed['status'] == 'PENDING':
            assert 'start_lease failed (attempt 1)' in failed['status_reason']
            held = aggregates(cloud).get(lease['reservations'][0]['id'], {'hosts': []})
            assert held['hosts'] == [], step
        cloud.clear_faults()
        done = wait_for_status(api, lease['id'], 'ACTIVE')
        assert done['status_reason'] is None
        assert_no_host_lost(api, cloud)
        api.delete('/v1/leases/%s' % lease['id'])
        assert_no_host_lost(api, cloud)


def test_an_end_failing_at_any_step_is_retried_until_complete(api, stack, config):
    config.set_override('event_retry_delay', 1.0, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 2)
    probe = api.post('/v1/leases', lease_with([host_reservation(2, 2)], start='now',
                                              end=60)).json()['lease']
    wait_for_status(api, probe['id'], 'ACTIVE')
    steps = _steps(_record(cloud, lambda: (
        api.put('/v1/leases/%s' % probe['id'], {'end_date': 'now'}),
        wait_for_status(api, probe['id'], 'TERMINATED'))))
    api.delete('/v1/leases/%s' % probe['id'])
    assert steps
    for step in steps:
        lease = api.post('/v1/leases', lease_with([host_reservation(2, 2)], start='now',
                                                  end=60)).json()['lease']
        wait_for_status(api, lease['id'], 'ACTIVE')
        _arm(cloud, step)
        api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
        _wait_for_attempt(api, lease['id'], 'end_lease')
        assert_no_host_lost(api, cloud)
        ended = wait_for_status(api, lease['id'], 'TERMINATED', timeout=20)
        assert ended['reservations'][0]['status'] == 'deleted'
        cloud.clear_faults()
        assert_no_host_lost(api, cloud)
        assert sorted(aggregates(cloud)['freepool']['hosts']) == ['compute-1', 'compute-2']
        api.delete('/v1/leases/%s' % lease['id'])


def test_nova_timing_out_at_the_start_is_retried_until_it_completes(api, stack, config):
    """Nova slower than [nova] timeout: the start fails as unavailable, is
    undone and retried with backoff, and completes."""
    from blazar.clients import nova
    config.set_override('timeout', 1, group='nova')
    config.set_override('event_retry_delay', 0.5, group='manager')
    nova.reset_client()
    cloud = stack.simulator.cloud
    enrol(api, 1)
    # The first hand-over call answers after 3 s: the client gave up at 1 s.
    cloud.inject_fault('POST', r'^/os-aggregates/[^/]+/action$', status=None,
                       action='add_host', delay=3.0)
    lease = api.post('/v1/leases', lease_with([host_reservation()], start='now',
                                              end=60)).json()['lease']
    failed = _wait_for_attempt(api, lease['id'], 'start_lease')
    assert 'Nova' in failed['status_reason'], failed['status_reason']
    done = wait_for_status(api, lease['id'], 'ACTIVE', timeout=30)
    start = _events(done)['start_lease']
    assert start['status'] == 'DONE' and start['attempts'] >= 2, start
    assert_no_host_lost(api, cloud)
    nova.reset_client()
