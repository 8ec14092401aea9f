"""Usage enforcement over the API: every rule refuses with a 403 that says
why, and a refused create or update changes nothing, in the store or Nova."""
import datetime
import time

import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.tests import policy_server
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import allocated_hosts
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import in_pool
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_leases import in_minutes
from blazar.tests.functional.test_leases import wait_for_status

HOUR, DAY = 3600, 86400


@pytest.fixture
def enforce(config):
    """Enable filters and set [enforcement] options for this test."""
    def enable(*filters, **options):
        config.set_override('enabled_filters', list(filters), group='enforcement')
        for name, value in options.items():
            config.set_override(name, value, group='enforcement')
    return enable


@pytest.fixture
def policy(enforce):
    server = policy_server.PolicyServer().start()
    enforce('ExternalServiceFilter', external_service_base_endpoint=server.url + '/policy',
            external_service_token='s3cret', external_service_timeout=1.0,
            external_service_on_end_retry_delay=0.05)
    yield server
    server.stop()


def snapshot(api, cloud):
    return (api.get('/v1/leases').json(), api.get('/v1/os-hosts/allocations').json(),
            {n: (sorted(a['hosts']), a['metadata']) for n, a in aggregates(cloud).items()})


def refused(resp, *words):
    assert resp.status_code == 403, resp.text
    body = resp.json()
    assert body['error_code'] == 403 and body['error_name'] == 403
    for word in words:
        assert word in body['error_message'], body['error_message']
    return body['error_message']


def create(api, *args, **kwargs):
    return api.post('/v1/leases', lease_with(*args, **kwargs))


def ident(lease):
    return '/v1/leases/%s' % lease['id']


def after_start(lease, minutes):
    """A request date ``minutes`` after the lease's start (not after now,
    which may be a minute later than when the lease was made)."""
    start = datetime.datetime.strptime(lease['start_date'], '%Y-%m-%dT%H:%M:%S.%f')
    return (start + datetime.timedelta(minutes=minutes)).strftime('%Y-%m-%d %H:%M')


# --- maximum duration and extensions -----------------------------------------

def test_max_lease_duration_refuses_long_leases_and_stores_nothing(api, stack, enforce):
    enforce('MaxLeaseDurationFilter', max_lease_duration=DAY)
    enrol(api, 2)
    tenant = api.as_user('alice:proj1')
    before = snapshot(api, stack.simulator.cloud)
    resp = create(tenant, [host_reservation()], start=60, end=60 + 2 * 24 * 60 + 90)
    assert refused(resp) == ('Lease duration of 2 days 1 hour 30 minutes exceeds the '
                             'maximum of 1 day (max_lease_duration) by 1 day 1 hour '
                             '30 minutes.')
    assert snapshot(api, stack.simulator.cloud) == before
    assert create(tenant, [host_reservation()], start=60, end=60 + 24 * 60).status_code == 201


def test_exempt_projects_and_disabled_rules(api, stack, enforce):
    enforce('MaxLeaseDurationFilter', max_lease_duration=DAY,
            max_lease_duration_exempt_project_ids=['proj1'])
    enrol(api, 2)
    long_lease = dict(start=60, end=60 + 3 * 24 * 60)
    assert create(api.as_user('alice:proj1'), [], **long_lease).status_code == 201
    refused(create(api.as_user('bob:proj2'), [], **long_lease), 'max_lease_duration')
    enforce('MaxLeaseDurationFilter', max_lease_duration=-1)
    assert create(api.as_user('bob:proj2'), [], **long_lease).status_code == 201
    enforce()
    assert create(api.as_user('bob:proj2'), [], start=60, end=60 + 400 * 24 * 60
                  ).status_code == 201


