"""The production topology for the benchmarks, as separate processes.

``Deployment`` starts, on a fresh database (MariaDB by default, dropped at
the end), over RabbitMQ (a private RPC topic):

* ``blazar-simulator`` as Nova and Placement, with H hypervisors named by a
  pattern (``host-%04d`` gives bench.py's ``host-0001`` ...);
* M ``blazar-manager`` processes;
* the API under uwsgi with P processes, from ``etc/blazar/blazar-api-uwsgi.ini``
  as shipped (address, configuration file, virtualenv and process count
  changed);
* with ``keystone=<blazar.tests.keystone_fixture.Keystone>``:
  ``auth_strategy = keystone`` (keystonemiddleware in the API, trusts made
  by lease creates, the ``[trustee]`` service user), the simulator
  validating Keystone tokens and reached through the catalog as the cloud
  administrator, as the Keystone integration tier deploys it; otherwise
  ``noauth`` everywhere (tokens ``user:project``).

Every process runs in its own process group, is stopped by ``stop`` (its
group only) and dies with this process. Logs are in the work directory.
"""
import contextlib
import math
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_leases import Database  # noqa: E402
from blazar.tests import backends  # noqa: E402
from blazar.tests import keystone_fixture  # noqa: E402
from blazar.tests import ports  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
UWSGI_INI = ROOT / 'etc' / 'blazar' / 'blazar-api-uwsgi.ini'
ADMIN_TOKEN = 'admin:admin'


class DeploymentError(Exception):
    """The deployment could not start (the message says why, with logs)."""


def uwsgi_binary():
    found = BIN / 'uwsgi'
    if found.exists():
        return str(found)
    found = shutil.which('uwsgi')
    if found:
        return found
    raise DeploymentError('uwsgi is not installed: pip install uwsgi into %s'
                          % sys.prefix)


def rss_kib(pid):
    """Resident memory of a process in KiB (from /proc), None if it is gone."""
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """User + system CPU seconds of a process and of its children that
    were waited for (from /proc), 0 if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            fields = stat.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime: fields 14 to 17 of proc(5).
    return sum(int(value) for value in fields[11:15]) / os.sysconf('SC_CLK_TCK')


def tree_cpu_seconds(pid):
    """CPU seconds of a process and every live descendant."""
    return cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in children(pid))


def children(pid):
    """Child processes, whichever of the process's threads forked them."""
    found = []
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return found
    for task in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, task)) as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            pass
    return found


