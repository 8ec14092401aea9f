"""A real Keystone on loopback, for the tests that need real tokens.

Keystone is installed from the package index into its own virtualenv (not
the project's: its pins would clash), under the machine's test cache
(blazar/tests/cache.py; ``$BLAZAR_KEYSTONE_VENV`` overrides), created on first use and
reused while its marker names the same packages. If the install fails
(no index, no network) the tests that need Keystone skip, saying so; they
never pretend.

A running ``Keystone`` has a fresh SQLite store with fernet tokens,
bootstrapped (admin user, project and roles), and holds:

* a ``reservation`` service named ``blazar`` (endpoints set later with
  ``set_endpoints`` once the Blazar API under test has its address);
* the service user ``blazar`` with the ``service`` role in project
  ``service`` (enough to validate tokens and to be a trustee);
* projects ``project-a`` and ``project-b``, each with a member user
  (``a-member``, ``b-member``) and a reader user (``a-reader``,
  ``b-reader``);
* the cloud administrator ``admin`` (admin role in project ``admin``).

It is served by gunicorn from the Keystone virtualenv; ``keystone-manage``
does the schema, the key repositories and the bootstrap.
"""
import contextlib
import dataclasses
import fcntl
import grp
import json
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import sys
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from blazar.tests import cache
from blazar.tests import ports

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV = cache.venv('keystone-venv', 'BLAZAR_KEYSTONE_VENV')
PACKAGES = ('keystone==30.0.0', 'gunicorn')
INSTALL_TIMEOUT = 900
DOMAIN = 'Default'
REGION = 'RegionOne'
PASSWORD = 'secret-%s'   # % user name
FAST_HASH_ROUNDS = 4     # the fewest bcrypt rounds Keystone accepts

WSGI_ENTRY = '''\"\"\"Keystone's WSGI app for gunicorn; oslo.config must not see
gunicorn's command line. Every POST /v3/auth/tokens is recorded, one JSON
line in auth-requests.log (see Keystone.auth_requests), and every request
in access.log with how long Keystone took to answer (Keystone.access_log).
\"\"\"
import io
import json
import os
import re
import sys
import time

sys.argv = sys.argv[:1]
from keystone.wsgi.api import application as keystone_app  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT
_AUTH_LOG = os.open(os.path.join(_HERE, 'auth-requests.log'), _FLAGS, 0o600)
_ACCESS_LOG = os.open(os.path.join(_HERE, 'access.log'), _FLAGS, 0o600)
_ID = re.compile('/[0-9a-f]{32}(?=/|$)')


def _describe(body):
    try:
        auth = json.loads(body)['auth']
    except (ValueError, KeyError, TypeError):
        return {'methods': [], 'user': None, 'scope': None}
    identity = auth.get('identity') or {}
    user = ((identity.get('password') or {}).get('user') or {})
    scope = auth.get('scope')
    return {'methods': list(identity.get('methods') or []),
            'user': user.get('name') or user.get('id'),
            'scope': sorted(scope) if isinstance(scope, dict) else scope}


def _write(fd, record):
    os.write(fd, (json.dumps(record) + '\\n').encode())


def application(environ, start_response):
    started = time.time()
    method = environ.get('REQUEST_METHOD')
    path = environ.get('PATH_INFO', '')
    record = None
    if method == 'POST' and path.rstrip('/').endswith('/auth/tokens'):
        length = int(environ.get('CONTENT_LENGTH') or 0)
        body = environ['wsgi.input'].read(length) if length else b''
        environ['wsgi.input'] = io.BytesIO(body)
        record = dict(_describe(body), time=started)

    def recording_start_response(status, headers, exc_info=None):
        code = int(status.split()[0])
        _write(_ACCESS_LOG, {'method': method, 'path': _ID.sub('/{id}', path),
                             'status': code, 'time': started,
                             'seconds': round(time.time() - started, 4)})
        if record is not None:
            record['status'] = code
            _write(_AUTH_LOG, record)
        return start_response(status, headers, exc_info)
    return keystone_app(environ, recording_start_response)
'''




