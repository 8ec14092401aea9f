"""Horizon with the blazar-dashboard plugin on loopback, and the system
Chromium, for the browser tests of the Reservations panel.

Horizon and blazar-dashboard come from the package index into their own
virtualenv (their pins clash with the project's), under
the machine's test cache (blazar/tests/cache.py; ``$BLAZAR_HORIZON_VENV``
overrides). It is built once, under a file lock, and reused while its
marker names the same packages; the panel files are enabled and the static
files collected and compressed at that time, so a start only launches the
server. Settings come from the environment of that server (Keystone URL,
session directory), so one virtualenv serves any number of test runs.

If the install fails (no index, no network) the browser tests skip, saying
so; they never pretend. The same for Chromium: Debian's ``chromium`` is
used (never a browser download); when ``/usr/bin/chromium`` is missing,
``ensure_chromium`` installs the package with apt-get (CI runs as root on
the developers' kind of machine) and reports why when that fails.
"""
import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess
import time

import requests

from blazar.tests import cache
from blazar.tests import keystone_fixture
from blazar.tests import ports

ROOT = keystone_fixture.ROOT
VENV = cache.venv('horizon-venv', 'BLAZAR_HORIZON_VENV')
# The newest Horizon with blazar-dashboard 15.0.0 (it asks only
# horizon>=17.1.0), both for Python 3.11; pinned so a new release cannot
# change the tier under our feet. Not 16.0.0: its only change is an import
# that breaks the lease table's "Update Lease" check (``datetime.now`` on
# the module, an AttributeError Horizon swallows), so the row action never
# shows; 15.0.0 is otherwise the same code.
PACKAGES = ('horizon==27.0.0', 'blazar-dashboard==15.0.0')
INSTALL_TIMEOUT = 1200
CHROMIUM = pathlib.Path(os.environ.get('BLAZAR_CHROMIUM') or '/usr/bin/chromium')
SETTINGS_MODULE = 'openstack_dashboard.settings'

# Written as openstack_dashboard/local/local_settings.py of the virtualenv.
# Everything that differs between runs is read from the environment.
LOCAL_SETTINGS = '''"""Horizon for Blazar's browser tests (blazar/tests/horizon_fixture.py)."""
import os

DEBUG = os.environ.get('BLAZAR_HORIZON_DEBUG') == '1'
SECRET_KEY = os.environ.get('BLAZAR_HORIZON_SECRET_KEY', 'blazar-browser-tests')
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
OPENSTACK_KEYSTONE_URL = os.environ.get('BLAZAR_HORIZON_KEYSTONE_URL',
                                        'http://127.0.0.1:5000/v3')
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_ENDPOINT_TYPE = 'publicURL'
TIME_ZONE = 'UTC'
# The cloud under test has no Nova in the catalog, so the Project Overview
# (usage and limits from Nova) is no page to land on: go to the panel.
LOGIN_REDIRECT_URL = '/project/leases/'
# Success messages stay on the page (Horizon fades them after 3 s) until a
# test has read them, and show in the screenshots. HORIZON_CONFIG is part
# of the offline compression context: changing this recompresses.
from openstack_dashboard.settings import HORIZON_CONFIG  # noqa: E402
HORIZON_CONFIG['auto_fade_alerts'] = {
    'delay': 3600000, 'fade_duration': 1500, 'types': ['alert-success', 'alert-info']}
# Compressed once at install time (python -m django compress).
COMPRESS_OFFLINE = True
# No memcached: sessions in files of the run's directory, cache in memory.
SESSION_ENGINE = 'django.contrib.sessions.backends.file'
SESSION_FILE_PATH = os.environ.get('BLAZAR_HORIZON_STATE_DIR', '/tmp')
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
OPENSTACK_BLAZAR_HOST_RESERVATION = {
    'enabled': True, 'calendar_attribute': 'hypervisor_hostname'}
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'console': {'class': 'logging.StreamHandler'}},
    'root': {'handlers': ['console'], 'level': 'INFO'},
}
'''


class Unavailable(Exception):
    """Horizon or Chromium cannot be had here; the message says why."""


def _python():
    return VENV / 'bin' / 'python'


def _site_packages():
    found = list((VENV / 'lib').glob('python3*/site-packages'))
    if not found:
        raise Unavailable('no site-packages under %s' % VENV)
    return found[0]


def _django(*args, timeout=900, out=None):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=SETTINGS_MODULE)
    subprocess.run([str(_python()), '-m', 'django'] + list(args), check=True,
                   env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)


def _configure(log):
    """Enable the panels, write local_settings, collect and compress the
    static files: what Horizon needs before it can serve a page with
    ``DEBUG`` off."""
    site = _site_packages()
    enabled = site / 'blazar_dashboard' / 'enabled'
    for source in enabled.glob('_9*.py'):
        shutil.copy(source, site / 'openstack_dashboard' / 'local' / 'enabled' / source.name)
    (site / 'openstack_dashboard' / 'local' / 'local_settings.py').write_text(LOCAL_SETTINGS)
    _django('collectstatic', '--noinput', '-v', '0', out=log)
    _django('compress', '--force', '-v', '0', out=log)