def test_refused_update_of_a_pending_lease_changes_nothing(api, stack, enforce):
    enforce('MaxLeaseDurationFilter', max_lease_duration=3 * HOUR)
    enrol(api, 3)
    lease = create(api, [host_reservation(1, 1)], start=60, end=180).json()['lease']
    res_id = lease['reservations'][0]['id']
    settled()   # the aggregate is made after the 201: compare what is settled
    before = snapshot(api, stack.simulator.cloud)
    resp = api.put(ident(lease), {'end_date': after_start(lease, 240), 'reservations': [
        {'id': res_id, 'min': 2, 'max': 2}]})
    refused(resp, 'Lease duration of 4 hours exceeds the maximum of 3 hours '
                  '(max_lease_duration) by 1 hour.')
    assert snapshot(api, stack.simulator.cloud) == before
    assert api.get(ident(lease)).json()['lease'] == lease
    # Moving it later keeps its duration: allowed; and so is renaming.
    resp = api.put(ident(lease), {'start_date': in_minutes(120), 'end_date': in_minutes(240)})
    assert resp.status_code == 200, resp.text
    assert api.put(ident(lease), {'name': 'renamed'}).status_code == 200


def test_extension_window_of_an_active_lease(api, stack, enforce):
    enforce('MaxLeaseDurationFilter', extension_window=HOUR)
    enrol(api, 1)
    lease = create(api, [host_reservation()], start='now', end=150).json()['lease']
    lease = wait_for_status(api, lease['id'], 'ACTIVE')
    message = refused(api.put(ident(lease), {'end_date': in_minutes(200)}),
                      'An active lease can be prolonged only in the last 1 hour before '
                      'its end (extension_window); this lease ends in ')
    assert ('ends in 2 hours 30 minutes, so retry in 1 hour 30 minutes (from '
            in message or 'ends in 2 hours 29 minutes, so retry in 1 hour 29 minutes'
            in message), message
    assert api.get(ident(lease)).json()['lease'] == lease
    # Shortening is always fine; so is prolonging once inside the window.
    assert api.put(ident(lease), {'end_date': in_minutes(50)}).status_code == 200
    resp = api.put(ident(lease), {'end_date': in_minutes(110)})
    assert resp.status_code == 200, resp.text


def test_an_active_lease_is_prolonged_at_most_the_maximum_from_now(api, stack, enforce):
    enforce('MaxLeaseDurationFilter', max_lease_duration=3 * HOUR)
    enrol(api, 1)
    lease = create(api, [host_reservation()], start='now', end=120).json()['lease']
    lease = wait_for_status(api, lease['id'], 'ACTIVE')
    message = refused(api.put(ident(lease), {'end_date': in_minutes(240)}),
                      '(max_lease_duration); the requested end date',
                      'to end at most 3 hours from now')
    # (59 minutes if the minute turned since the request was written)
    assert message.endswith(('UTC is 1 hour beyond that.',
                             'UTC is 59 minutes beyond that.')), message
    assert api.get(ident(lease)).json()['lease'] == lease
    resp = api.put(ident(lease), {'end_date': in_minutes(178)})
    assert resp.status_code == 200, resp.text


# --- per-project limits -----------------------------------------------------

def test_concurrent_hosts_per_project(api, stack, enforce):
    enforce('ProjectLimitsFilter', max_hosts_per_project=2)
    enrol(api, 4)
    alice = api.as_user('alice:proj1')
    assert create(alice, [host_reservation(2, 2)], 'a', 60, 120).status_code == 201
    settled()
    before = snapshot(api, stack.simulator.cloud)
    body = lease_with([host_reservation(1, 1)], 'b', 90, 150)
    refused(alice.post('/v1/leases', body),
            'Project proj1 would hold 3 hosts at once, over its limit of 2 hosts '
            '(max_hosts_per_project): its other leases hold 2 hosts at %s UTC and '
            'this lease adds 1 host.' % body['start_date'])
    assert snapshot(api, stack.simulator.cloud) == before
    # Back to back is not at once; other projects have their own count.
    assert create(alice, [host_reservation(2, 2)], 'c', 120, 180).status_code == 201
    assert create(api.as_user('bob:proj2'), [host_reservation(2, 2)], 'd', 90, 150
                  ).status_code == 201


