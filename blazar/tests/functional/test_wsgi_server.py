"""The WSGI entry point under a real WSGI server: ``gunicorn
blazar.api.wsgi:application`` reading ``$BLAZAR_CONFIG_FILE``, as a
deployment runs it (uwsgi takes the same module, see
etc/blazar/blazar-api-uwsgi.ini)."""
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

from oslo_config import cfg
import pytest
import requests

from blazar import rpc
from blazar.api import controllers
from blazar.db import api as db_api
from blazar.db import migration
from blazar.manager import service as manager_service
from blazar.tests import backends
from blazar.tests import ports

CONF = cfg.CONF
BIN = os.path.dirname(sys.executable)
GUNICORN = os.path.join(BIN, 'gunicorn')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
UWSGI_INI = os.path.join(ROOT, 'etc', 'blazar', 'blazar-api-uwsgi.ini')

# The fake transport only reaches a manager in the same process, so that
# variant starts one inside the gunicorn worker; the RabbitMQ variant is a
# real deployment's split (API under gunicorn, manager elsewhere: here).
IN_WORKER_MANAGER = '''
def post_worker_init(worker):
    from blazar.manager import service
    service.ManagerService().start()
'''


@pytest.fixture
def migrated_sqlite(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'blazar.sqlite')
    CONF.set_override('connection', url, group='database')
    db_api.reset_facade()
    migration.upgrade('head')
    yield url
    db_api.reset_facade()


def write_config(tmp_path, db_url, transport_url, topic):
    path = tmp_path / 'blazar.conf'
    path.write_text('\n'.join([
        '[DEFAULT]', 'auth_strategy = noauth', 'transport_url = %s' % transport_url,
        '[database]', 'connection = %s' % db_url,
        '[manager]', 'rpc_topic = %s' % topic, 'minutes_before_end_lease = 0',
        '[oslo_messaging_notifications]', 'driver = noop',
        '[oslo_middleware]', 'enable_proxy_headers_parsing = true', '']))
    return path


