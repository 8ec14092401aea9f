"""Nova and Placement failing at any step of a create, start, update, end
or delete: the API answers at once, the converger retries (with no limit
while the lease wants the change), and the cloud ends as the store says.
A lease never reports a state Nova does not have: ACTIVE means its hosts
are handed over, TERMINATED (or gone) means they are back."""
import time

import pytest

from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_atomicity import _arm
from blazar.tests.functional.test_atomicity import _record
from blazar.tests.functional.test_atomicity import _steps
from blazar.tests.functional.test_atomicity import assert_no_host_lost
from blazar.tests.functional.test_atomicity import cloud_objects
from blazar.tests.functional.test_atomicity import without_empty_providers
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import allocated_hosts
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import in_pool
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_instance_reservations import reserved_inventory
from blazar.tests.functional.test_leases import in_minutes
from blazar.tests.functional.test_leases import wait_for_status


@pytest.fixture
def fast_retries(config):
    config.set_override('event_retry_delay', 0.05, group='manager')
    config.set_override('event_retry_max_delay', 0.25, group='manager')


def _lease(api, lease_id):
    resp = api.get('/v1/leases/%s' % lease_id)
    return resp.json()['lease'] if resp.status_code == 200 else None


def assert_reports_only_what_nova_has(api, cloud):
    """The store first, then Nova: a lease ACTIVE has its hosts (or its
    room) handed over; a host reservation's hosts are in its aggregate."""
    leases = api.get('/v1/leases').json()['leases']
    pools = aggregates(cloud)
    for lease in leases:
        if lease['status'] != 'ACTIVE':
            continue
        for reservation in lease['reservations']:
            assert reservation['status'] == 'active', lease
            if reservation['resource_type'] == 'physical:host':
                assert pools.get(reservation['id'], {}).get('hosts'), lease
            else:
                assert reserved_inventory(cloud, reservation['id']), lease
    assert_no_host_lost(api, cloud)


# --- what is done, and what must hold once it converged ----------------------------

class Scenario:
    """``setup(api)`` makes what the operation needs, ``act(api, made)``
    is the operation, ``check(api, cloud, made)`` what holds afterwards."""

    def __init__(self, name, setup, act, check):
        self.name, self.setup, self.act, self.check = name, setup, act, check

    def __repr__(self):
        return self.name


def _hosts(n=2, start=60, end=120):
    return lease_with([host_reservation(n, n)], start=start, end=end)


def _instances(start=60, end=120):
    return lease_with([instance_reservation(2, affinity=False)], start=start, end=end)


def _post(api, body):
    resp = api.post('/v1/leases', body)
    assert resp.status_code == 201, resp.text
    return resp.json()['lease']


def _active(api, body):
    lease = _post(api, body)
    return wait_for_status(api, lease['id'], 'ACTIVE', timeout=20)


def _end_now(api, lease):
    assert api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'}).status_code == 200


def _start_now(api, lease):
    assert api.put('/v1/leases/%s' % lease['id'], {'start_date': 'now'}).status_code == 200


def _delete(api, lease):
    assert api.delete('/v1/leases/%s' % lease['id']).status_code == 204


def _res(lease):
    return lease['reservations'][0]['id']


def _check_host_active(api, cloud, lease):
    current = wait_for_status(api, lease['id'], 'ACTIVE', timeout=1)
    names = {h['id']: h['hypervisor_hostname']
             for h in api.get('/v1/os-hosts').json()['hosts']}
    held = sorted(names[h] for h in allocated_hosts(api, _res(lease)))
    assert in_pool(cloud, _res(lease)) == held
    assert not set(held) & set(in_pool(cloud, 'freepool'))
    assert current['status_reason'] is None


def _check_host_gone(api, cloud, lease, status='TERMINATED'):
    current = _lease(api, lease['id'])
    if status is None:
        assert current is None
    else:
        assert current['status'] == status, current
    assert _res(lease) not in aggregates(cloud)
    assert len(in_pool(cloud, 'freepool')) == len(api.get('/v1/os-hosts').json()['hosts'])