def ensure_venv(say=print):
    """The Horizon virtualenv's python, installing and configuring it if
    needed (installs and configures are timed and said)."""
    wanted = ' '.join(PACKAGES)
    configured = hashlib.sha256(LOCAL_SETTINGS.encode()).hexdigest()[:16]
    installed_marker = VENV / '.blazar-packages'
    configured_marker = VENV / '.blazar-configured'
    VENV.parent.mkdir(parents=True, exist_ok=True)
    log_path = VENV.parent / (VENV.name + '-install.log')
    with open(VENV.parent / (VENV.name + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # two test runs share the venv
        if not (installed_marker.exists() and installed_marker.read_text() == wanted
                and _python().exists()):
            say('Installing %s into %s (first use; a few minutes)...' % (wanted, VENV))
            started = time.monotonic()
            keystone_fixture.build_venv(VENV, PACKAGES, 'Horizon', INSTALL_TIMEOUT,
                                        Unavailable)
            installed_marker.write_text(wanted)
            say('Horizon installed in %.0f s' % (time.monotonic() - started))
        if not (configured_marker.exists() and configured_marker.read_text() == configured):
            started = time.monotonic()
            with open(log_path, 'a') as out:
                # A failure here is a bug of ours (settings), not a missing
                # install: let it fail the tests loudly.
                _configure(out)
            configured_marker.write_text(configured)
            say('Horizon configured (panels enabled, static files compressed) in %.0f s'
                % (time.monotonic() - started))
    return _python()


def ensure_chromium(say=print):
    """The path of Debian's Chromium, installing the package when missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    lock_path = cache.CACHE / 'chromium-install.lock'
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if CHROMIUM.exists():
            return CHROMIUM
        if shutil.which('apt-get') is None or os.geteuid() != 0:
            raise Unavailable('%s is missing and cannot be installed here (needs root and '
                              'apt-get): install Debian\'s chromium package' % CHROMIUM)
        say('Installing Debian\'s chromium with apt-get (first use)...')
        started = time.monotonic()
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        try:
            for command in (['apt-get', 'update', '-q'],
                            ['apt-get', 'install', '-y', '-q', 'chromium']):
                subprocess.run(command, check=True, capture_output=True, text=True,
                               timeout=1200, env=env)
        except subprocess.CalledProcessError as exc:
            raise Unavailable('%s is missing and "%s" failed:\n%s'
                              % (CHROMIUM, ' '.join(exc.cmd), exc.stderr[-1500:])) from exc
        except (subprocess.SubprocessError, OSError) as exc:
            raise Unavailable('%s is missing and apt-get failed: %s' % (CHROMIUM, exc)) from exc
        if not CHROMIUM.exists():
            raise Unavailable('apt-get installed chromium but %s is still missing' % CHROMIUM)
        say('chromium installed in %.0f s' % (time.monotonic() - started))
        return CHROMIUM


class Horizon:
    """One Horizon server (``manage.py runserver --insecure``: it serves the
    compressed static files itself with ``DEBUG`` off)."""

    def __init__(self, python, workdir, keystone_url):
        self.python = pathlib.Path(python)
        self.workdir = pathlib.Path(workdir)
        self.keystone_url = keystone_url
        self.port = ports.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self._proc = None
        self._log = None

    def start(self, timeout=180):
        sessions = self.workdir / 'sessions'
        sessions.mkdir(exist_ok=True)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
                   BLAZAR_HORIZON_KEYSTONE_URL=self.keystone_url,
                   BLAZAR_HORIZON_STATE_DIR=str(sessions), PYTHONUNBUFFERED='1')
        self._log = open(self.workdir / 'horizon.log', 'w')
        self._proc = subprocess.Popen(
            [str(self.python), '-m', 'django', 'runserver', '--insecure', '--noreload',
             '--skip-checks', '127.0.0.1:%d' % self.port],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
            start_new_session=True, preexec_fn=keystone_fixture.die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                if requests.get(self.url + '/auth/login/', timeout=30).status_code == 200:
                    return self
            except requests.RequestException:
                pass    # not listening yet
            time.sleep(0.5)
        raise RuntimeError('Horizon did not answer on %s:\n%s' % (self.url, self.logs()))

    def stop(self):
        keystone_fixture.stop_group(self._proc, self._log)

    def logs(self, chars=6000):
        path = self.workdir / 'horizon.log'
        return path.read_text()[-chars:] if path.exists() else ''


@contextlib.contextmanager
def running_horizon(workdir, keystone_url, say=print):
    """Install (once) and start Horizon against ``keystone_url``; raise
    ``Unavailable`` when it cannot be installed."""
    python = ensure_venv(say)
    started = time.monotonic()
    horizon = Horizon(python, workdir, keystone_url)
    try:
        horizon.start()
        say('Horizon up on %s in %.0f s' % (horizon.url, time.monotonic() - started))
        yield horizon
    finally:
        horizon.stop()