def test_per_project_overrides(api, stack, enforce):
    enforce('ProjectLimitsFilter', max_hosts_per_project=1,
            max_hosts_per_project_overrides={'proj2': '3', 'proj3': '-1'})
    enrol(api, 4)
    refused(create(api.as_user('alice:proj1'), [host_reservation(2, 2)]),
            'over its limit of 1 host (max_hosts_per_project)',
            'its other leases hold none meanwhile and this lease adds 2 hosts.')
    assert create(api.as_user('bob:proj2'), [host_reservation(3, 3)]).status_code == 201
    assert create(api.as_user('carol:proj3'), [host_reservation(1, 1)]).status_code == 201


def test_concurrent_vcpus_and_memory_from_host_sizes(api, stack, enforce):
    enforce('ProjectLimitsFilter', max_vcpus_per_project=12)
    enrol(api, 3)  # 8 vCPUs and 65536 MB each
    refused(create(api, [host_reservation(2, 2)]),
            'Project admin would hold 16 vCPUs at once, over its limit of 12 vCPUs '
            '(max_vcpus_per_project): its other leases hold none meanwhile and this '
            'lease adds 16 vCPUs.')
    assert create(api, [host_reservation(1, 1)], 'one', 60, 120).status_code == 201
    enforce('ProjectLimitsFilter', max_vcpus_per_project=-1,
            max_memory_mb_per_project=100000)
    refused(create(api, [host_reservation(1, 1)], 'two', 100, 200),
            'would hold 131072 MB of memory at once, over its limit of 100000 MB of '
            'memory (max_memory_mb_per_project): its other leases hold 65536 MB of '
            'memory at', 'this lease adds 65536 MB of memory.')


def test_instance_reservations_count_amount_times_their_shape(api, stack, enforce):
    from blazar.tests.functional.test_instance_reservations import instance_reservation
    enforce('ProjectLimitsFilter', max_vcpus_per_project=12)
    enrol(api, 3)
    refused(create(api, [instance_reservation(7, vcpus=2, memory_mb=512, disk_gb=1)]),
            'would hold 14 vCPUs at once', 'this lease adds 14 vCPUs.')
    assert create(api, [instance_reservation(4, vcpus=2, memory_mb=512, disk_gb=1)],
                  'a', 60, 120).status_code == 201
    # With 8 vCPUs held, a host (8 more) is over the limit meanwhile...
    refused(create(api, [host_reservation(1, 1)], 'b', 100, 200),
            'its other leases hold 8 vCPUs')
    # ...and growing the instance reservation too, not shrinking it.
    lease = api.get('/v1/leases').json()['leases'][0]
    res_id = lease['reservations'][0]['id']
    refused(api.put(ident(lease), {'reservations': [{'id': res_id, 'amount': 7}]}),
            'over its limit of 12 vCPUs')
    assert api.put(ident(lease), {'reservations': [{'id': res_id, 'amount': 6}]}
                   ).status_code == 200


def test_host_hours_per_rolling_period(api, stack, enforce):
    enforce('ProjectLimitsFilter', max_host_hours_per_project=5)
    enrol(api, 3)
    first = create(api, [host_reservation(2, 2)], 'a', 60, 120)
    assert first.status_code == 201
    start = first.json()['lease']['start_date'].replace('T', ' ')[:16]
    message = refused(create(api, [host_reservation(2, 2)], 'b', 24 * 60, 24 * 60 + 120),
                      'Project admin would reserve 6 host-hours in the 30 days from ',
                      'over its limit of 5 (max_host_hours_per_project): its other leases '
                      'hold 2 host-hours in that period and this lease adds 4.')
    assert 'in the 30 days from %s to ' % start in message
    # Outside the rolling period of the first lease it fits again.
    assert create(api, [host_reservation(2, 2)], 'c', 31 * 24 * 60,
                  31 * 24 * 60 + 120).status_code == 201
    enforce('ProjectLimitsFilter', max_host_hours_per_project=5, host_hours_period=DAY)
    assert create(api, [host_reservation(2, 2)], 'b', 24 * 60, 24 * 60 + 90
                  ).status_code == 201


