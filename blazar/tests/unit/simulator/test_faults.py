"""Fault injection and the request log of the simulator.

Driven through python-novaclient via ``blazar.clients.nova``, so injected
faults are seen exactly as the service sees a failing real Nova.
"""
import re
import threading
import time

import pytest
import requests

from blazar import exceptions
from blazar.clients import nova as nova_client
from blazar.conf import CONF
from blazar.simulator import faults
from blazar.simulator import state
from blazar.simulator import testing

AGG_ACTION = r'^/os-aggregates/\d+/action$'


@pytest.fixture
def cloud():
    return state.Cloud(hosts=3)


@pytest.fixture
def sim(cloud):
    with testing.simulated_nova(cloud) as srv:
        yield srv


@pytest.fixture
def client(sim):
    return nova_client.get_client()


@pytest.fixture
def agg(cloud):
    return cloud.create_aggregate('pool')['id']


def hosts_of(cloud, agg_id):
    return cloud.get_aggregate(agg_id)['hosts']


def raw(sim, method, path, **kwargs):
    headers = {'X-Auth-Token': 'admin:admin',
               'OpenStack-API-Version': 'compute 2.87'}
    return requests.request(method, sim.compute_url + path, headers=headers,
                            timeout=10, **kwargs)


# --- failing -----------------------------------------------------------------
def test_failed_add_host_raises_and_changes_nothing(cloud, client, agg):
    rule = cloud.inject_fault('POST', AGG_ACTION, action='add_host')
    with pytest.raises(exceptions.NovaError) as info:
        client.add_host(agg, 'compute-1')
    assert not isinstance(info.value, exceptions.NovaUnavailable)
    assert 'Unexpected API Error.' in str(info.value)
    assert '500' in str(info.value)
    assert hosts_of(cloud, agg) == []
    assert (rule.hits, rule.remaining) == (1, 0)
    client.add_host(agg, 'compute-1')             # times=1: spent
    assert hosts_of(cloud, agg) == ['compute-1']


def test_action_filter_spares_other_actions(cloud, client, agg):
    cloud.aggregate_add_host(agg, 'compute-1')
    cloud.inject_fault('POST', AGG_ACTION, action='add_host')
    client.remove_host(agg, 'compute-1')          # not add_host: served
    assert hosts_of(cloud, agg) == []
    with pytest.raises(exceptions.NovaError):
        client.add_host(agg, 'compute-1')
    assert hosts_of(cloud, agg) == []


def test_503_means_nova_unavailable(cloud, client, agg):
    cloud.inject_fault('*', r'/os-aggregates', status=503)
    with pytest.raises(exceptions.NovaUnavailable):
        client.get_aggregate(agg)


def test_other_statuses_and_custom_message(cloud, client, agg):
    cloud.inject_fault('POST', AGG_ACTION, status=409, action='add_host',
                       message='Aggregate is being updated.')
    with pytest.raises(exceptions.NovaError) as info:
        client.add_host(agg, 'compute-2')
    assert 'Aggregate is being updated.' in str(info.value)
    assert hosts_of(cloud, agg) == []


def test_times_is_honoured(cloud, client, agg):
    rule = cloud.inject_fault('POST', AGG_ACTION, times=2)
    for _ in range(2):
        with pytest.raises(exceptions.NovaError):
            client.add_host(agg, 'compute-1')
    assert rule.hits == 2 and not cloud.faults.pending
    client.add_host(agg, 'compute-1')
    assert hosts_of(cloud, agg) == ['compute-1']


def test_times_none_lasts_until_cleared(cloud, client, agg):
    cloud.inject_fault('*', r'/os-aggregates', status=503, times=None)
    for _ in range(3):
        with pytest.raises(exceptions.NovaUnavailable):
            client.get_aggregate(agg)
    cloud.clear_faults()
    assert client.get_aggregate(agg)['id'] == agg


def test_clear_faults_disarms_pending_rules(cloud, client, agg):
    cloud.inject_fault('POST', AGG_ACTION, times=5)
    cloud.clear_faults()
    assert cloud.faults.pending == []
    client.add_host(agg, 'compute-1')
    assert hosts_of(cloud, agg) == ['compute-1']


def test_method_and_path_must_match(cloud, client, agg):
    cloud.inject_fault('DELETE', r'/os-aggregates')
    cloud.inject_fault('GET', r'/os-hypervisors')
    client.get_aggregate(agg)                     # GET aggregates: served
    with pytest.raises(exceptions.NovaError):
        client.list_hypervisors()
    assert [r.method for r in cloud.faults.pending] == ['DELETE']


def test_oldest_matching_rule_wins(cloud, client, agg):
    first = cloud.inject_fault('GET', r'/os-aggregates', status=503)
    second = cloud.inject_fault('*', r'/os-aggregates', status=500)
    with pytest.raises(exceptions.NovaUnavailable):
        client.get_aggregate(agg)
    with pytest.raises(exceptions.NovaError) as info:
        client.get_aggregate(agg)
    assert not isinstance(info.value, exceptions.NovaUnavailable)
    assert (first.hits, second.hits) == (1, 1)


def test_a_multi_step_operation_rolls_back(cloud, client):
    """create_aggregate(metadata=...) = create + set_metadata: both or none."""
    cloud.clear_requests()
    cloud.inject_fault('POST', AGG_ACTION, action='set_metadata')
    with pytest.raises(exceptions.NovaError):
        client.create_aggregate('pool2', metadata={'k': 'v'})
    assert cloud.list_aggregates() == []
    writes = [r for r in cloud.requests if r[0] != 'GET']
    agg_path = writes[1][1][:-len('/action')]
    assert writes == [('POST', '/os-aggregates', None),
                      ('POST', agg_path + '/action', 'set_metadata'),
                      ('DELETE', agg_path, None)]


