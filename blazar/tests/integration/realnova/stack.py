"""A real Nova 34 + Placement 16 (+ Glance) on loopback, Keystone-less,
with the fake virt driver and N fake compute hosts ``host1``..``hostN``.

What a running ``RealNova`` is (the recipe proven by shared/realnova's
up.sh, redone here so that the project depends on nothing beside it):

* its own MariaDB databases and its own RabbitMQ virtual host, named after
  a random tag and removed by ``stop``, and free loopback ports: two runs
  on one machine do not see each other;
* nova-api and placement-api under gunicorn; Nova 34 has no ``noauth2``
  any more, so ``nova_side/realnova_noauth.py`` replaces keystonemiddleware
  (``X-Auth-Token: <user>:<project>``, user ``admin`` has the admin role);
  Placement keeps its own ``noauth2`` (token ``admin``);
* nova-conductor, nova-scheduler with Nova's default filters and the
  blazar-nova ``BlazarFilter`` (as doc/source/install/manual.rst deploys
  it), and one nova-compute per host with
  ``nova_side/realnova_fakedriver.py`` (10 vCPU, 8 GiB, 1028 GB;
  restartable, so a host can fail and come back);
* Glance (file store) holding one tiny image ``IMAGE_ID`` for boots, and
  ``nova_side/fake_services.py`` answering the few Neutron and Keystone
  reads Nova makes (servers boot with ``networks: none``).

Every process runs in its own session and receives SIGTERM if the test
process dies, so an interrupted run leaves nothing behind.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import time
import urllib.parse
import uuid

import requests
import sqlalchemy as sa

from blazar.tests import backends
from blazar.tests import keystone_fixture
from blazar.tests import ports
from blazar.tests.integration.realnova import install

IMAGE_ID = '11111111-2222-3333-4444-555555555555'
NOVA_TOKEN = 'admin:admin'
PLACEMENT_TOKEN = 'admin'
COMPUTE_VERSION = 'compute 2.53'
# Nova's default filters plus BlazarFilter: what doc/source/install/manual.rst
# tells operators to run (instance reservations need nothing more: their
# flavor's custom resource class exists only on the reserved hosts).
FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,'
           'ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,BlazarFilter')
BLAZAR_FILTER = 'blazarnova.scheduler.filters.blazar_filter.BlazarFilter'
START_TIMEOUT = 300


class StackError(Exception):
    """The stack did not come up; the message carries the logs' tails."""