def build_venv(venv, packages, what, timeout, unavailable):
    """A fresh virtualenv at ``venv`` with ``packages`` from the package
    index (pip's output in ``<venv>-install.log``); on failure nothing is
    left and ``unavailable`` is raised with pip's last lines."""
    shutil.rmtree(venv, ignore_errors=True)
    log = venv.parent / (venv.name + '-install.log')
    try:
        with open(log, 'w') as out:
            subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True,
                           stdout=out, stderr=subprocess.STDOUT, timeout=120)
            subprocess.run([str(venv / 'bin' / 'pip'), 'install', '-q',
                            '--disable-pip-version-check'] + list(packages),
                           check=True, stdout=out, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except (subprocess.SubprocessError, OSError) as exc:
        tail = log.read_text()[-1500:] if log.exists() else ''
        shutil.rmtree(venv, ignore_errors=True)
        raise unavailable('%s (%s) could not be installed from the package index into '
                          '%s: %s\n%s' % (what, ' '.join(packages), venv, exc, tail)) from exc

def stop_group(proc, log):
    """Stop a server started in its own process group (TERM, then KILL),
    and close its log."""
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    if log is not None:
        log.close()

class Unavailable(Exception):
    """Keystone cannot be installed here; the message says why."""


@dataclasses.dataclass
class User:
    name: str
    project: str
    role: str
    id: str = None
    project_id: str = None

    @property
    def password(self):
        return PASSWORD % self.name


# name -> (project, role)
USERS = {
    'admin': ('admin', 'admin'),
    'blazar': ('service', 'service'),
    'a-member': ('project-a', 'member'),
    'a-reader': ('project-a', 'reader'),
    'b-member': ('project-b', 'member'),
    'b-reader': ('project-b', 'reader'),
}


# Catalog names of the services the tests point at their own servers.
SERVICE_NAMES = {'compute': 'nova', 'placement': 'placement'}


def die_with_parent():
    """``preexec_fn`` of the servers the tests start: the kernel sends them
    SIGTERM if the test process dies, so a killed run leaves none behind
    (Linux; elsewhere a no-op)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def ensure_venv(say=print):
    """The Keystone virtualenv's bin directory, installing it if needed."""
    marker = VENV / '.blazar-packages'
    wanted = ' '.join(PACKAGES)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / (VENV.name + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # two test runs share the venv
        if marker.exists() and marker.read_text() == wanted and \
                (VENV / 'bin' / 'keystone-manage').exists():
            return VENV / 'bin'
        say('Installing %s into %s (first use; a minute or two)...'
            % (wanted, VENV))
        started = time.monotonic()
        build_venv(VENV, PACKAGES, 'Keystone', INSTALL_TIMEOUT, Unavailable)
        marker.write_text(wanted)
        say('Keystone installed in %.0f s' % (time.monotonic() - started))
        return VENV / 'bin'


class Keystone:
    """One Keystone server for a test session (see the module docstring)."""

    def __init__(self, bin_dir, workdir, hash_rounds=FAST_HASH_ROUNDS, workers=3,
                 extra_config=()):
        """``hash_rounds``: bcrypt rounds of the users' passwords (the
        fewest Keystone accepts by default, so that tests are quick; None
        for Keystone's own default, 12, as in production: about 0.3 s of
        CPU per password check). ``workers``: gunicorn worker processes, each
        answering one request at a time.
        ``extra_config``: more lines of keystone.conf (sections included)."""
        self.hash_rounds = hash_rounds
        self.extra_config = list(extra_config)
        self.workers = workers
        self.bin = pathlib.Path(bin_dir)
        self.workdir = pathlib.Path(workdir)
        self.port = ports.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.auth_url = self.url + '/v3'
        self.config = self.workdir / 'keystone.conf'
        self.users = {name: User(name, project, role)
                      for name, (project, role) in USERS.items()}
        self.projects = {}
        self.service_id = None
        self._admin_session = None
        self._proc = None
        self._log = None

    # --- life cycle -----------------------------------------------------------
    def start(self):
        self._write_config()
        self._manage('db_sync')
        owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
                 '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
        self._manage('fernet_setup', *owner)
        self._manage('credential_setup', *owner)
        self._manage('bootstrap', '--bootstrap-password', self.users['admin'].password,
                     '--bootstrap-username', 'admin',
                     '--bootstrap-project-name', 'admin',
                     '--bootstrap-role-name', 'admin',
                     '--bootstrap-service-name', 'keystone',
                     '--bootstrap-region-id', REGION,
                     '--bootstrap-admin-url', self.auth_url,
                     '--bootstrap-internal-url', self.auth_url,
                     '--bootstrap-public-url', self.auth_url)
        (self.workdir / 'blazar_keystone_wsgi.py').write_text(WSGI_ENTRY)
        self._log = open(self.workdir / 'keystone.log', 'w')
        env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=str(self.config))
        self._proc = subprocess.Popen(
            [str(self.bin / 'gunicorn'), '--bind', '127.0.0.1:%d' % self.port,
             # One request at a time per process: Keystone 30's auth context
             # middleware keeps the token it validated on itself, shared by a
             # process's threads, so a concurrent request's token (a trust-
             # scoped one, say) could stand in for another's.
             '--workers', str(self.workers), '--worker-class', 'sync',
             '--timeout', '120', '--chdir', str(self.workdir),
             'blazar_keystone_wsgi:application'],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, preexec_fn=die_with_parent)
        self._wait_until_up()
        self._populate()
        return self

    def stop(self):
        stop_group(self._proc, self._log)

    def auth_requests(self):
        """Every ``POST /v3/auth/tokens`` Keystone answered so far, oldest
        first: dicts of ``methods`` (e.g. ``['password']``), ``user`` (the
        name or id of a password login), ``scope`` (the scope's keys, e.g.
        ``['OS-TRUST:trust']``, or None), ``status`` and ``time``."""
        path = self.workdir / 'auth-requests.log'
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def access_log(self):
        """Every request Keystone answered so far, oldest first: dicts of
        ``method``, ``path`` (32-hex ids as ``{id}``), ``status``, ``time``
        and ``seconds`` (until Keystone started its answer)."""
        path = self.workdir / 'access.log'
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def password_logins(self, since=0, user=None):
        """The password logins (each a bcrypt check) among the token
        requests from number ``since`` on (``len(auth_requests())`` taken
        earlier), of ``user`` only if given."""
        return [r for r in self.auth_requests()[since:]
                if 'password' in r['methods'] and user in (None, r['user'])]

    def logs(self, chars=4000):
        path = self.workdir / 'keystone.log'
        return path.read_text()[-chars:] if path.exists() else ''

    def _write_config(self):
        keys = self.workdir / 'fernet-keys'
        self.config.write_text('\n'.join([
            '[DEFAULT]',
            'log_file = %s' % (self.workdir / 'keystone-app.log'),
            '[database]',
            'connection = sqlite:///%s' % (self.workdir / 'keystone.sqlite'),
            '[token]',
            'provider = fernet',
            '[fernet_tokens]',
            'key_repository = %s' % keys,
            '[fernet_receipts]',
            'key_repository = %s' % keys,
            '[credential]',
            'key_repository = %s' % (self.workdir / 'credential-keys'),
        ] + ([
            '[identity]',
            # Every password login costs one bcrypt check of this many rounds.
            'password_hash_rounds = %d' % self.hash_rounds,
        ] if self.hash_rounds is not None else []) + self.extra_config + ['']))

    def _manage(self, *args):
        result = subprocess.run([str(self.bin / 'keystone-manage'), '--config-file',
                                 str(self.config)] + list(args),
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError('keystone-manage %s failed:\n%s%s'
                               % (args[0], result.stdout[-2000:], result.stderr[-4000:]))

    def _wait_until_up(self, timeout=120):
        deadline = time.monotonic() + timeout
        session = ks_session.Session()
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                if session.get(self.auth_url, authenticated=False,
                               raise_exc=False, timeout=5).status_code == 200:
                    return
            except ks_exc.ConnectionError:
                pass    # not listening yet
            time.sleep(0.3)
        raise RuntimeError('Keystone did not answer on %s:\n%s'
                           % (self.auth_url, self.logs()))

    # --- content --------------------------------------------------------------
    def session(self, user='admin'):
        """A keystoneauth session of ``user`` scoped to its project."""
        user = self.users[user]
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username=user.name, password=user.password,
            user_domain_name=DOMAIN, project_name=user.project,
            project_domain_name=DOMAIN))

    def token(self, user):
        return self.session(user).get_token()

    def request(self, method, path, user='admin', **kwargs):
        """A raw identity v3 call (``path`` after /v3) as ``user``; the
        response, whatever its status."""
        kwargs.setdefault('raise_exc', False)
        return self.session(user).request(self.auth_url + path, method, **kwargs)

    def _admin(self, method, path, **kwargs):
        resp = self._admin_session.request(self.auth_url + path, method, **kwargs)
        return resp.json() if resp.content else None

    def _populate(self):
        self._admin_session = self.session('admin')
        self.users['admin'].id = self._admin_session.get_user_id()
        roles = {r['name']: r['id'] for r in self._admin('GET', '/roles')['roles']}
        for name in ('member', 'reader', 'service'):
            if name not in roles:
                roles[name] = self._admin('POST', '/roles',
                                          json={'role': {'name': name}})['role']['id']
        found = {p['name']: p['id'] for p in self._admin('GET', '/projects')['projects']}
        for name in ('service', 'project-a', 'project-b'):
            if name not in found:
                found[name] = self._admin('POST', '/projects', json={'project': {
                    'name': name, 'domain_id': 'default'}})['project']['id']
        self.projects = found
        for user in self.users.values():
            user.project_id = found[user.project]
            if user.name == 'admin':
                continue
            user.id = self._admin('POST', '/users', json={'user': {
                'name': user.name, 'password': user.password, 'domain_id': 'default',
                'default_project_id': user.project_id}})['user']['id']
            self._admin('PUT', '/projects/%s/users/%s/roles/%s'
                        % (user.project_id, user.id, roles[user.role]))
        self.service_id = self._admin('POST', '/services', json={'service': {
            'type': 'reservation', 'name': 'blazar',
            'description': 'Resource reservation'}})['service']['id']

    def set_endpoints(self, url, service_type='reservation'):
        """Point a service's endpoints (public, internal, admin) at ``url``:
        ``reservation`` at the Blazar API under test, ``compute`` and
        ``placement`` at a simulator validating Keystone tokens."""
        service_id = self._service_id(service_type)
        existing = self._admin('GET', '/endpoints?service_id=%s' % service_id)['endpoints']
        for endpoint in existing:
            self._admin('DELETE', '/endpoints/%s' % endpoint['id'])
        for interface in ('public', 'internal', 'admin'):
            self._admin('POST', '/endpoints', json={'endpoint': {
                'service_id': service_id, 'interface': interface,
                'region_id': REGION, 'url': url}})

    def _service_id(self, service_type):
        if service_type == 'reservation':
            return self.service_id
        found = self._admin('GET', '/services?type=%s' % service_type)['services']
        if found:
            return found[0]['id']
        return self._admin('POST', '/services', json={'service': {
            'type': service_type, 'name': SERVICE_NAMES[service_type]}})['service']['id']

    def get_trust(self, trust_id, user):
        """The trust as its trustor ``user`` sees it, or None if Keystone
        says it does not exist."""
        resp = self.request('GET', '/OS-TRUST/trusts/%s' % trust_id, user)
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, resp.text
        return resp.json()['trust']

    def wait_for_trust_gone(self, trust_id, user, timeout=30):
        """Blazar deletes a trust after the commit that lets it go (a
        deferred call), so a test waits for it rather than reading at once."""
        deadline = time.monotonic() + timeout
        while self.get_trust(trust_id, user) is not None:
            assert time.monotonic() < deadline, 'trust %s never deleted' % trust_id
            time.sleep(0.2)

    def trusts_of(self, user):
        """Ids of the trusts ``user`` gave."""
        resp = self.request('GET', '/OS-TRUST/trusts?trustor_user_id=%s'
                            % self.users[user].id, user)
        assert resp.status_code == 200, resp.text
        return {t['id'] for t in resp.json()['trusts']}


@contextlib.contextmanager
def running_keystone(workdir, say=print, **options):
    """Install (once) and start Keystone (``options``: those of
    ``Keystone``); raise ``Unavailable`` when it cannot be installed."""
    bin_dir = ensure_venv(say)
    started = time.monotonic()
    keystone = Keystone(bin_dir, workdir, **options)
    try:
        keystone.start()
        say('Keystone up on %s in %.0f s' % (keystone.url, time.monotonic() - started))
        yield keystone
    finally:
        keystone.stop()