def _check_instances_active(api, cloud, lease):
    current = wait_for_status(api, lease['id'], 'ACTIVE', timeout=1)
    res_id = _res(lease)
    hosts = aggregates(cloud)[res_id]['hosts']
    amount = current['reservations'][0]['amount']
    assert sum(reserved_inventory(cloud, res_id).values()) == amount
    assert set(reserved_inventory(cloud, res_id)) == set(hosts)


def _instances_gone(baseline):
    def check(api, cloud, lease):
        assert without_empty_providers(cloud_objects(cloud)) == baseline
    return check


HOSTS = [
    Scenario('host create', lambda api: None,
             lambda api, _: _post(api, _hosts()),
             lambda api, cloud, lease: (
                 wait_for_status(api, lease['id'], 'PENDING', timeout=1),
                 aggregates(cloud)[_res(lease)])),
    Scenario('host start', lambda api: _post(api, _hosts()),
             _start_now, _check_host_active),
    Scenario('host grow active', lambda api: _active(api, _hosts(1, 'now', 60)),
             lambda api, lease: api.put('/v1/leases/%s' % lease['id'], {
                 'end_date': in_minutes(90),
                 'reservations': [{'id': _res(lease), 'min': 2, 'max': 2}]}),
             _check_host_active),
    Scenario('host end', lambda api: _active(api, _hosts(2, 'now', 60)),
             _end_now, _check_host_gone),
    Scenario('host delete active', lambda api: _active(api, _hosts(2, 'now', 60)),
             _delete, lambda api, cloud, lease: _check_host_gone(api, cloud, lease, None)),
    Scenario('host delete pending', lambda api: _post(api, _hosts()),
             _delete, lambda api, cloud, lease: _check_host_gone(api, cloud, lease, None)),
]


def _instance_scenarios(baseline):
    gone = _instances_gone(baseline)
    return [
        Scenario('instance create', lambda api: None,
                 lambda api, _: _post(api, _instances()),
                 lambda api, cloud, lease: _lease(api, lease['id'])['reservations'][0][
                     'server_group_id'] is not None or pytest.fail('no group')),
        Scenario('instance start', lambda api: _post(api, _instances()),
                 _start_now, _check_instances_active),
        Scenario('instance grow active', lambda api: _active(api, _instances('now', 60)),
                 lambda api, lease: api.put('/v1/leases/%s' % lease['id'], {
                     'reservations': [{'id': _res(lease), 'amount': 3}]}),
                 _check_instances_active),
        Scenario('instance end', lambda api: _active(api, _instances('now', 60)),
                 _end_now, gone),
        Scenario('instance delete active', lambda api: _active(api, _instances('now', 60)),
                 _delete, gone),
        Scenario('instance delete pending', lambda api: _post(api, _instances()),
                 _delete, gone),
    ]


def _clean(api):
    for lease in api.get('/v1/leases').json()['leases']:
        api.delete('/v1/leases/%s' % lease['id'])
    settled()


def _run(api, stack, scenario, times, step=None):
    """Run the scenario with ``step`` failing ``times`` times (None: until
    cleared after a while); watch what the lease reports meanwhile."""
    cloud = stack.simulator.cloud
    made = scenario.setup(api)
    settled()
    if step is not None:
        _arm(cloud, step, times=times)
    result = scenario.act(api, made)
    lease = made or result
    deadline = time.time() + 20
    while True:
        assert_reports_only_what_nova_has(api, cloud)
        try:
            settled(timeout=0.2)
            break
        except AssertionError:
            assert time.time() < deadline, 'never converged (%s)' % (step,)
    cloud.clear_faults()
    scenario.check(api, cloud, lease)
    assert_reports_only_what_nova_has(api, cloud)
    _clean(api)


def _steps_of(api, stack, scenario):
    cloud = stack.simulator.cloud
    made = scenario.setup(api)
    settled()
    steps = _steps(_record(cloud, lambda: (scenario.act(api, made), settled())))
    _clean(api)
    assert steps, scenario
    return steps