def test_refused_growth_of_an_active_lease_changes_nothing_and_never_reaches_nova(
        api, stack, enforce):
    """The filters judge the change inside its transaction, before anything
    is handed over: a refusal leaves the store and Nova untouched."""
    enforce('ProjectLimitsFilter', max_hosts_per_project=1)
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = create(api, [host_reservation(1, 1)], start='now', end=60).json()['lease']
    lease = wait_for_status(api, lease['id'], 'ACTIVE')
    res_id = lease['reservations'][0]['id']
    held = in_pool(cloud, res_id)
    before = snapshot(api, cloud)
    cloud.clear_requests()
    resp = api.put(ident(lease), {'reservations': [{'id': res_id, 'min': 2, 'max': 2}]})
    refused(resp, 'would hold 2 hosts at once', 'this lease would hold 2 hosts '
                  '(it holds 1 host now)')
    settled()
    assert not [r for r in cloud.requests if r[0] != 'GET'], cloud.requests
    assert snapshot(api, cloud) == before
    assert in_pool(cloud, res_id) == held
    assert len(allocated_hosts(api, res_id)) == 1


def test_an_update_that_does_not_make_things_worse_is_allowed(api, stack, enforce):
    enrol(api, 3)
    lease = create(api, [host_reservation(3, 3)], start=60, end=240).json()['lease']
    enforce('ProjectLimitsFilter', max_hosts_per_project=2, max_host_hours_per_project=4)
    resp = api.put(ident(lease), {'end_date': in_minutes(120)})
    assert resp.status_code == 200, resp.text
    refused(api.put(ident(lease), {'end_date': in_minutes(180)}), 'host-hours')


# --- external policy service ------------------------------------------------

def test_external_service_allows_and_sees_the_lease(api, stack, policy):
    ids = enrol(api, 2)
    resp = create(api.as_user('alice:proj1'), [host_reservation(2, 2)])
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    (call,) = policy.calls_to('/policy/check-create')
    assert call.headers['X-Auth-Token'] == 's3cret'
    assert call.headers['Content-Type'] == 'application/json'
    assert call.body['context']['user_id'] == 'alice'
    assert call.body['context']['project_id'] == 'proj1'
    sent = call.body['lease']
    assert sent['id'] == lease['id'] and sent['project_id'] == 'proj1'
    assert sent['start_date'] == lease['start_date']
    reservation = sent['reservations'][0]
    assert reservation['resource_type'] == 'physical:host'
    assert (reservation['min'], reservation['max']) == (2, 2)
    assert sorted(a['id'] for a in reservation['allocations']) == sorted(ids)
    assert {a['vcpus'] for a in reservation['allocations']} == {8}
    assert reservation['usage'] == {'hosts': 2, 'vcpus': 16, 'memory_mb': 131072,
                                    'floatingips': 0}
    assert sent['usage'] == reservation['usage']


def test_external_service_sees_the_floating_ips_of_the_lease(api, stack, policy):
    """A floating-IP reservation reaches the service with its addresses as
    allocations and counted in usage."""
    net = stack.simulator.cloud.neutron.network_by_name('public')['id']
    registered = {}
    for address in ('172.24.4.100', '172.24.4.101', '172.24.4.102'):
        resp = api.post('/v1/floatingips', {'floating_network_id': net,
                                            'floating_ip_address': address})
        assert resp.status_code == 201, resp.text
        fip = resp.json()['floatingip']
        registered[fip['id']] = fip
    resp = create(api.as_user('alice:proj1'), [{
        'resource_type': 'virtual:floatingip', 'network_id': net, 'amount': 2,
        'required_floatingips': ['172.24.4.101']}])
    assert resp.status_code == 201, resp.text
    (call,) = policy.calls_to('/policy/check-create')
    sent = call.body['lease']
    reservation = sent['reservations'][0]
    assert reservation['resource_type'] == 'virtual:floatingip'
    allocations = reservation['allocations']
    assert len(allocations) == 2
    for allocation in allocations:
        fip = registered[allocation['id']]
        assert allocation == {key: fip[key] for key in (
            'id', 'floating_ip_address', 'floating_network_id', 'subnet_id')}
    assert '172.24.4.101' in {a['floating_ip_address'] for a in allocations}
    assert reservation['usage']['floatingips'] == 2
    assert sent['usage']['floatingips'] == 2


