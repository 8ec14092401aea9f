"""The Nova fault drill: two APIs and two managers (separate processes over
RabbitMQ) while tenants create, update and delete host, instance and
floating-IP leases that start and end all the time, and a quarter of the
Nova, Placement and Neutron calls fail. Once Nova recovers, every lease reaches the state its dates
say (none in ERROR), every host is in exactly one pool, nothing carrying
the service's marks is left without a live reservation, and no answer was
a bare 500.

The failure window is ``$BLAZAR_DRILL_SECONDS`` (30 s in the suite; the
issue's figure, 150 s, by hand)."""
import datetime
import os
import random
import threading
import time

import pytest
import requests

from blazar.simulator import neutron_state
from blazar.simulator import server as sim_server
from blazar.simulator import state as sim_state
from blazar.tests import backends
from blazar.tests.integration.test_processes import Deployment

SECONDS = float(os.environ.get('BLAZAR_DRILL_SECONDS', '30'))
RECOVERY = 120
HOSTS = 8
# Registered floating IPs of the simulated Neutron's network "public".
PUBLIC = neutron_state.fixed_id('network', 'public')
ADDRESSES = ['172.24.4.%d' % i for i in range(100, 112)]
TENANTS = 6
ADMIN = {'X-Auth-Token': 'admin:admin'}
CONFIG = ['[manager]', 'event_retry_delay = 0.2', 'event_retry_max_delay = 2',
          'event_max_wait = 1', 'event_claim_timeout = 10', 'orphan_interval = 2',
          'orphan_grace_period = 4', 'reconcile_interval = 10', 'converge_workers = 4',
          '[nova]', 'server_deletion_timeout = 5']


@pytest.fixture(params=['sqlite', 'mariadb', 'postgresql'])
def drill(request, tmp_path):
    for server in {request.param, 'rabbitmq'} - {'sqlite'}:
        backends.require(server)
    simulator = sim_server.SimulatorServer(sim_state.Cloud(hosts=HOSTS, vcpus=8))
    deployment = Deployment(tmp_path, managers=2, apis=2, backend=request.param,
                            simulator=simulator, extra=CONFIG)
    try:
        yield deployment, simulator.cloud
    finally:
        deployment.stop()
        simulator.stop()


def reservation(rng):
    """A host, instance or floating-IP reservation, a third each."""
    draw = rng.random()
    if draw < 0.34:
        return {'resource_type': 'physical:host', 'min': 1, 'max': 1,
                'hypervisor_properties': '', 'resource_properties': ''}
    if draw < 0.67:
        return {'resource_type': 'virtual:instance', 'vcpus': 1, 'memory_mb': 512,
                'disk_gb': 1, 'amount': rng.randint(1, 2), 'affinity': None,
                'resource_properties': ''}
    return {'resource_type': 'virtual:floatingip', 'network_id': PUBLIC,
            'amount': rng.randint(1, 2)}


def register_addresses(url):
    for address in ADDRESSES:
        resp = requests.post(url + '/floatingips', json={
            'floating_network_id': PUBLIC, 'floating_ip_address': address},
            headers=ADMIN, timeout=30)
        assert resp.status_code == 201, resp.text

class Tenants:
    """Tenants writing leases through both APIs; every answer is kept."""

    def __init__(self, urls, seed):
        self.urls = urls
        self.rng = random.Random(seed)
        self.answers = []
        self.created = {}       # resource type -> leases created
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def call(self, method, path, body=None, token='admin:admin'):
        url = self.rng.choice(self.urls)
        try:
            resp = requests.request(method, url + path, json=body, timeout=30,
                                    headers={'X-Auth-Token': token})
        except requests.RequestException as exc:
            with self.lock:
                self.answers.append((method, path, None, str(exc)))
            return None
        with self.lock:
            self.answers.append((method, path, resp.status_code, resp.text[:300]))
        return resp

    def _reservation(self, rng):
        return reservation(rng)

    def work(self, index):
        rng = random.Random(self.rng.random())
        token = 'user%d:proj%d' % (index, index)
        while not self.stop.is_set():
            end = time.strftime('%Y-%m-%d %H:%M',
                                time.gmtime(time.time() + 60 * rng.randint(1, 2)))
            resp = self.call('POST', '/leases', {
                'name': 'd%d' % index, 'start_date': 'now', 'end_date': end,
                'reservations': [self._reservation(rng)]}, token)
            if resp is None or resp.status_code != 201:
                time.sleep(rng.uniform(0.2, 1))
                continue
            lease = resp.json()['lease']
            kind = lease['reservations'][0]['resource_type']
            with self.lock:
                self.created[kind] = self.created.get(kind, 0) + 1
            self.stop.wait(rng.uniform(0.5, 3))
            action = rng.choice(['end', 'delete', 'grow', 'rename', 'keep'])
            path = '/leases/%s' % lease['id']
            res = lease['reservations'][0]
            if action == 'end':
                self.call('PUT', path, {'end_date': 'now'}, token)
            elif action == 'delete':
                self.call('DELETE', path, None, token)
            elif action == 'grow':
                change = ({'min': 2, 'max': 2} if res['resource_type'] == 'physical:host'
                          else {'amount': res['amount'] + 1})
                self.call('PUT', path, {'reservations': [dict(change, id=res['id'])]},
                          token)
            elif action == 'rename':
                self.call('PUT', path, {'name': 'r%d' % index}, token)