class Gunicorn:

    def __init__(self, tmp_path, config_file, gunicorn_conf='',
                 app='blazar.api.wsgi:application'):
        if not os.path.exists(GUNICORN):
            pytest.skip('gunicorn is not installed in %s (pip install gunicorn; it is '
                        'in test-requirements.txt)' % BIN)
        self.port = ports.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        conf_py = tmp_path / 'gunicorn.conf.py'
        # No control socket in $HOME (gunicorn >= 24; older ones ignore it).
        conf_py.write_text('control_socket_disable = True\n' + gunicorn_conf)
        self.log = open(tmp_path / 'gunicorn.log', 'w+')
        env = dict(os.environ, BLAZAR_CONFIG_FILE=str(config_file))
        env.pop('BLAZAR_WSGI_NO_AUTOLOAD', None)
        self.proc = subprocess.Popen(
            [GUNICORN, '-c', str(conf_py), '--bind', '127.0.0.1:%d' % self.port,
             '--workers', '1', '--threads', '4', '--timeout', '60',
             app],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(tmp_path))

    def output(self):
        self.log.seek(0)
        return self.log.read()[-4000:]

    def wait(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('gunicorn exited with %s:\n%s'
                                     % (self.proc.returncode, self.output()))
            try:
                if requests.get(self.url + '/healthcheck', timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError('gunicorn did not answer in %ss:\n%s'
                             % (timeout, self.output()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def exercise(url):
    headers = {'X-Auth-Token': 'alice:proj1'}
    resp = requests.get(url + '/v1/leases', headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {'leases': []}
    assert resp.headers['X-Openstack-Request-Id'].startswith('req-')
    resp = requests.post(url + '/v1/leases', headers=headers, timeout=30, json={
        'name': 'under-gunicorn', 'start_date': '2099-01-01 10:00',
        'end_date': '2099-01-02 10:00', 'reservations': []})
    assert resp.status_code == 201, resp.text
    leases = requests.get(url + '/v1/leases', headers=headers, timeout=30).json()
    assert [lease['name'] for lease in leases['leases']] == ['under-gunicorn']
    versions = requests.get(url + '/', headers={'X-Forwarded-Proto': 'https'},
                            timeout=30)
    assert versions.status_code == 300
    assert versions.json()['versions'][0]['links'][0]['href'] == \
        'https://127.0.0.1:%d/v1' % int(url.rsplit(':', 1)[1])


def test_gunicorn_serves_the_api_with_a_manager_in_process(tmp_path, migrated_sqlite):
    config_file = write_config(tmp_path, migrated_sqlite, 'fake:/', 'blazar.manager')
    server = Gunicorn(tmp_path, config_file, IN_WORKER_MANAGER)
    try:
        exercise(server.wait().url)
    finally:
        server.stop()


def test_upstream_wsgi_path_serves_the_api(tmp_path, migrated_sqlite):
    """blazar.wsgi.api:application, where upstream's deployment tools
    (DevStack, Kolla, OpenStack-Ansible) point uwsgi."""
    config_file = write_config(tmp_path, migrated_sqlite, 'fake:/', 'blazar.manager')
    server = Gunicorn(tmp_path, config_file, IN_WORKER_MANAGER,
                      app='blazar.wsgi.api:application')
    try:
        exercise(server.wait().url)
    finally:
        server.stop()


def test_gunicorn_api_talks_to_a_separate_manager_over_rabbitmq(tmp_path,
                                                                migrated_sqlite):
    backends.require('rabbitmq')
    topic = 'blazar.manager.%s' % uuid.uuid4().hex[:8]
    config_file = write_config(tmp_path, migrated_sqlite, backends.RABBITMQ_URL, topic)
    CONF.set_override('transport_url', backends.RABBITMQ_URL)
    CONF.set_override('rpc_topic', topic, group='manager')
    rpc.cleanup()
    manager = manager_service.ManagerService()
    manager.start()
    server = Gunicorn(tmp_path, config_file)
    try:
        exercise(server.wait().url)
    finally:
        server.stop()
        manager.stop()
        controllers.reset_manager()
        rpc.cleanup()


def test_the_example_uwsgi_configuration_serves_the_api(tmp_path, migrated_sqlite):
    """etc/blazar/blazar-api-uwsgi.ini as shipped, but for the address, the
    configuration file and the virtualenv (uwsgi is not in the test
    requirements: it compiles from source; pip install uwsgi to run this)."""
    uwsgi = os.path.join(BIN, 'uwsgi')
    if not os.path.exists(uwsgi):
        uwsgi = shutil.which('uwsgi')
    if not uwsgi:
        pytest.skip('uwsgi is not installed (pip install uwsgi into the venv to '
                    'check etc/blazar/blazar-api-uwsgi.ini)')
    config_file = write_config(tmp_path, migrated_sqlite, 'fake:/', 'blazar.manager')
    port = ports.free_port()
    with open(UWSGI_INI) as f:
        ini = f.read()
    ini = re.sub(r'(?m)^env = BLAZAR_CONFIG_FILE=.*$',
                 'env = BLAZAR_CONFIG_FILE=%s' % config_file, ini)
    ini = re.sub(r'(?m)^http-socket = .*$', 'http-socket = 127.0.0.1:%d' % port, ini)
    ini += 'virtualenv = %s\nprocesses = 1\n' % sys.prefix
    ini_path = tmp_path / 'uwsgi.ini'
    ini_path.write_text(ini)
    log = open(tmp_path / 'uwsgi.log', 'w+')
    proc = subprocess.Popen([uwsgi, '--ini', str(ini_path)], stdout=log,
                            stderr=subprocess.STDOUT, cwd=str(tmp_path))
    url = 'http://127.0.0.1:%d' % port
    try:
        deadline = time.time() + 60
        while True:
            try:
                resp = requests.get(url + '/healthcheck', timeout=5)
                if resp.status_code == 200:
                    break
            except requests.RequestException:
                pass
            log.seek(0)
            assert proc.poll() is None and time.time() < deadline, log.read()[-4000:]
            time.sleep(0.2)
        versions = requests.get(url + '/', timeout=10)
        assert versions.status_code == 300
        assert versions.json()['versions'][0]['links'][0]['href'] == url + '/v1'
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