def _sample(steps, database, times):
    """Every step fails once on SQLite; the server backends and the
    second failure take a sample spread over the whole operation (the
    suite stays fast; every step still fails on one backend)."""
    every = (1 if database.backend == 'sqlite' else 2) * (1 if times == 1 else 3)
    return steps[::every] + ([steps[-1]] if (len(steps) - 1) % every else [])


@pytest.mark.parametrize('times', [1, 2])
def test_host_leases_converge_whatever_step_fails(api, stack, database, fast_retries,
                                                  times):
    enrol(api, 3)
    for scenario in HOSTS:
        for step in _sample(_steps_of(api, stack, scenario), database, times):
            _run(api, stack, scenario, times, step)


@pytest.mark.parametrize('times', [1, 2])
def test_instance_leases_converge_whatever_step_fails(api, stack, database, fast_retries,
                                                      times):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    baseline = without_empty_providers(cloud_objects(cloud))
    for scenario in _instance_scenarios(baseline):
        for step in _sample(_steps_of(api, stack, scenario), database, times):
            _run(api, stack, scenario, times, step)


def test_a_failure_longer_than_the_retry_cap_is_reported_and_outlived(
        api, stack, fast_retries, notifications):
    """Nova refusing every hand-over for a while: the lease stays STARTING
    and says why, its start event counts the attempts, a notification
    tells; once Nova recovers the lease becomes ACTIVE."""
    cloud = stack.simulator.cloud
    enrol(api, 2)
    lease = _post(api, _hosts())
    settled()
    cloud.inject_fault('POST', r'^/os-aggregates/[^/]+/action$', status=503,
                       action='add_host', times=None)
    _start_now(api, lease)
    deadline = time.time() + 10
    while True:
        current = _lease(api, lease['id'])
        start = [e for e in current['events'] if e['event_type'] == 'start_lease'][0]
        if start['attempts'] >= 4:
            break
        assert time.time() < deadline, current
        time.sleep(0.05)
    assert current['status'] == 'STARTING'
    assert 'failed (attempt' in current['status_reason'], current['status_reason']
    assert start['status'] == 'IN_PROGRESS' and start['last_error']
    assert in_pool(cloud, _res(lease)) == []
    told = [p for t, p in notifications() if t == 'lease.retrying']
    assert [p['attempts'] for p in told][:3] == [1, 2, 4]
    cloud.clear_faults()
    _check_host_active(api, cloud, wait_for_status(api, lease['id'], 'ACTIVE'))


def test_an_end_outlives_nova_failing_longer_than_the_retry_cap(api, stack, fast_retries):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    lease = _active(api, _hosts(2, 'now', 60))
    cloud.inject_fault('*', r'.', status=500, times=None)
    _end_now(api, lease)
    time.sleep(1.0)
    current = _lease(api, lease['id'])
    assert current['status'] == 'TERMINATING'
    assert current['reservations'][0]['status'] == 'active'
    cloud.clear_faults()
    wait_for_status(api, lease['id'], 'TERMINATED', timeout=15)
    _check_host_gone(api, cloud, lease)


def test_nova_timing_out_is_retried_until_it_completes(api, stack, fast_retries, config):
    """Nova slower than [nova] timeout: the step fails as unavailable and
    is retried with backoff until it completes."""
    from blazar.clients import nova
    config.set_override('timeout', 1, group='nova')
    nova.reset_client()
    try:
        cloud = stack.simulator.cloud
        enrol(api, 1)
        lease = _post(api, _hosts(1))
        settled()
        cloud.inject_fault('POST', r'^/os-aggregates/[^/]+/action$', status=None,
                           action='add_host', delay=3.0)
        _start_now(api, lease)
        done = wait_for_status(api, lease['id'], 'ACTIVE', timeout=30)
        start = [e for e in done['events'] if e['event_type'] == 'start_lease'][0]
        assert start['status'] == 'DONE' and start['attempts'] >= 1, start
        assert_no_host_lost(api, cloud)
    finally:
        nova.reset_client()