def test_external_service_refusal_relays_its_message(api, stack, policy):
    enrol(api, 2)
    before = snapshot(api, stack.simulator.cloud)
    policy.answer('/policy/check-create', (403, {'message': 'Project proj1 has no '
                                                            'allocation left'}))
    resp = create(api.as_user('alice:proj1'), [host_reservation(1, 1)])
    assert refused(resp) == 'Project proj1 has no allocation left'
    assert snapshot(api, stack.simulator.cloud) == before
    policy.answer('/policy/check-create', (403, 'Plain text works too'))
    assert refused(create(api, [])) == 'Plain text works too'
    policy.answer('/policy/check-create', (403, None))
    assert refused(create(api, [])) == 'Refused by the usage policy service.'


@pytest.mark.parametrize('answer, words', [
    ((500, {'message': 'boom'}), '(it answered HTTP 500)'),
    ((200, {'message': 'ok?'}), '(it answered HTTP 200)'),
    ((204, None, 3), '(no answer within 1 seconds)'),
])
def test_external_service_failure_refuses_unless_allowed(api, stack, policy, enforce,
                                                         answer, words):
    enrol(api, 1)
    before = snapshot(api, stack.simulator.cloud)
    policy.answer('/policy/check-create', answer)
    message = refused(create(api, [host_reservation()]), words)
    assert message.startswith('The usage policy service could not check this lease')
    assert 'boom' not in message
    assert snapshot(api, stack.simulator.cloud) == before
    enforce('ExternalServiceFilter', external_service_allow_on_failure=True)
    assert create(api, [host_reservation()]).status_code == 201


def test_external_service_unreachable(api, stack, enforce):
    server = policy_server.PolicyServer()
    url = server.url
    server.stop()
    enforce('ExternalServiceFilter', external_service_check_create_endpoint=url + '/cc')
    refused(create(api, []), 'The usage policy service could not check this lease '
                             '(it could not be reached); please try again later.')


def test_external_service_checks_updates_with_the_current_lease(api, stack, policy):
    enrol(api, 3)
    lease = create(api, [host_reservation(1, 1)]).json()['lease']
    res_id = lease['reservations'][0]['id']
    new_end = in_minutes(180)
    change = {'end_date': new_end, 'reservations': [{'id': res_id, 'max': 2}]}
    policy.answer('/policy/check-update', (403, {'message': 'No growing today'}))
    settled()   # the aggregate is made after the 201: compare what is settled
    before = snapshot(api, stack.simulator.cloud)
    assert refused(api.put(ident(lease), change)) == 'No growing today'
    assert snapshot(api, stack.simulator.cloud) == before
    (call,) = policy.calls_to('/policy/check-update')
    assert call.body['current_lease']['end_date'] == lease['end_date']
    assert call.body['current_lease']['usage']['hosts'] == 1
    assert call.body['lease']['end_date'].startswith(new_end.replace(' ', 'T'))
    assert call.body['lease']['usage']['hosts'] == 2
    policy.answer('/policy/check-update', (204, None))
    assert api.put(ident(lease), change).status_code == 200


def test_external_service_is_told_of_ends_and_deletions(api, stack, policy):
    enrol(api, 2)
    lease = create(api, [host_reservation()], start='now', end=60).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    assert api.put(ident(lease), {'end_date': 'now'}).status_code == 200
    wait_for_status(api, lease['id'], 'TERMINATED')
    (call,) = policy.wait_for('/policy/on-end')
    assert call.body['lease']['id'] == lease['id']
    assert call.body['lease']['reservations'][0]['usage']['hosts'] == 1
    assert call.body['context']['project_id'] == 'admin'
    # Deleting the terminated lease does not tell its end again; deleting a
    # lease before its end does.
    assert api.delete(ident(lease)).status_code == 204
    alice = api.as_user('alice:proj1')
    pending = create(alice, [host_reservation()]).json()['lease']
    assert alice.delete(ident(pending)).status_code == 204
    calls = policy.wait_for('/policy/on-end', 2)
    assert [c.body['lease']['id'] for c in calls] == [lease['id'], pending['id']]
    assert calls[1].body['context']['project_id'] == 'proj1'