class Deployment:

    def __init__(self, workdir=None, *, hosts=16, host_pattern='compute-%d', vcpus=32,
                 managers=1, api_processes=2, keystone=None, backend='mariadb',
                 db_url=None, transport=None, extra=(), say=print):
        self.workdir = pathlib.Path(workdir or tempfile.mkdtemp(prefix='blazar-bench-'))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hosts, self.host_pattern, self.vcpus = hosts, host_pattern, vcpus
        self.manager_count, self.api_processes = managers, api_processes
        self.keystone = keystone
        self.backend, self.db_url = backend, db_url
        self.transport = transport or backends.RABBITMQ_URL
        self.extra = list(extra)
        self.say = say
        self.procs = {}         # name -> (Popen, log file)
        self.database = None
        self.url = None         # the API's /v1
        self.config = self.workdir / 'blazar.conf'

    # --- life cycle -------------------------------------------------------------
    def start(self):
        self.database = Database(self.backend, self.db_url)
        api_port = ports.free_port()
        sim_port = ports.free_port()
        self.url = 'http://127.0.0.1:%d/v1' % api_port
        sim = 'http://127.0.0.1:%d' % sim_port
        self.config.write_text(self._config(api_port, sim_port))
        if self.keystone is not None:
            self.keystone.set_endpoints(sim + '/v2.1', 'compute')
            self.keystone.set_endpoints(sim + '/placement', 'placement')
        migrate = subprocess.run([str(BIN / 'blazar-db-manage'), '--config-file',
                                  str(self.config), 'upgrade', 'head'],
                                 capture_output=True, text=True, timeout=300)
        if migrate.returncode != 0:
            raise DeploymentError('blazar-db-manage failed:\n%s' % migrate.stderr[-3000:])
        self._start('blazar-simulator', str(BIN / 'blazar-simulator'),
                    '--config-file', str(self.config))
        for number in range(self.manager_count):
            self._start('blazar-manager-%d' % (number + 1), str(BIN / 'blazar-manager'),
                        '--config-file', str(self.config))
        ini = self.workdir / 'blazar-api-uwsgi.ini'
        ini.write_text(self._uwsgi_ini(api_port))
        self._start('blazar-api', uwsgi_binary(), '--ini', str(ini))
        self._wait(sim + '/v2.1', None)
        token = self.admin_token()
        self._wait(self.url + '/leases', token)
        if self.keystone is not None:
            self.keystone.set_endpoints(self.url)
        return self

    def stop(self):
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            log.close()
        self.procs = {}
        if self.database is not None:
            self.database.drop()
            self.database = None

    # --- what the benchmarks use ---------------------------------------------
    def admin_token(self):
        if self.keystone is None:
            return ADMIN_TOKEN
        return self.keystone.token('admin')

    def manager_pids(self):
        """The processes that do a manager's work: its worker processes
        (``blazar-manager`` runs them under a supervisor, which does none),
        or the process itself if it has no child."""
        found = {}
        for name, (proc, _) in self.procs.items():
            if not name.startswith('blazar-manager'):
                continue
            workers = children(proc.pid)
            if not workers:
                found[name] = proc.pid
            for number, pid in enumerate(sorted(workers), 1):
                found[name if len(workers) == 1 else '%s/%d' % (name, number)] = pid
        return found

    def cpu_seconds(self):
        """CPU seconds used so far by each process of the deployment (its
        whole process tree), and by the database and broker servers."""
        used = {name: tree_cpu_seconds(proc.pid) for name, (proc, _) in self.procs.items()}
        for name, command in (('mariadbd', 'mariadbd'), ('postgres', 'postgres'),
                              ('rabbitmq', 'beam.smp')):
            oldest = subprocess.run(['pgrep', '-o', '-x', command], capture_output=True,
                                    text=True).stdout.split()
            if oldest:
                used[name] = tree_cpu_seconds(int(oldest[0]))
        return used

    def api_worker_pids(self):
        return children(self.procs['blazar-api'][0].pid)

    def host_names(self):
        return [self.host_pattern % number for number in range(1, self.hosts + 1)]

    def logs(self, chars=3000):
        return '\n'.join('--- %s ---\n%s' % (name, (self.workdir / ('%s.log' % name))
                                              .read_text(errors='replace')[-chars:])
                         for name in self.procs)

    # --- pieces ------------------------------------------------------------------
    def _start(self, name, *command):
        log = open(self.workdir / ('%s.log' % name), 'w')
        proc = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(self.workdir), start_new_session=True,
                                preexec_fn=keystone_fixture.die_with_parent)
        self.procs[name] = (proc, log)
        return proc

    def _wait(self, url, token, timeout=180):
        headers = {'X-Auth-Token': token} if token else {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = requests.get(url, headers=headers, timeout=30).status_code
                if status == 200 or (token is None and status < 500):
                    return
            except requests.RequestException:
                pass    # not listening yet
            for name, (proc, _) in self.procs.items():
                if proc.poll() is not None:
                    raise DeploymentError('%s exited (%s):\n%s'
                                          % (name, proc.returncode, self.logs()))
            time.sleep(0.3)
        raise DeploymentError('%s did not answer:\n%s' % (url, self.logs()))

    def _uwsgi_ini(self, port):
        ini = UWSGI_INI.read_text()
        ini = re.sub(r'(?m)^env = BLAZAR_CONFIG_FILE=.*$',
                     'env = BLAZAR_CONFIG_FILE=%s' % self.config, ini)
        ini = re.sub(r'(?m)^http-socket = .*$', 'http-socket = 127.0.0.1:%d' % port, ini)
        ini = re.sub(r'(?m)^processes = .*$', 'processes = %d' % self.api_processes, ini)
        return ini + 'virtualenv = %s\n' % sys.prefix

    def _config(self, api_port, sim_port):
        common = [
            '[DEFAULT]',
            'transport_url = %s' % self.transport,
            'auth_strategy = %s' % ('keystone' if self.keystone else 'noauth'),
            'rpc_response_timeout = 60',
            '[database]',
            'connection = %s' % self.database.url,
            '[manager]',
            'rpc_topic = blazar.manager.bench-%s' % uuid.uuid4().hex[:8],
            'minutes_before_end_lease = 0',
            '[api]',
            'bind_host = 127.0.0.1',
            'bind_port = %d' % api_port,
            '[simulator]',
            'bind_port = %d' % sim_port,
            'hosts = %d' % self.hosts,
            'host_name_pattern = %s' % self.host_pattern,
            'vcpus = %d' % self.vcpus,
        ]
        if self.keystone is None:
            sim = 'http://127.0.0.1:%d' % sim_port
            auth = [
                '[nova]', 'auth_type = admin_token', 'endpoint = %s/v2.1' % sim,
                'token = %s' % ADMIN_TOKEN,
                '[placement]', 'auth_type = admin_token', 'endpoint = %s/placement' % sim,
                'token = %s' % ADMIN_TOKEN]
        else:
            keystone = self.keystone
            blazar = keystone.users['blazar']
            service = ['auth_type = password', 'auth_url = %s' % keystone.auth_url,
                       'username = %s' % blazar.name, 'password = %s' % blazar.password,
                       'user_domain_name = %s' % keystone_fixture.DOMAIN]
            admin = keystone.users['admin']
            cloud_admin = ['auth_type = password', 'auth_url = %s' % keystone.auth_url,
                           'username = %s' % admin.name, 'password = %s' % admin.password,
                           'user_domain_name = %s' % keystone_fixture.DOMAIN,
                           'project_name = %s' % admin.project,
                           'project_domain_name = %s' % keystone_fixture.DOMAIN,
                           'region_name = %s' % keystone_fixture.REGION]
            auth = (['auth_strategy = keystone',      # [simulator]
                     '[keystone_authtoken]',
                     'www_authenticate_uri = %s' % keystone.auth_url,
                     'project_name = service',
                     'project_domain_name = %s' % keystone_fixture.DOMAIN]
                    + service + ['[trustee]'] + service
                    + ['[nova]'] + cloud_admin + ['[placement]'] + cloud_admin)
        return '\n'.join(common + auth + self.extra + [''])


@contextlib.contextmanager
def running(**options):
    """A started ``Deployment`` (``options``: its own), stopped after."""
    deployment = Deployment(**options)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


def enrol_hosts(url, token, names, concurrency=4):
    """POST /v1/os-hosts for each name; raises on anything but 201."""
    import concurrent.futures

    def enrol(name):
        resp = requests.post(url + '/os-hosts', json={'name': name}, timeout=120,
                             headers={'X-Auth-Token': token, 'Accept': 'application/json'})
        if resp.status_code != 201:
            raise DeploymentError('enrolling %s: %s %s' % (name, resp.status_code,
                                                          resp.text[:300]))
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(enrol, names))


def percentile(values, fraction):
    """Nearest-rank percentile of ``values`` (any order); nan if empty."""
    if not values:
        return float('nan')
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
