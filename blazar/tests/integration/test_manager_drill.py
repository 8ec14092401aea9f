"""Several managers, and kill -9 at random points of lease starts and ends.

Two blazar-manager processes share the RPC topic and the events (each
event claimed in the store with an expiry); one of them is killed with
SIGKILL at a random moment of a start or an end, twenty times, and started
again. Afterwards no lease is stuck, every event ran exactly once to its
end, and no host is outside both the freepool and its reservation's
aggregate."""
import os
import random
import signal
import time

from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from novaclient import client as nova_client
import pytest
import requests

from blazar.tests import backends
from blazar.tests.integration.test_processes import Deployment

KILLS = 20
ADMIN = {'X-Auth-Token': 'admin:admin'}
STABLE = ('PENDING', 'ACTIVE', 'TERMINATED')


@pytest.fixture(scope='module', params=['mariadb', 'postgresql'])
def two_managers(request, tmp_path_factory):
    for server in (request.param, 'rabbitmq'):
        backends.require(server)
    running = Deployment(tmp_path_factory.mktemp('drill'), managers=2,
                         backend=request.param, extra=[
        '[manager]', 'event_claim_timeout = 10', 'event_retry_delay = 0.5',
        'event_retry_max_delay = 2', 'event_max_wait = 1',
        '[nova]', 'server_deletion_timeout = 5'])
    try:
        yield running
    finally:
        running.stop()


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
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    log.close()
    deployment.procs.procs.remove((name, proc, log))
    deployment.start_manager()


def _nova(deployment):
    sess = ks_session.Session(auth=token_endpoint.Token(
        'http://127.0.0.1:%d/v2.1' % deployment.sim_port, 'admin:admin'))
    return nova_client.Client('2.87', session=sess)


def test_killing_managers_at_random_loses_no_event(two_managers):
    deployment, url = two_managers, two_managers.url
    rng = random.Random(20261124)
    for index in range(1, 5):
        resp = _call('POST', url + '/os-hosts', {'name': 'compute-%d' % index})
        assert resp.status_code == 201, resp.text
    for kill in range(KILLS):
        # Make room: end what holds every host now, start a new lease.
        for lease in _leases(url):
            if lease['status'] == 'ACTIVE' and rng.random() < 0.7:
                _call('PUT', url + '/leases/%s' % lease['id'], {'end_date': 'now'})
        body = {'name': 'drill-%d' % kill, 'start_date': 'now',
                'end_date': time.strftime('%Y-%m-%d %H:%M',
                                          time.gmtime(time.time() + 3600)),
                'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                                  'hypervisor_properties': '',
                                  'resource_properties': ''}]}
        created = _call('POST', url + '/leases', body)
        assert created.status_code in (201, 409), created.text
        time.sleep(rng.uniform(0, 0.6))
        _kill_one(deployment, rng)

    # Claims of the killed managers expire (10 s) and are taken over.
    deadline = time.time() + 120
    while True:
        leases = _leases(url)
        unsettled = [(lease['name'], lease['status'],
                      [(e['event_type'], e['status']) for e in lease['events']])
                     for lease in leases if lease['status'] not in STABLE
                     or any(e['status'] == 'IN_PROGRESS'
                            or (e['status'] != 'DONE' and e['event_type'] == 'start_lease')
                            for e in lease['events'])]
        if not unsettled:
            break
        assert time.time() < deadline, (unsettled, deployment.procs.logs())
        time.sleep(1)

    assert len(leases) >= KILLS // 2
    for lease in leases:
        for event in lease['events']:
            assert event['status'] in ('DONE', 'UNDONE'), (lease['name'], event)
    nova = _nova(deployment)
    pools = {a.name: set(a.hosts) for a in nova.aggregates.list()}
    active = {r['id'] for lease in leases if lease['status'] == 'ACTIVE'
              for r in lease['reservations']}
    for index in range(1, 5):
        name = 'compute-%d' % index
        places = [pool for pool, hosts in pools.items() if name in hosts]
        assert places, '%s is in no pool: %s' % (name, pools)
        assert len(places) == 1, (name, places)
        assert places[0] == 'freepool' or places[0] in active, (name, places)
    for reservation_id in active:
        assert pools.get(reservation_id), reservation_id
