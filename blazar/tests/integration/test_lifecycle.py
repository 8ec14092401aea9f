"""Signals to blazar-api and blazar-manager as an operator sends them
(blazar/launcher.py): SIGHUP reloads the configuration (a changed log
level takes effect) with every process staying up; SIGTERM while the
manager is in the middle of cloud work stops it within
``graceful_shutdown_timeout`` with nothing left claimed in the store, and
another manager carries the work on at once; SIGUSR2 writes a Guru
Meditation Report; Ctrl-C stops blazar-all gracefully."""
import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
import sqlalchemy as sa

from blazar.simulator import server as sim_server
from blazar.simulator import state as sim_state
from blazar.tests import backends
from blazar.tests import ports
from blazar.tests import serving
from blazar.tests.integration.test_processes import Deployment

BIN = os.path.dirname(sys.executable)

ADMIN = {'X-Auth-Token': 'admin:admin'}
GRACE = 6


def _children(pid):
    """The worker processes of a supervisor (forked from any of its threads)."""
    found = []
    for task in os.listdir('/proc/%d/task' % pid):
        with open('/proc/%d/task/%s/children' % (pid, task)) as f:
            found += [int(p) for p in f.read().split()]
    return sorted(found)


def _log(deployment, name):
    return (deployment.workdir / ('%s.log' % name)).read_text()


def _wait(predicate, what, deployment, timeout=30):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, '%s:\n%s' % (what, deployment.procs.logs())
        time.sleep(0.2)


def _proc(deployment, name):
    return next(p for n, p, _ in deployment.procs.procs if n == name)


@pytest.fixture
def running(tmp_path):
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    simulator = sim_server.SimulatorServer(sim_state.Cloud(hosts=2))
    deployment = Deployment(tmp_path, simulator=simulator, extra=[
        '[DEFAULT]', 'debug = false', 'graceful_shutdown_timeout = %d' % GRACE,
        '[manager]', 'event_max_wait = 1', 'event_retry_delay = 0.2',
        '[api]', 'workers = 2'])
    try:
        yield deployment, simulator.cloud
    finally:
        simulator.cloud.clear_faults()
        deployment.stop()
        simulator.stop()


def test_sighup_reloads_the_log_level_and_every_process_stays_up(running):
    deployment, _ = running
    api, manager = _proc(deployment, 'blazar-api'), _proc(deployment, 'blazar-manager')
    workers = {proc.pid: _children(proc.pid) for proc in (api, manager)}
    # [api] workers = 2 forks two API processes serving one socket.
    assert [len(workers[api.pid]), len(workers[manager.pid])] == [2, 1], workers
    assert requests.get(deployment.url + '/leases', headers=ADMIN, timeout=30).ok
    before = {name: len(_log(deployment, name)) for name in ('blazar-api', 'blazar-manager')}
    for name in before:
        assert ' DEBUG ' not in _log(deployment, name)

    deployment.config.write_text(deployment.config.read_text().replace(
        'debug = false', 'debug = true'))
    for proc in (api, manager):
        os.kill(proc.pid, signal.SIGHUP)
    for name in before:
        _wait(lambda n=name: 'Configuration reloaded' in _log(deployment, n)[before[n]:],
              '%s did not reload' % name, deployment)
    # A request through both: each now writes DEBUG lines.
    assert requests.get(deployment.url + '/leases', headers=ADMIN, timeout=30).ok
    for name in before:
        _wait(lambda n=name: ' DEBUG ' in _log(deployment, n)[before[n]:],
              '%s logs no DEBUG line after the reload' % name, deployment)
    assert api.poll() is None and manager.poll() is None
    # The same worker processes: reloaded, not restarted.
    assert {proc.pid: _children(proc.pid) for proc in (api, manager)} == workers
    assert requests.get(deployment.url + '/leases', headers=ADMIN, timeout=30).ok


