"""The production topology in miniature: blazar-api and blazar-manager as
separate processes over RabbitMQ on MariaDB, Nova played by blazar-simulator,
driven with the `openstack reservation` CLI."""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from blazar.tests import backends
from blazar.tests import ports
from blazar.tests.functional.test_cli import cli
from blazar.tests.functional.test_cli import cli_json

BIN = os.path.dirname(sys.executable)


class Processes:

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, *args):
        log = open(self.workdir / ('%s.log' % name), 'w')
        # Its own process group from the start: the supervisor and the
        # workers it forks are killed together (kill_group).
        proc = subprocess.Popen([os.path.join(BIN, name)] + list(args), stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.workdir,
                                start_new_session=True)
        self.procs.append((name, proc, log))
        return proc

    def logs(self):
        return '\n'.join('--- %s ---\n%s' % (name, (self.workdir / ('%s.log' % name))
                                              .read_text()[-3000:])
                         for name, _, _ in self.procs)

    def stop(self):
        for _, proc, _ in self.procs:
            proc.terminate()
        for _, proc, log in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                kill_group(proc)
            log.close()


def kill_group(proc):
    """SIGKILL a process started by ``Processes`` and the workers its
    supervisor forked (its process group), as a crash of the machine."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def _wait_for(url, procs, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except requests.RequestException:
            pass   # not listening yet, or the manager is still starting
        time.sleep(0.3)
    pytest.fail('%s did not answer:\n%s' % (url, procs.logs()))


class Deployment:
    """A MariaDB (or PostgreSQL, or SQLite) database, the simulator,
    ``managers`` blazar-manager processes and ``apis`` blazar-api ones, all
    over RabbitMQ. The database is made on the shared server of
    ``backend``, or on ``server`` (a URL without database) when given.
    ``simulator``: a running ``SimulatorServer`` of the test's own process
    (its faults armed directly), instead of a blazar-simulator process."""

    def __init__(self, workdir, managers=1, extra=(), backend='mariadb', server=None,
                 apis=1, simulator=None):
        self.workdir = workdir
        if backend == 'sqlite' and server is None:
            self._sqlite(workdir, managers, extra, apis, simulator)
            return
        self.db_name = 'blazar_it_%s' % uuid.uuid4().hex[:8]
        if server is not None:
            backend = 'postgresql' if server.startswith('postgresql') else 'mariadb'
        else:
            server = backends.MARIADB_URL if backend == 'mariadb' else backends.POSTGRESQL_URL
        self.admin = sa.create_engine(server, isolation_level='AUTOCOMMIT')
        with self.admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % self.db_name))
        url = '%s/%s' % (server, self.db_name)
        if backend == 'mariadb':
            url += '?charset=utf8mb4'
        self._start(workdir, url, managers, extra, apis, simulator)

    def _sqlite(self, workdir, managers, extra, apis, simulator):
        self.db_name, self.admin = None, None
        self._start(workdir, 'sqlite:///%s' % (workdir / 'blazar.sqlite'), managers,
                    extra, apis, simulator)

    def _start(self, workdir, url, managers, extra, apis, simulator):
        api_ports = [ports.free_port() for _ in range(apis)]
        api_port = api_ports[0]
        self.sim_port = int(simulator.url.rsplit(':', 1)[1]) if simulator else ports.free_port()
        self.config = workdir / 'blazar.conf'
        sim = 'http://127.0.0.1:%d' % self.sim_port
        self.config.write_text('\n'.join([
            '[DEFAULT]',
            'transport_url = %s' % backends.RABBITMQ_URL,
            'auth_strategy = noauth',
            'rpc_response_timeout = 5',
            '[database]',
            'connection = %s' % url,
            '[manager]',
            'rpc_topic = blazar.manager.it-%s' % uuid.uuid4().hex[:8],
            '[api]',
            'bind_host = 127.0.0.1',
            'bind_port = %d' % api_port,
            '[simulator]',
            'bind_port = %d' % self.sim_port,
            'hosts = 4',
            '[nova]',
            'auth_type = admin_token',
            'endpoint = %s/v2.1' % sim,
            'token = admin:admin',
            '[placement]',
            'auth_type = admin_token',
            'endpoint = %s/placement' % sim,
            'token = admin:admin',
            '[neutron]',
            'auth_type = admin_token',
            'endpoint = %s/networking' % sim,
            'token = admin:admin'] + list(extra) + ['']))
        self.procs = Processes(workdir)
        self.urls = ['http://127.0.0.1:%d/v1' % port for port in api_ports]
        self.url = self.urls[0]
        subprocess.run([os.path.join(BIN, 'blazar-db-manage'), '--config-file',
                        str(self.config), 'upgrade', 'head'], check=True,
                       capture_output=True, timeout=120)
        if simulator is None:
            self.procs.start('blazar-simulator', '--config-file', str(self.config))
        for _ in range(managers):
            self.start_manager()
        for index, port in enumerate(api_ports):
            # Each API its own configuration file: its own port.
            config = workdir / ('blazar-api-%d.conf' % index)
            config.write_text('[api]\nbind_port = %d\n' % port)
            self.procs.start('blazar-api', '--config-file', str(self.config),
                             '--config-file', str(config))
        _wait_for(sim + '/v2.1', self.procs)
        for api_url in self.urls:
            _wait_for(api_url + '/leases', self.procs)

    def start_manager(self):
        return self.procs.start('blazar-manager', '--config-file', str(self.config))

    def managers(self):
        return [p for p in self.procs.procs if p[0] == 'blazar-manager']

    def stop(self, drop_database=True):
        """Stop the processes and drop the database (not needed when its
        whole server is thrown away)."""
        self.procs.stop()
        if self.admin is None:
            return
        if not drop_database:
            self.admin.dispose()
            return
        with self.admin.connect() as conn:
            if self.admin.dialect.name == 'postgresql':
                conn.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = :db'), {'db': self.db_name})
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % self.db_name))
        self.admin.dispose()


@pytest.fixture(scope='module', params=['mariadb', 'postgresql'])
def deployment(request, tmp_path_factory):
    for server in (request.param, 'rabbitmq'):
        backends.require(server)
    running = Deployment(tmp_path_factory.mktemp('deployment'), backend=request.param)
    try:
        yield running.url, running.procs
    finally:
        running.stop()


def _gone(url, procs, timeout=20):
    """A deleted active lease is DELETING until the cloud has its
    resources back, then gone."""
    deadline = time.time() + timeout
    while cli_json(url, 'lease', 'list') != []:
        assert time.time() < deadline, procs.logs()
        time.sleep(0.5)


def test_a_host_lease_across_processes(deployment):
    url, procs = deployment
    for name in ('compute-1', 'compute-2'):
        cli(url, 'host', 'create', name)
    end = time.strftime('%Y-%m-%d %H:%M', time.gmtime(time.time() + 3600))
    lease = cli_json(url, 'lease', 'create', '--reservation',
                     'resource_type=physical:host,min=1,max=2,hypervisor_properties=,'
                     'resource_properties=', '--start-date', 'now', '--end-date', end, 'l1',
                     token='alice:proj1')
    assert lease['name'] == 'l1'
    deadline = time.time() + 20
    while cli_json(url, 'lease', 'show', 'l1', token='alice:proj1')['status'] != 'ACTIVE':
        assert time.time() < deadline, procs.logs()
        time.sleep(0.5)
    result = cli(url, 'lease', 'create', '--reservation',
                 'resource_type=physical:host,min=1,max=1,hypervisor_properties=,'
                 'resource_properties=', '--start-date', 'now', '--end-date', end, 'l2',
                 check=False)
    assert 'Not enough hosts available' in result.stderr
    cli(url, 'lease', 'delete', 'l1', token='alice:proj1')
    _gone(url, procs)


def test_an_instance_lease_across_processes(deployment):
    url, procs = deployment
    for name in ('compute-3', 'compute-4'):
        cli(url, 'host', 'create', name)
    end = time.strftime('%Y-%m-%d %H:%M', time.gmtime(time.time() + 3600))
    cli_json(url, 'lease', 'create', '--reservation',
             'resource_type=virtual:instance,vcpus=1,memory_mb=512,disk_gb=1,amount=2,'
             'affinity=False,resource_properties=', '--start-date', 'now',
             '--end-date', end, 'i1', token='alice:proj1')
    deadline = time.time() + 20
    while cli_json(url, 'lease', 'show', 'i1', token='alice:proj1')['status'] != 'ACTIVE':
        assert time.time() < deadline, procs.logs()
        time.sleep(0.5)
    cli(url, 'lease', 'delete', 'i1', token='alice:proj1')
    _gone(url, procs)


def test_manager_restart_is_transparent(deployment):
    """The API answers 503 while no manager listens, and recovers alone."""
    url, procs = deployment
    name, manager, log = next(p for p in procs.procs if p[0] == 'blazar-manager')
    manager.terminate()
    manager.wait(20)
    resp = requests.get(url + '/leases', headers={'X-Auth-Token': 'admin:admin'},
                        timeout=120)
    assert resp.status_code == 503
    assert 'manager did not answer' in resp.json()['error_message']
    config = str(procs.workdir / 'blazar.conf')
    procs.procs.remove((name, manager, log))
    procs.start('blazar-manager', '--config-file', config)
    deadline = time.time() + 60
    while requests.get(url + '/leases', headers={'X-Auth-Token': 'admin:admin'},
                       timeout=120).status_code != 200:
        assert time.time() < deadline, procs.logs()
        time.sleep(0.5)
