"""Several managers, and kill -9 at random moments of lease creates
(instance reservations too), starts and ends.

Two blazar-manager processes share the RPC topic and the cloud work (each
reservation's convergence claimed in the store with an expiry); one of them
is killed with SIGKILL at a random moment, twenty times, and started again.
Afterwards every lease is in the state its dates say, every host is in
exactly one pool, and nothing carrying the service's marks is left without
a live reservation: a dead manager's work is taken over, never lost or
leaked."""
import random
import time

import pytest
import requests

from blazar.simulator import server as sim_server
from blazar.simulator import state as sim_state
from blazar.tests import backends
from blazar.tests.integration.test_convergence_drill import _orphans
from blazar.tests.integration.test_convergence_drill import _pools
from blazar.tests.integration.test_convergence_drill import _settled
from blazar.tests.integration.test_convergence_drill import _wait
from blazar.tests.integration.test_convergence_drill import PUBLIC
from blazar.tests.integration.test_convergence_drill import register_addresses
from blazar.tests.integration.test_processes import Deployment
from blazar.tests.integration.test_processes import kill_group

KILLS = 20
HOSTS = 8
ADMIN = {'X-Auth-Token': 'admin:admin'}


@pytest.fixture(scope='module', params=['mariadb', 'postgresql'])
def two_managers(request, tmp_path_factory):
    for server in (request.param, 'rabbitmq'):
        backends.require(server)
    simulator = sim_server.SimulatorServer(sim_state.Cloud(hosts=HOSTS, vcpus=8))
    running = Deployment(tmp_path_factory.mktemp('drill'), managers=2,
                         backend=request.param, simulator=simulator, extra=[
        '[manager]', 'event_claim_timeout = 10', 'event_retry_delay = 0.5',
        'event_retry_max_delay = 2', 'event_max_wait = 1', 'orphan_interval = 2',
        'orphan_grace_period = 15',
        '[nova]', 'server_deletion_timeout = 5'])
    try:
        yield running, simulator.cloud
    finally:
        running.stop()
        simulator.stop()


def _call(method, url, body=None, timeout=30):
    """A request that tolerates the seconds when the manager that took it
    was just killed (a clear 503): retried until answered."""
    deadline = time.time() + 60
    while True:
        resp = requests.request(method, url, json=body, headers=ADMIN, timeout=timeout)
        if resp.status_code != 503 or time.time() > deadline:
            return resp
        time.sleep(0.5)


def _leases(url):
    resp = _call('GET', url + '/leases')
    assert resp.status_code == 200, resp.text
    return resp.json()['leases']


def _kill_one(deployment, rng):
    name, proc, log = rng.choice(deployment.managers())
    # The supervisor and its worker together (killing the supervisor alone
    # lets the worker stop gracefully).
    kill_group(proc)
    log.close()
    deployment.procs.procs.remove((name, proc, log))
    deployment.start_manager()


def _reservation(rng):
    draw = rng.random()
    if draw < 0.25:
        return {'resource_type': 'virtual:floatingip', 'network_id': PUBLIC,
                'amount': rng.randint(1, 2)}
    if draw < 0.6:
        return {'resource_type': 'physical:host', 'min': 1, 'max': 1,
                'hypervisor_properties': '', 'resource_properties': ''}
    return {'resource_type': 'virtual:instance', 'vcpus': 2, 'memory_mb': 512,
            'disk_gb': 1, 'amount': 2, 'affinity': rng.choice([None, False, True]),
            'resource_properties': ''}


def test_killing_managers_at_random_loses_and_leaks_nothing(two_managers):
    deployment, cloud = two_managers
    url = deployment.url
    rng = random.Random(20261204)
    for index in range(1, HOSTS + 1):
        resp = _call('POST', url + '/os-hosts', {'name': 'compute-%d' % index})
        assert resp.status_code == 201, resp.text
    register_addresses(url)
    for kill in range(KILLS):
        # Make room: end or delete some of what runs, start new leases.
        for lease in _leases(url):
            if lease['status'] == 'ACTIVE' and rng.random() < 0.5:
                if rng.random() < 0.5:
                    _call('PUT', url + '/leases/%s' % lease['id'], {'end_date': 'now'})
                else:
                    _call('DELETE', url + '/leases/%s' % lease['id'])
        body = {'name': 'drill-%d' % kill, 'start_date': 'now',
                'end_date': time.strftime('%Y-%m-%d %H:%M',
                                          time.gmtime(time.time() + 3600)),
                'reservations': [_reservation(rng)]}
        if rng.random() < 0.3:      # a lease that only starts later (objects made now)
            body['start_date'] = time.strftime('%Y-%m-%d %H:%M',
                                               time.gmtime(time.time() + 1800))
        created = _call('POST', url + '/leases', body)
        assert created.status_code in (201, 409), created.text
        time.sleep(rng.uniform(0, 0.6))
        _kill_one(deployment, rng)

    # Claims of the killed managers expire (10 s) and are taken over.
    _wait('leases in the state their dates say', lambda: _settled(url), 120)
    # An action (before-start notice) a killed manager was running is done
    # again once its claim expires: none is left running.
    _wait('events still claimed', lambda: [
        (lease['name'], event) for lease in _leases(url) for event in lease['events']
        if event['status'] not in ('DONE', 'UNDONE')], 60)
    leases = _leases(url)
    assert len(leases) >= KILLS // 4
    assert _pools(cloud, leases) == []
    _wait('objects without a live reservation', lambda: _orphans(cloud, _leases(url)), 90)