def test_on_end_is_retried_and_never_blocks_the_end(api, stack, policy, enforce):
    enforce('ExternalServiceFilter', external_service_on_end_attempts=3)
    policy.answer('/policy/on-end', (500, None), (503, None, 2), (204, None))
    enrol(api, 1)
    lease = create(api, [host_reservation()], start='now', end=60).json()['lease']
    wait_for_status(api, lease['id'], 'ACTIVE')
    assert api.put(ident(lease), {'end_date': 'now'}).status_code == 200
    wait_for_status(api, lease['id'], 'TERMINATED', timeout=5)
    assert len(policy.wait_for('/policy/on-end', 3)) == 3


def test_on_end_gives_up_quietly(api, stack, policy, enforce):
    enforce('ExternalServiceFilter', external_service_on_end_attempts=2)
    policy.answer('/policy/on-end', (500, None))
    lease = create(api, []).json()['lease']
    assert api.delete(ident(lease)).status_code == 204
    policy.wait_for('/policy/on-end', 2)
    ctx = blazar_context.get_admin_context()
    deadline = time.time() + 5
    while db_api.deferred_calls_due(ctx, db_api.utcnow() + datetime.timedelta(days=1)):
        assert time.time() < deadline, 'the on-end call is still pending'
        time.sleep(0.05)
    assert len(policy.calls_to('/policy/on-end')) == 2


def test_filters_run_in_order_and_the_first_refusal_wins(api, stack, policy, enforce):
    enforce('MaxLeaseDurationFilter', 'ExternalServiceFilter', max_lease_duration=HOUR)
    refused(create(api, [], start=60, end=180), 'max_lease_duration')
    assert policy.calls_to('/policy/check-create') == []
    assert create(api, [], start=60, end=90).status_code == 201
    assert len(policy.calls_to('/policy/check-create')) == 1


def test_checks_cost_the_same_few_statements_however_many_leases(api, stack, enforce,
                                                                 monkeypatch):
    import threading

    import sqlalchemy as sa

    from blazar.db import api as db_api
    enforce('MaxLeaseDurationFilter', 'ProjectLimitsFilter', max_lease_duration=DAY,
            max_hosts_per_project=100, max_vcpus_per_project=1000,
            max_memory_mb_per_project=10 ** 7, max_host_hours_per_project=10 ** 5)
    enforcement = stack.manager.leases.enforcement
    counting, seen = threading.local(), []

    def counted(method):
        def wrapper(*args, **kwargs):
            counting.on = True
            try:
                return method(*args, **kwargs)
            finally:
                counting.on = False
        return wrapper
    for name in ('lease_view', 'check_create', 'check_update'):
        monkeypatch.setattr(enforcement, name, counted(getattr(enforcement, name)))

    def count(conn, cursor, statement, *args):
        if getattr(counting, 'on', False):
            seen.append(statement)
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', count)
    try:
        enrol(api, 4)
        costs = []
        for batch in range(2):
            for index in range(1 + 9 * batch):
                start = 60 + 30 * (len(costs) * 10 + index)
                assert create(api, [host_reservation(1, 2)], 'x', start, start + 20
                              ).status_code == 201
            del seen[:]
            lease = create(api, [host_reservation(2, 2)], 'probe', 30, 50).json()['lease']
            created = len(seen)
            del seen[:]
            assert api.put(ident(lease), {'end_date': in_minutes(55)}).status_code == 200
            costs.append((created, len(seen)))
            api.delete(ident(lease))
    finally:
        sa.event.remove(engine, 'before_cursor_execute', count)
    # create: the lease's hosts + the project's usage; update: both versions + usage
    assert costs[0] == costs[1] == (2, 3), costs