def _leases(url):
    return requests.get(url + '/leases', headers=ADMIN, timeout=30).json()['leases']


def _expected(lease, now):
    end = datetime.datetime.fromisoformat(lease['end_date'])
    start = datetime.datetime.fromisoformat(lease['start_date'])
    if end <= now:
        return 'TERMINATED'
    return 'ACTIVE' if start <= now else 'PENDING'


def _settled(url):
    """Leases not (yet) in the state their dates say, as (name, status, want)."""
    now = datetime.datetime.utcnow()
    wrong = []
    for lease in _leases(url):
        want = _expected(lease, now)
        if lease['status'] != want or lease['status_reason']:
            wrong.append((lease['id'], lease['status'], want, lease['status_reason']))
    return wrong


def _pools(cloud, leases):
    """Every host in exactly one pool: the freepool, or the aggregate of
    an ACTIVE host reservation."""
    active = {r['id'] for lease in leases if lease['status'] == 'ACTIVE'
              for r in lease['reservations'] if r['resource_type'] == 'physical:host'}
    pools = {a['name']: a for a in cloud.list_aggregates()
             if a['name'] == 'freepool' or (a.get('availability_zone') or '').startswith(
                 'blazar_')}
    problems = []
    for host in ('compute-%d' % i for i in range(1, HOSTS + 1)):
        places = [name for name, agg in pools.items() if host in agg['hosts']]
        if len(places) != 1 or not (places[0] == 'freepool' or places[0] in active):
            problems.append((host, places))
    return problems


def _orphans(cloud, leases):
    """Reservation ids that objects carrying our marks name, with no live
    (PENDING or ACTIVE) reservation behind them."""
    live = {r['id'] for lease in leases if lease['status'] in ('PENDING', 'ACTIVE')
            for r in lease['reservations']}
    named = set()
    for agg in cloud.list_aggregates():
        if agg['name'] != 'freepool':
            named.add(agg['name'])
    for flavor in cloud.list_flavors(sim_state.ADMIN, is_public=None):
        if flavor['name'].startswith('reservation:'):
            named.add(flavor['id'])
    for group in cloud.list_server_groups(sim_state.ADMIN, all_projects=True):
        named.add(group['name'][len('reservation:'):])
    for rc in cloud.placement.list_resource_classes():
        if rc.startswith('CUSTOM_RESERVATION_'):
            named.add(rc[len('CUSTOM_RESERVATION_'):].lower().replace('_', '-'))
    # Floating IPs exist only for live reservations that started.
    for fip in cloud.neutron.list_floatingips(sim_state.ADMIN):
        named.add(fip['description'][len('blazar reservation:'):]
                  if fip['description'].startswith('blazar reservation:')
                  else 'untagged floating IP %s' % fip['floating_ip_address'])
    return sorted(named - live)


def _wait(what, check, timeout):
    deadline = time.time() + timeout
    while True:
        problems = check()
        if not problems:
            return
        assert time.time() < deadline, '%s: %s' % (what, problems[:10])
        time.sleep(1)


def test_a_flaky_nova_delays_leases_and_never_strands_them(drill):
    deployment, cloud = drill
    for index in range(1, HOSTS + 1):
        resp = requests.post(deployment.url + '/os-hosts', json={
            'name': 'compute-%d' % index}, headers=ADMIN, timeout=30)
        assert resp.status_code == 201, resp.text
    register_addresses(deployment.url)
    tenants = Tenants(deployment.urls, seed=20261204)
    threads = [threading.Thread(target=tenants.work, args=(i,)) for i in range(TENANTS)]
    for rule in ((500, 0.125), (503, 0.125)):
        cloud.inject_fault('*', r'.', status=rule[0], times=None, probability=rule[1])
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    tenants.stop.set()
    for thread in threads:
        thread.join(60)
    cloud.clear_faults()

    bare = [a for a in tenants.answers if a[2] is not None and a[2] >= 500
            and a[2] not in (502, 503)]
    assert bare == [], bare[:5]
    assert any(a[2] == 201 for a in tenants.answers), tenants.answers[:5]
    print('leases created during the drill: %s' % tenants.created)
    assert tenants.created.get('virtual:floatingip'), tenants.created

    _wait('leases in the state their dates say', lambda: _settled(deployment.url),
          RECOVERY)
    leases = _leases(deployment.url)
    assert not [lease for lease in leases if lease['status'] == 'ERROR']
    assert _pools(cloud, leases) == []
    _wait('objects without a live reservation',
          lambda: _orphans(cloud, _leases(deployment.url)), 60)
