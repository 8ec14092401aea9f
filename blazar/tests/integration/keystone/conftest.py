"""Blazar behind a real Keystone: keystonemiddleware validates the tokens,
lease creates record trusts.

``keystone`` (session): Keystone from the package index on loopback
(blazar/tests/keystone_fixture.py); the tests skip, saying why, when it
cannot be installed. ``deployment`` (session): blazar-api,
blazar-manager and blazar-simulator as separate processes over RabbitMQ
on MariaDB, with ``auth_strategy = keystone`` and the ``[trustee]``
service user, registered in the Keystone catalog as ``reservation``. The
simulator validates Keystone tokens too (``[simulator] auth_strategy =
keystone``) and is in the catalog as ``compute`` and ``placement``; the
service reaches it with ``[nova]``/``[placement] auth_type = password`` as
the cloud administrator, and with the lease's trust as its owner.
"""
import contextlib
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
from blazar.tests import keystone_fixture
from blazar.tests import ports

BIN = os.path.dirname(sys.executable)


def _say(config):
    """Print on the terminal even while pytest captures output (how long
    the install and the start took)."""
    reporter = config.pluginmanager.get_plugin('terminalreporter')
    capture = config.pluginmanager.get_plugin('capturemanager')

    def say(message):
        line = '[keystone fixture] %s' % message
        if reporter is None or capture is None:
            print(line, file=sys.stderr)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
    return say


@pytest.fixture(scope='session')
def keystone(request, tmp_path_factory):
    say = _say(request.config)
    try:
        keystone_fixture.ensure_venv(say)
    except keystone_fixture.Unavailable as exc:
        pytest.skip(str(exc))
    with keystone_fixture.running_keystone(tmp_path_factory.mktemp('keystone'),
                                           say) as server:
        yield server


class Processes:
    """blazar-* commands of this virtualenv, each in its own process group."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = {}

    def start(self, name, *args):
        log = open(self.workdir / ('%s.log' % name), 'w')
        proc = subprocess.Popen([os.path.join(BIN, name)] + list(args), stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.workdir,
                                start_new_session=True,
                                preexec_fn=keystone_fixture.die_with_parent)
        self.procs[name] = (proc, log)
        return proc

    def logs(self, chars=3000):
        return '\n'.join('--- %s ---\n%s' % (name, (self.workdir / ('%s.log' % name))
                                              .read_text()[-chars:])
                         for name in self.procs)

    def stop(self):
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            log.close()


def _wait_for(url, procs, timeout=90, token=None):
    """Until ``url`` answers below 500 (with ``token``: 200, which for the
    API means that the manager answers too)."""
    headers = {'X-Auth-Token': token} if token else {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = requests.get(url, headers=headers, timeout=30).status_code
            if status == 200 or (token is None and status < 500):
                return
        except requests.RequestException:
            pass   # not listening yet
        for name, (proc, _) in procs.procs.items():
            if proc.poll() is not None:
                pytest.fail('%s exited (%s):\n%s' % (name, proc.returncode,
                                                      procs.logs()))
        time.sleep(0.3)
    pytest.fail('%s did not answer:\n%s' % (url, procs.logs()))


class Deployment:
    def __init__(self, keystone, url, procs):
        self.keystone = keystone
        self.url = url          # the API's /v1
        self.procs = procs


def blazar_config(keystone, db_url, api_port, sim_port, plugins='physical.host.plugin'):
    blazar = keystone.users['blazar']
    credentials = ['auth_type = password', 'auth_url = %s' % keystone.auth_url,
                   'username = %s' % blazar.name, 'password = %s' % blazar.password,
                   'user_domain_name = %s' % keystone_fixture.DOMAIN]
    # Nova and Placement (the simulator, validating Keystone tokens) are
    # found in the catalog and reached as the cloud administrator.
    admin = keystone.users['admin']
    cloud_admin = ['auth_type = password', 'auth_url = %s' % keystone.auth_url,
                   'username = %s' % admin.name, 'password = %s' % admin.password,
                   'user_domain_name = %s' % keystone_fixture.DOMAIN,
                   'project_name = %s' % admin.project,
                   'project_domain_name = %s' % keystone_fixture.DOMAIN,
                   'region_name = %s' % keystone_fixture.REGION]
    return '\n'.join([
        '[DEFAULT]',
        'transport_url = %s' % backends.RABBITMQ_URL,
        'auth_strategy = keystone',
        'rpc_response_timeout = 60',
        '[database]',
        'connection = %s' % db_url,
        '[manager]',
        'rpc_topic = blazar.manager.ks-%s' % uuid.uuid4().hex[:8],
        'plugins = %s' % plugins,
        'minutes_before_end_lease = 0',
        '[api]',
        'bind_host = 127.0.0.1',
        'bind_port = %d' % api_port,
        '[keystone_authtoken]',
        'www_authenticate_uri = %s' % keystone.auth_url,
        'project_name = service',
        'project_domain_name = %s' % keystone_fixture.DOMAIN,
    ] + credentials + [
        '[trustee]',
        # A trust its owner deletes is seen at the next create, not a
        # minute later (test_trusts.py).
        'trust_check_interval = 0',
    ] + credentials + [
        '[simulator]',
        'bind_port = %d' % sim_port,
        'hosts = 3',
        'auth_strategy = keystone',
        '[nova]',
    ] + cloud_admin + [
        '[placement]',
    ] + cloud_admin + [''])


@contextlib.contextmanager
def running_deployment(keystone, workdir, plugins='physical.host.plugin'):
    """blazar-simulator, blazar-manager and blazar-api on a fresh MariaDB
    database, registered in ``keystone``'s catalog; also used by the
    Horizon tier (blazar/tests/integration/horizon/), with both plugins."""
    db_name = 'blazar_ks_%s' % uuid.uuid4().hex[:8]
    admin = sa.create_engine(backends.MARIADB_URL, isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text('CREATE DATABASE %s' % db_name))
    api_port, sim_port = ports.free_port(), ports.free_port()
    config = workdir / 'blazar.conf'
    config.write_text(blazar_config(
        keystone, '%s/%s?charset=utf8mb4' % (backends.MARIADB_URL, db_name),
        api_port, sim_port, plugins))
    keystone.set_endpoints('http://127.0.0.1:%d/v2.1' % sim_port, 'compute')
    keystone.set_endpoints('http://127.0.0.1:%d/placement' % sim_port, 'placement')
    procs = Processes(workdir)
    try:
        subprocess.run([os.path.join(BIN, 'blazar-db-manage'), '--config-file',
                        str(config), 'upgrade', 'head'], check=True,
                       capture_output=True, timeout=120)
        for name in ('blazar-simulator', 'blazar-manager', 'blazar-api'):
            procs.start(name, '--config-file', str(config))
        url = 'http://127.0.0.1:%d/v1' % api_port
        _wait_for('http://127.0.0.1:%d/v2.1' % sim_port, procs)
        _wait_for(url + '/leases', procs, token=keystone.token('admin'))
        keystone.set_endpoints(url)
        yield Deployment(keystone, url, procs)
    finally:
        procs.stop()
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % db_name))
        admin.dispose()


@pytest.fixture(scope='session')
def deployment(keystone, tmp_path_factory):
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    with running_deployment(keystone, tmp_path_factory.mktemp('keystone-deployment')) \
            as running:
        yield running
