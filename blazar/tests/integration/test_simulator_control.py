"""The simulator's test-only control API (blazar/simulator/control.py)
driven over HTTP against separate blazar-simulator processes: off by
default; when on, faults are armed, listed and cleared, a host fails
silently and recovers, and Blazar (separate processes too) meets the
armed fault and recovers once it is cleared."""
import os
import subprocess
import sys

import requests

from blazar.tests import backends
from blazar.tests import ports
from blazar.tests import serving
from blazar.tests.integration.test_processes import Deployment

BIN = os.path.dirname(sys.executable)
NOVA = {'X-Auth-Token': 'admin:admin'}


def _simulator(tmp_path, *lines):
    port = ports.free_port()
    config = tmp_path / ('sim-%d.conf' % port)
    config.write_text('\n'.join(['[simulator]', 'bind_port = %d' % port, 'hosts = 2']
                                + list(lines)) + '\n')
    log = open(tmp_path / ('sim-%d.log' % port), 'w')
    proc = subprocess.Popen([os.path.join(BIN, 'blazar-simulator'), '--config-file',
                             str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = 'http://127.0.0.1:%d' % port
    serving.wait_until_serving(url + '/v2.1', proc, tmp_path / ('sim-%d.log' % port),
                               timeout=30)
    return url, proc, log


def _stop(proc, log):
    proc.terminate()
    proc.wait(20)
    log.close()


def test_off_by_default(tmp_path):
    url, proc, log = _simulator(tmp_path)
    try:
        assert requests.get(url + '/_simulator/faults', timeout=10).status_code == 404
        assert requests.post(url + '/_simulator/faults', timeout=10, json={
            'method': 'GET', 'path_pattern': '.'}).status_code == 404
    finally:
        _stop(proc, log)


def test_faults_and_the_silent_failure_over_http(tmp_path):
    url, proc, log = _simulator(tmp_path, 'control_api = true')
    control = url + '/_simulator'
    try:
        resp = requests.post(control + '/faults', timeout=10, json={
            'method': 'GET', 'path_pattern': '^/os-aggregates$', 'status': 503,
            'times': 2})
        assert resp.status_code == 201, resp.text
        fault = resp.json()['fault']
        assert (fault['remaining'], fault['hits']) == (2, 0)
        assert requests.post(control + '/faults', timeout=10, json={
            'method': 'GET', 'path_pattern': '.', 'status': 200}).status_code == 400
        assert requests.post(control + '/faults', timeout=10, json={
            'path_pattern': '.'}).status_code == 400

        answer = requests.get(url + '/v2.1/os-aggregates', headers=NOVA, timeout=10)
        assert answer.status_code == 503
        assert 'computeFault' in answer.json() or 'serviceUnavailable' in answer.text
        (listed,) = requests.get(control + '/faults', timeout=10).json()['faults']
        assert (listed['id'], listed['hits'], listed['remaining']) == (fault['id'], 1, 1)
        assert ['GET', '/os-aggregates', None] in requests.get(
            control + '/requests', timeout=10).json()['requests']

        assert requests.delete(control + '/faults', timeout=10).status_code == 204
        assert requests.get(control + '/faults', timeout=10).json() == {'faults': []}
        assert requests.get(url + '/v2.1/os-aggregates', headers=NOVA,
                            timeout=10).status_code == 200

        # The silent failure: nova-compute stops reporting, nothing is sent.
        resp = requests.put(control + '/hosts/compute-1/failure', timeout=10,
                            json={'mode': 'down'})
        assert resp.status_code == 200, resp.text
        states = {s['host']: s['state'] for s in requests.get(
            url + '/v2.1/os-services', headers=NOVA, timeout=10).json()['services']}
        assert states == {'compute-1': 'down', 'compute-2': 'up'}
        assert requests.put(control + '/hosts/compute-1/failure', timeout=10,
                            json={'mode': 'melted'}).status_code == 400
        assert requests.delete(control + '/hosts/compute-1/failure',
                               timeout=10).status_code == 200
        states = {s['host']: s['state'] for s in requests.get(
            url + '/v2.1/os-services', headers=NOVA, timeout=10).json()['services']}
        assert states == {'compute-1': 'up', 'compute-2': 'up'}
        assert requests.put(control + '/hosts/nowhere/failure', timeout=10,
                            json={}).status_code == 404
    finally:
        _stop(proc, log)


def test_blazar_meets_a_fault_armed_from_outside(tmp_path):
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    deployment = Deployment(tmp_path, extra=['[simulator]', 'control_api = true'])
    control = 'http://127.0.0.1:%d/_simulator' % deployment.sim_port
    admin = {'X-Auth-Token': 'admin:admin'}
    try:
        resp = requests.post(control + '/faults', timeout=10, json={
            'method': 'GET', 'path_pattern': '^/os-hypervisors', 'status': 500,
            'times': None})
        assert resp.status_code == 201, resp.text
        refused = requests.post(deployment.url + '/os-hosts', headers=admin, timeout=60,
                                json={'name': 'compute-1'})
        assert refused.status_code >= 400, refused.text
        (fault,) = requests.get(control + '/faults', timeout=10).json()['faults']
        assert fault['hits'] >= 1
        requests.delete(control + '/faults', timeout=10)
        created = requests.post(deployment.url + '/os-hosts', headers=admin, timeout=60,
                                json={'name': 'compute-1'})
        assert created.status_code == 201, created.text
    finally:
        deployment.stop()