class RealNova:
    """One stack: ``start()``, the scenarios, ``stop()`` (see above)."""

    def __init__(self, bins, workdir, computes=3, say=print):
        self.bins = {name: pathlib.Path(path) for name, path in bins.items()}
        self.workdir = pathlib.Path(workdir)
        self.etc = self.workdir / 'etc'
        self.logs_dir = self.workdir / 'logs'
        self.say = say
        self.hosts = ['host%d' % i for i in range(1, computes + 1)]
        self.tag = uuid.uuid4().hex[:8]
        self.ports = {name: ports.free_port() for name in ('nova', 'placement', 'glance', 'stub')}
        self.nova_url = 'http://127.0.0.1:%d/v2.1' % self.ports['nova']
        self.placement_url = 'http://127.0.0.1:%d' % self.ports['placement']
        self.glance_url = 'http://127.0.0.1:%d' % self.ports['glance']
        self.stub_url = 'http://127.0.0.1:%d' % self.ports['stub']
        self.databases = {kind: 'rn_%s_%s' % (self.tag, kind)
                          for kind in ('nova_api', 'nova_cell0', 'nova', 'placement',
                                       'glance')}
        self.vhost = None
        self._procs = {}
        self._admin_db = None

    # --- life cycle -----------------------------------------------------------
    def start(self):
        started = time.monotonic()
        for path in (self.etc / 'nova', self.etc / 'placement', self.etc / 'glance',
                     self.logs_dir, self.workdir / 'data' / 'locks',
                     self.workdir / 'data' / 'images'):
            path.mkdir(parents=True, exist_ok=True)
        self._create_databases()
        self._create_vhost()
        self._write_configs()
        self._sync_schemas()
        self.say('realnova: schemas ready in %.0f s' % (time.monotonic() - started))
        self._start_services()
        self._wait_http(self.placement_url + '/')
        self._wait_http(self.glance_url + '/versions')
        self._wait_http(self.nova_url.rsplit('/', 1)[0] + '/')
        self._upload_image()
        self._map_computes()
        self.say('realnova: Nova %s, Placement %s, %d compute hosts up in %.0f s'
                 % (self.nova_url, self.placement_url, len(self.hosts),
                    time.monotonic() - started))
        return self

    def stop(self):
        """Kill every service and remove the databases and the virtual
        host. SIGKILL at once: nothing of this stack outlives it, and a
        graceful stop costs gunicorn and oslo.service up to 30 s each."""
        for proc in self._procs.values():
            _signal_group(proc, signal.SIGKILL)
        for proc in self._procs.values():
            proc.wait(30)
        self._procs.clear()
        self._drop_databases()
        self._delete_vhost()

    # --- failure and recovery of a compute host ------------------------------
    def stop_compute(self, host):
        """Kill a host's nova-compute, as a crash would (its servers stay
        recorded on it; Nova sees it down once it misses its reports, or at
        once when forced down)."""
        proc = self._procs.pop('nova-compute-%s' % host)
        _signal_group(proc, signal.SIGKILL)
        proc.wait(30)

    def start_compute(self, host):
        """Start a host's nova-compute again (same node identity)."""
        self._start('nova-compute-%s' % host, self.bins['nova'] / 'nova-compute',
                    '--config-file', self.etc / 'nova' / 'nova.conf',
                    '--config-file', self.etc / 'nova' / ('compute-%s.conf' % host),
                    '--log-file', self.logs_dir / ('nova-compute-%s.log' % host))

    def compute_services(self):
        """``{host: os-services entry}`` of the nova-compute services."""
        resp = self.nova_request('GET', '/os-services?binary=nova-compute')
        return {s['host']: s for s in resp.json()['services']}

    def nova_request(self, method, path, token=NOVA_TOKEN, version=COMPUTE_VERSION,
                     **kwargs):
        """A raw compute API call (``path`` after /v2.1); the response."""
        headers = {'X-Auth-Token': token, 'OpenStack-API-Version': version}
        headers.update(kwargs.pop('headers', {}))
        return requests.request(method, self.nova_url + path, headers=headers,
                                timeout=60, **kwargs)

    def logs(self, chars=2500, names=None):
        """The tails of the services' logs (for failure messages)."""
        out = []
        for path in sorted(self.logs_dir.glob('*')):
            if names is None or any(n in path.name for n in names):
                text = path.read_text(errors='replace')[-chars:]
                if text.strip():
                    out.append('--- %s ---\n%s' % (path.name, text))
        return '\n'.join(out)

    # --- MariaDB and RabbitMQ -------------------------------------------------
    def _db_url(self, kind):
        return '%s/%s?charset=utf8mb4' % (backends.MARIADB_URL, self.databases[kind])

    def _create_databases(self):
        self._admin_db = sa.create_engine(backends.MARIADB_URL, isolation_level='AUTOCOMMIT')
        with self._admin_db.connect() as conn:
            for name in self.databases.values():
                conn.execute(sa.text('CREATE DATABASE %s CHARACTER SET utf8mb4' % name))

    def _drop_databases(self):
        if self._admin_db is None:
            return
        with self._admin_db.connect() as conn:
            for name in self.databases.values():
                conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        self._admin_db.dispose()
        self._admin_db = None

    def _rabbitmqctl(self, *args):
        return subprocess.run(['rabbitmqctl', '-q'] + list(args), capture_output=True,
                              text=True, timeout=60)

    def _create_vhost(self):
        """A virtual host of our own: Nova's queues (``compute.host1``...)
        would otherwise be shared with any other Nova on the broker. Without
        ``rabbitmqctl`` (a remote broker) the URL's own virtual host is used."""
        url = urllib.parse.urlsplit(backends.RABBITMQ_URL)
        vhost = 'realnova-%s' % self.tag
        user = urllib.parse.unquote(url.username or 'guest')
        try:
            made = self._rabbitmqctl('add_vhost', vhost).returncode == 0 and \
                self._rabbitmqctl('set_permissions', '-p', vhost, user,
                                  '.*', '.*', '.*').returncode == 0
        except (OSError, subprocess.SubprocessError):
            made = False
        if made:
            self.vhost = vhost
            self.transport_url = urllib.parse.urlunsplit(
                url._replace(path='/' + urllib.parse.quote(vhost, safe='')))
        else:
            self.say('realnova: rabbitmqctl could not make a virtual host; Nova '
                     'uses the one of %s' % backends.RABBITMQ_URL)
            self.transport_url = backends.RABBITMQ_URL

    def _delete_vhost(self):
        if self.vhost is not None:
            try:
                self._rabbitmqctl('delete_vhost', self.vhost)
            except (OSError, subprocess.SubprocessError) as exc:
                self.say('realnova: virtual host %s not deleted: %s' % (self.vhost, exc))
            self.vhost = None

    # --- configuration --------------------------------------------------------
    def _write_configs(self):
        etc, data = self.etc, self.workdir / 'data'
        (etc / 'placement' / 'placement.conf').write_text(_ini({
            'DEFAULT': {'log_file': self.logs_dir / 'placement-api.log'},
            'api': {'auth_strategy': 'noauth2'},
            'placement_database': {'connection': self._db_url('placement')},
        }))
        shutil.copy(self.bins['glance'].parent / 'etc' / 'glance' / 'glance-api-paste.ini',
                    etc / 'glance' / 'glance-api-paste.ini')
        (etc / 'glance' / 'glance-api.conf').write_text(_ini({
            'DEFAULT': {'log_file': self.logs_dir / 'glance-api.log',
                        'enabled_backends': 'file:file',
                        'worker_self_reference_url': self.glance_url},
            'glance_store': {'default_backend': 'file'},
            'file': {'filesystem_store_datadir': data / 'images'},
            'os_glance_staging_store': {'filesystem_store_datadir': data / 'staging'},
            'os_glance_tasks_store': {'filesystem_store_datadir': data / 'tasks'},
            'database': {'connection': self._db_url('glance')},
            'paste_deploy': {'config_file': etc / 'glance' / 'glance-api-paste.ini'},
            # Glance's unauthenticated context has no roles: the legacy
            # rules let it add the image.
            'oslo_policy': {'enforce_new_defaults': 'False', 'enforce_scope': 'False'},
        }))
        (etc / 'nova' / 'nova.conf').write_text(self._nova_conf())
        # Nova 34's paste pipeline only knows keystonemiddleware: swap it.
        paste = (self.bins['nova'].parent / 'etc' / 'nova' / 'api-paste.ini').read_text()
        paste = paste.replace(' authtoken keystonecontext', ' realnovanoauth keystonecontext')
        paste += ('\n[filter:realnovanoauth]\n'
                  'paste.filter_factory = realnova_noauth:filter_factory\n')
        (etc / 'nova' / 'api-paste.ini').write_text(paste)
        for host in self.hosts:
            state = data / host
            (state / 'instances').mkdir(parents=True, exist_ok=True)
            (etc / 'nova' / ('compute-%s.conf' % host)).write_text(_ini({'DEFAULT': {
                'host': host, 'state_path': state, 'instances_path': state / 'instances'}}))

    def _nova_conf(self):
        data = self.workdir / 'data'
        token_auth = {'auth_type': 'admin_token', 'token': PLACEMENT_TOKEN}
        return _ini({
            'DEFAULT': {
                'state_path': data / 'nova', 'transport_url': self.transport_url,
                'compute_driver': install.FAKE_DRIVER + '.StableFakeDriver',
                'my_ip': '127.0.0.1', 'heal_instance_info_cache_interval': '-1',
                # hypervisor figures and Placement follow within seconds
                'update_resources_interval': '10'},
            'api_database': {'connection': self._db_url('nova_api')},
            'database': {'connection': self._db_url('nova')},
            'conductor': {'workers': '1'},
            'scheduler': {'workers': '1', 'discover_hosts_in_cells_interval': '-1'},
            'filter_scheduler': {
                'enabled_filters': FILTERS,
                'available_filters': ['nova.scheduler.filters.all_filters', BLAZAR_FILTER]},
            'wsgi': {'api_paste_config': self.etc / 'nova' / 'api-paste.ini'},
            'placement': dict(token_auth, endpoint=self.placement_url),
            'glance': {'endpoint_override': self.glance_url},
            'neutron': dict(token_auth, endpoint=self.stub_url,
                            endpoint_override=self.stub_url),
            'keystone': {'endpoint_override': self.stub_url + '/identity/v3'},
            'oslo_concurrency': {'lock_path': data / 'locks'},
            'oslo_messaging_notifications': {'driver': 'noop'},
            'vnc': {'enabled': 'False'}, 'spice': {'enabled': 'False'},
            'serial_console': {'enabled': 'False'},
            'service_user': {'send_service_user_token': 'False'},
        })

    # --- processes ------------------------------------------------------------
    def _env(self, **extra):
        env = dict(os.environ, PYTHONPATH=str(install.NOVA_SIDE), **extra)
        env.pop('VIRTUAL_ENV', None)
        return env

    def _start(self, name, *cmd, env=None):
        log = open(self.logs_dir / ('%s.out' % name), 'a')
        self._procs[name] = subprocess.Popen(
            [str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env or self._env(), cwd=self.workdir,
            start_new_session=True, preexec_fn=keystone_fixture.die_with_parent)
        log.close()

    def _gunicorn(self, name, venv, port, app, threads, **env):
        self._start(name, self.bins[venv] / 'gunicorn', '--no-control-socket',
                    '--bind', '127.0.0.1:%d' % port, '--workers', '1', '--threads',
                    str(threads), '--worker-class', 'gthread', '--timeout', '120', app,
                    env=self._env(**env))

    def _run(self, what, *cmd, timeout=600):
        result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                                timeout=timeout, env=self._env())
        if result.returncode != 0:
            raise StackError('%s failed:\n%s\n%s' % (what, result.stdout[-2000:],
                                                      result.stderr[-4000:]))
        return result.stdout

    def _sync_schemas(self):
        """Every schema at once (the migrations mostly wait on MariaDB): the
        two cell databases each with ``db sync --local_cell``, Placement and
        Glance, while the API database is made and the cells mapped."""
        conf = self.etc / 'nova' / 'nova.conf'
        cell0 = self.etc / 'nova' / 'cell0-database.conf'
        cell0.write_text(_ini({'database': {'connection': self._db_url('nova_cell0')}}))
        nova_manage = [self.bins['nova'] / 'nova-manage', '--config-file', conf]
        background = {
            'cell1-dbsync': nova_manage + ['db', 'sync', '--local_cell'],
            'cell0-dbsync': nova_manage + ['--config-file', cell0, 'db', 'sync',
                                           '--local_cell'],
            'placement-dbsync': [self.bins['nova'] / 'placement-manage', '--config-file',
                                 self.etc / 'placement' / 'placement.conf', 'db', 'sync'],
            'glance-dbsync': [self.bins['glance'] / 'glance-manage', '--config-file',
                              self.etc / 'glance' / 'glance-api.conf', 'db', 'sync']}
        for name, cmd in background.items():
            self._start(name, *cmd)
        try:
            self._run('nova-manage api_db sync', *nova_manage, 'api_db', 'sync')
            self._run('nova-manage cell_v2 map_cell0', *nova_manage, 'cell_v2',
                      'map_cell0', '--database_connection', self._db_url('nova_cell0'))
            self._run('nova-manage cell_v2 create_cell', *nova_manage, 'cell_v2',
                      'create_cell', '--name', 'cell1')
        finally:
            codes = {name: self._procs.pop(name).wait(600) for name in background}
        failed = [name for name, code in codes.items() if code != 0]
        if failed:
            raise StackError('%s failed:\n%s' % (', '.join(failed), self.logs(names=failed)))

    def _start_services(self):
        nova, etc = self.bins['nova'], self.etc
        self._start('fake-services', nova / 'python',
                    install.NOVA_SIDE / 'fake_services.py', self.ports['stub'])
        self._gunicorn('placement-api', 'nova', self.ports['placement'],
                       'placement.wsgi.api:application', 4,
                       OS_PLACEMENT_CONFIG_DIR=str(etc / 'placement'))
        self._gunicorn('glance-api', 'glance', self.ports['glance'],
                       'glance.wsgi.api:application', 2,
                       OS_GLANCE_CONFIG_DIR=str(etc / 'glance'))
        self._gunicorn('nova-api', 'nova', self.ports['nova'],
                       'realnova_nova_wsgi:application', 4,
                       OS_NOVA_CONFIG_DIR=str(etc / 'nova'))
        for service in ('nova-conductor', 'nova-scheduler'):
            self._start(service, nova / service, '--config-file', etc / 'nova' / 'nova.conf',
                        '--log-file', self.logs_dir / ('%s.log' % service))
        for host in self.hosts:
            self.start_compute(host)

    def _check_alive(self):
        dead = [name for name, proc in self._procs.items() if proc.poll() is not None]
        if dead:
            raise StackError('%s exited:\n%s' % (', '.join(dead), self.logs(names=dead)))

    def _wait(self, what, condition, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if condition():
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass    # not answering yet
            time.sleep(0.5)
        raise StackError('timed out waiting for %s:\n%s' % (what, self.logs()))

    def _wait_http(self, url):
        self._wait(url, lambda: requests.get(url, timeout=5).status_code < 500)

    def _upload_image(self):
        """A 1 KiB raw image with a fixed id: enough for the fake driver."""
        created = requests.post(self.glance_url + '/v2/images', timeout=60, json={
            'id': IMAGE_ID, 'name': 'fake-image', 'disk_format': 'raw',
            'container_format': 'bare'})
        if created.status_code != 201:
            raise StackError('image creation: %s %s' % (created.status_code, created.text))
        uploaded = requests.put(self.glance_url + '/v2/images/%s/file' % IMAGE_ID,
                                data=b'\0' * 1024, timeout=60,
                                headers={'Content-Type': 'application/octet-stream'})
        if uploaded.status_code != 204:
            raise StackError('image upload: %s %s' % (uploaded.status_code, uploaded.text))

    def _map_computes(self):
        """Wait for every nova-compute to report, map them into cell1, and
        wait for their hypervisors."""
        self._wait('%d nova-compute services up' % len(self.hosts), lambda: sum(
            s['state'] == 'up' for s in self.compute_services().values()) == len(self.hosts))
        self._run('nova-manage cell_v2 discover_hosts', self.bins['nova'] / 'nova-manage',
                  '--config-file', self.etc / 'nova' / 'nova.conf', 'cell_v2',
                  'discover_hosts')
        self._wait('%d hypervisors' % len(self.hosts), lambda: len(self.nova_request(
            'GET', '/os-hypervisors').json()['hypervisors']) == len(self.hosts))


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _ini(sections):
    """An ini file; a list value is a multi-valued option, one line each."""
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for key, value in options.items():
            for one in (value if isinstance(value, list) else [value]):
                lines.append('%s = %s' % (key, one))
        lines.append('')
    return '\n'.join(lines)