def test_error_body_is_nova_shaped(cloud, sim, agg):
    cloud.inject_fault('POST', AGG_ACTION, status=409)
    resp = raw(sim, 'POST', '/os-aggregates/%d/action' % agg,
               json={'add_host': {'host': 'compute-1'}})
    assert resp.status_code == 409
    assert resp.json() == {'conflictingRequest': {
        'code': 409, 'message': 'Conflict.'}}
    assert resp.headers['OpenStack-API-Version'] == 'compute 2.87'
    assert resp.headers['x-openstack-request-id'].startswith('req-')
    for status, kind in ((500, 'computeFault'), (503, 'serviceUnavailable'),
                         (400, 'badRequest'), (404, 'itemNotFound'),
                         (502, 'computeFault')):
        cloud.inject_fault('GET', r'^/os-aggregates$', status=status)
        resp = raw(sim, 'GET', '/os-aggregates')
        assert resp.status_code == status
        assert list(resp.json()) == [kind]
        assert resp.json()[kind]['code'] == status
    assert hosts_of(cloud, agg) == []


# --- delays ------------------------------------------------------------------
def test_delay_without_status_is_a_slow_nova(cloud, client, agg):
    cloud.inject_fault('GET', r'/os-aggregates', status=None, delay=0.3)
    began = time.monotonic()
    assert client.get_aggregate(agg)['id'] == agg
    assert time.monotonic() - began >= 0.3


def test_delay_beyond_the_client_timeout(cloud, sim, agg):
    CONF.set_override('timeout', 0.3, group='nova')
    nova_client.reset_client()
    try:
        cloud.inject_fault('*', r'/os-aggregates', status=None, delay=30)
        began = time.monotonic()
        with pytest.raises(exceptions.NovaUnavailable):
            nova_client.get_client().get_aggregate(agg)
        assert time.monotonic() - began < 10
    finally:
        cloud.clear_faults()            # wakes the request still sleeping
        CONF.clear_override('timeout', group='nova')
        nova_client.reset_client()


def test_delay_then_error(cloud, client, agg):
    cloud.inject_fault('POST', AGG_ACTION, status=503, delay=0.2)
    began = time.monotonic()
    with pytest.raises(exceptions.NovaUnavailable):
        client.add_host(agg, 'compute-1')
    assert time.monotonic() - began >= 0.2
    assert hosts_of(cloud, agg) == []


def test_clear_faults_cuts_a_delay_short(cloud, sim, agg):
    cloud.inject_fault('GET', r'/os-aggregates', status=None, delay=30)
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(raw(sim, 'GET', '/os-aggregates')))
    thread.start()
    for _ in range(100):
        if cloud.requests:
            break
        time.sleep(0.01)
    cloud.clear_faults()
    thread.join(5)
    assert answers and answers[0].status_code == 200


# --- request log -------------------------------------------------------------
def test_requests_are_logged(cloud, client, agg):
    cloud.clear_requests()
    client.add_host(agg, 'compute-1')
    client.remove_host(agg, 'compute-1')
    client.list_hypervisors()
    log = cloud.requests
    path = '/os-aggregates/%d/action' % agg
    assert log[:2] == [('POST', path, 'add_host'),
                       ('POST', path, 'remove_host')]
    assert all(method == 'GET' and action is None
               for method, _path, action in log[2:])
    assert any(p.startswith('/os-hypervisors') for _m, p, _a in log[2:])
    cloud.clear_requests()
    assert cloud.requests == []


def test_faulted_requests_are_logged_too(cloud, client, agg):
    cloud.clear_requests()
    cloud.inject_fault('POST', AGG_ACTION, action='add_host')
    with pytest.raises(exceptions.NovaError):
        client.add_host(agg, 'compute-1')
    assert cloud.requests[0] == ('POST', '/os-aggregates/%d/action' % agg,
                                 'add_host')


def test_log_paths_have_no_prefix_nor_query(cloud, sim):
    cloud.clear_requests()
    raw(sim, 'GET', '/os-hypervisors/detail?limit=1')
    raw(sim, 'GET', '')
    requests.get(sim.url + '/', timeout=10)
    assert cloud.requests == [('GET', '/os-hypervisors/detail', None),
                              ('GET', '', None), ('GET', '/', None)]


def test_log_is_bounded():
    log = faults.Faults(log_size=3)
    for number in range(5):
        log.intercept('GET', '/x/%d' % number)
    assert [p for _m, p, _a in log.requests()] == ['/x/2', '/x/3', '/x/4']


def test_concurrent_requests_consume_times_exactly(cloud, sim):
    cloud.clear_requests()
    cloud.inject_fault('GET', r'^/os-hypervisors$', status=500, times=5)
    codes = []
    lock = threading.Lock()

    def call():
        code = raw(sim, 'GET', '/os-hypervisors').status_code
        with lock:
            codes.append(code)
    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(codes) == [200] * 15 + [500] * 5
    assert len(cloud.requests) == 20


# --- arguments ---------------------------------------------------------------
@pytest.mark.parametrize('kwargs', [
    {'status': 200}, {'status': 600}, {'status': 499}, {'times': 0},
    {'status': None}, {'delay': -1}])
def test_bad_arguments(cloud, kwargs):
    with pytest.raises(ValueError):
        cloud.inject_fault('GET', '/x', **kwargs)
    assert cloud.faults.pending == []


def test_bad_pattern(cloud):
    with pytest.raises(re.error):
        cloud.inject_fault('GET', '(')