def test_sigusr2_writes_a_guru_meditation_report(running):
    deployment, _ = running
    manager = _proc(deployment, 'blazar-manager')
    worker = _children(manager.pid)[0]
    os.kill(worker, signal.SIGUSR2)
    _wait(lambda: 'Guru Meditation' in _log(deployment, 'blazar-manager'),
          'no report', deployment)
    log = _log(deployment, 'blazar-manager')
    # Every thread's stack: the background loops among them.
    assert 'Threads' in log and 'blazar/utils/worker.py' in log
    assert manager.poll() is None and _children(manager.pid) == [worker]


def _claimed(deployment):
    engine = sa.create_engine(deployment.admin.url.set(database=deployment.db_name))
    try:
        with engine.connect() as conn:
            return {
                'intents': conn.scalar(sa.text(
                    'SELECT COUNT(*) FROM cloud_intents WHERE claimed_by IS NOT NULL')),
                'events': conn.scalar(sa.text(
                    'SELECT COUNT(*) FROM events WHERE claimed_by IS NOT NULL')),
                'deferred_calls': conn.scalar(sa.text(
                    'SELECT COUNT(*) FROM deferred_calls WHERE claimed_by IS NOT NULL')),
            }
    finally:
        engine.dispose()


def _lease_status(deployment, lease_id):
    """None while no manager answers (a 503)."""
    resp = requests.get(deployment.url + '/leases/' + lease_id, headers=ADMIN, timeout=30)
    return resp.json()['lease']['status'] if resp.status_code == 200 else None


def test_sigterm_during_cloud_work_leaves_nothing_claimed(running):
    deployment, cloud = running
    resp = requests.post(deployment.url + '/os-hosts', headers=ADMIN, timeout=30,
                         json={'name': 'compute-1'})
    assert resp.status_code == 201, resp.text
    # Nova hangs on the aggregate change of the lease's start.
    fault = cloud.inject_fault('POST', r'/os-aggregates/\d+/action', status=None,
                               delay=120, times=None)
    end = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
        '%Y-%m-%d %H:%M')
    resp = requests.post(deployment.url + '/leases', headers=ADMIN, timeout=30, json={
        'name': 'busy', 'start_date': 'now', 'end_date': end, 'events': [],
        'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                          'hypervisor_properties': '', 'resource_properties': ''}]})
    assert resp.status_code == 201, resp.text
    lease_id = resp.json()['lease']['id']
    _wait(lambda: fault.hits >= 1, 'the manager never reached Nova', deployment)
    assert _claimed(deployment)['intents'] >= 1

    manager = _proc(deployment, 'blazar-manager')
    started = time.monotonic()
    manager.send_signal(signal.SIGTERM)
    assert manager.wait(GRACE + 10) == 0, deployment.procs.logs()
    took = time.monotonic() - started
    assert took < GRACE + 3, took
    assert _claimed(deployment) == {'intents': 0, 'events': 0, 'deferred_calls': 0}
    assert 'stopped' in _log(deployment, 'blazar-manager')

    # Another manager takes the work on at once (no claim to wait out).
    cloud.clear_faults()
    deployment.start_manager()
    _wait(lambda: _lease_status(deployment, lease_id) == 'ACTIVE',
          'the lease never started', deployment, timeout=60)


def test_ctrl_c_stops_blazar_all_gracefully(tmp_path):
    """The quick start's Ctrl-C (SIGINT to the whole process group) stops
    as SIGTERM does: the worker lets go of its claims and exits 0."""
    port, sim_port = ports.free_port(), ports.free_port()
    config = tmp_path / 'blazar.conf'
    config.write_text('[api]\nbind_port = %d\n[simulator]\nbind_port = %d\n'
                      % (port, sim_port))
    log_path = tmp_path / 'blazar-all.log'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen([os.path.join(BIN, 'blazar-all'), '--config-file',
                                 str(config)], stdout=log, stderr=subprocess.STDOUT,
                                cwd=tmp_path, start_new_session=True)
        try:
            serving.wait_until_serving('http://127.0.0.1:%d/v1/leases' % port, proc,
                                       log_path)
            os.killpg(proc.pid, signal.SIGINT)
            assert proc.wait(30) == 0, log_path.read_text()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    text = log_path.read_text()
    assert 'stopping gracefully' in text and 'blazar-all(0) stopped' in text
