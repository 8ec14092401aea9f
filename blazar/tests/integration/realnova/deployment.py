"""Blazar as operators run it, pointed at a real Nova: ``blazar-api`` and
``blazar-manager`` as separate processes over RabbitMQ, on MariaDB.

Nova and Placement are reached through keystoneauth's standard options
only (``auth_type = admin_token`` with ``endpoint`` and ``token`` in
``[nova]`` and ``[placement]``), ``[nova] api_microversion`` left at its
default; the polling host monitor runs every two seconds and healing
looks at every current and future reservation (``healing_interval = 0``).
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import requests
import sqlalchemy as sa

from blazar.tests import backends
from blazar.tests import keystone_fixture
from blazar.tests import ports
from blazar.tests.integration.realnova import stack as realnova_stack

BIN = os.path.dirname(sys.executable)
POLLING_INTERVAL = 2


class Api:
    """Blazar's REST API as one user (noauth tokens are 'user:project')."""

    def __init__(self, url, token='admin:admin'):
        self.url = url
        self.token = token
        self.session = requests.Session()

    def as_user(self, token):
        return Api(self.url, token)

    def request(self, method, path, body=None):
        return self.session.request(method, self.url + path, json=body, timeout=120,
                                    headers={'X-Auth-Token': self.token,
                                             'Accept': 'application/json'})

    def get(self, path):
        return self.request('GET', path)

    def post(self, path, body):
        return self.request('POST', path, body)

    def put(self, path, body):
        return self.request('PUT', path, body)

    def delete(self, path):
        return self.request('DELETE', path)


class Blazar:

    def __init__(self, nova, workdir):
        self.nova = nova
        self.workdir = workdir
        self.db_name = 'blazar_rn_%s' % uuid.uuid4().hex[:8]
        self.db_url = '%s/%s?charset=utf8mb4' % (backends.MARIADB_URL, self.db_name)
        self.port = ports.free_port()
        self.url = 'http://127.0.0.1:%d/v1' % self.port
        self.api = Api(self.url)
        self.config = workdir / 'blazar.conf'
        self._procs = {}
        self._admin_db = None

    def config_text(self):
        return '\n'.join([
            '[DEFAULT]',
            'transport_url = %s' % backends.RABBITMQ_URL,
            'auth_strategy = noauth',
            'rpc_response_timeout = 60',
            '[database]',
            'connection = %s' % self.db_url,
            '[manager]',
            'rpc_topic = blazar.manager.rn-%s' % uuid.uuid4().hex[:8],
            'plugins = physical.host.plugin,virtual.instance.plugin',
            'minutes_before_end_lease = 0',
            '[api]',
            'bind_host = 127.0.0.1',
            'bind_port = %d' % self.port,
            '[nova]',
            'auth_type = admin_token',
            'endpoint = %s' % self.nova.nova_url,
            'token = %s' % realnova_stack.NOVA_TOKEN,
            'server_deletion_timeout = 120',
            '[placement]',
            'auth_type = admin_token',
            'endpoint = %s' % self.nova.placement_url,
            'token = %s' % realnova_stack.PLACEMENT_TOKEN,
            '[physical:host]',
            'enable_polling_monitor = true',
            'polling_interval = %d' % POLLING_INTERVAL,
            'healing_interval = 0',
            ''])

    def start(self):
        self._admin_db = sa.create_engine(backends.MARIADB_URL, isolation_level='AUTOCOMMIT')
        with self._admin_db.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % self.db_name))
        self.config.write_text(self.config_text())
        subprocess.run([os.path.join(BIN, 'blazar-db-manage'), '--config-file',
                        str(self.config), 'upgrade', 'head'], check=True,
                       capture_output=True, timeout=300)
        for name in ('blazar-manager', 'blazar-api'):
            log = open(self.workdir / ('%s.log' % name), 'w')
            self._procs[name] = subprocess.Popen(
                [os.path.join(BIN, name), '--config-file', str(self.config)],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                start_new_session=True, preexec_fn=keystone_fixture.die_with_parent)
            log.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            dead = [n for n, p in self._procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError('%s exited:\n%s' % (', '.join(dead), self.logs()))
            try:
                if self.api.get('/leases').status_code == 200:
                    return self
            except requests.RequestException:
                pass    # not listening yet
            time.sleep(0.5)
        raise RuntimeError('Blazar did not answer on %s:\n%s' % (self.url, self.logs()))

    def stop(self):
        for proc in self._procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self._procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if self._admin_db is not None:
            with self._admin_db.connect() as conn:
                conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % self.db_name))
            self._admin_db.dispose()

    def logs(self, chars=4000):
        return '\n'.join('--- %s ---\n%s' % (name, (self.workdir / ('%s.log' % name))
                                              .read_text(errors='replace')[-chars:])
                         for name in self._procs)
