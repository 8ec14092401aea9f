"""A real Neutron from the package index, in a virtualenv kept outside the
checkout (``$RN_HOME/venvs/neutron``, beside the realnova tier's), so that
later runs and later clean clones reuse it.

The same recipe as ``realnova/install.py``: made with uv (pip the
fallback), every dependency pinned by this directory's ``constraints.txt``,
rebuilt by itself when the pinned packages change, installs serialised by
the same file lock. A failed install is an error naming its log, never a
skip: the tier skips only when MariaDB or RabbitMQ do not answer.
"""
import fcntl
import hashlib
import pathlib
import shutil
import subprocess
import sys
import time

from blazar.tests.integration.realnova import install as realnova_install

HERE = pathlib.Path(__file__).resolve().parent
NEUTRON_SIDE = HERE / 'neutron_side'    # modules loaded by the Neutron process
CONSTRAINTS = HERE / 'constraints.txt'
NAME = 'neutron'
# Neutron 29 is OpenStack 2026.2, the series of the realnova tier's Nova 34.
PACKAGES = ('neutron==29.0.0', 'gunicorn', 'PyMySQL')
MARKER = '.blazar-realneutron'
InstallError = realnova_install.InstallError


def _wanted():
    digest = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    return '%s constraints=%s python=%d.%d' % (
        ' '.join(PACKAGES), digest, *sys.version_info[:2])


def _ready(venv):
    marker = venv / MARKER
    return (marker.exists() and marker.read_text() == _wanted()
            and (venv / 'bin' / 'gunicorn').exists()
            and (venv / 'bin' / 'neutron-db-manage').exists())


def _install(venv, uv):
    shutil.rmtree(venv, ignore_errors=True)
    log_path = realnova_install.VENVS / ('%s-install.log' % NAME)
    packages = ' '.join("'%s'" % p for p in PACKAGES)
    if uv is not None:
        script = ('"$3" venv -q --python "$0" "$1" && VIRTUAL_ENV="$1" "$3" pip install '
                  '-q -c "$2" ' + packages)
    else:
        script = ('"$0" -m venv "$1" && "$1/bin/pip" install -q '
                  '--disable-pip-version-check -c "$2" ' + packages)
    with open(log_path, 'a') as log:
        log.write('--- %s: %s with %s\n' % (time.ctime(), NAME, uv or 'pip'))
        log.flush()
        try:
            code = subprocess.run(
                ['sh', '-c', script, realnova_install._base_python(), str(venv),
                 str(CONSTRAINTS), str(uv)], stdout=log, stderr=subprocess.STDOUT,
                timeout=realnova_install.INSTALL_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            code = 'timeout after %d s' % realnova_install.INSTALL_TIMEOUT
    if code != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise InstallError('install of %s into %s failed (%s); log %s:\n%s'
                           % (' '.join(PACKAGES), venv, code, log_path,
                              log_path.read_text()[-2000:]))
    (venv / MARKER).write_text(_wanted())


def ensure_venv(say=print):
    """The ``bin`` directory of the Neutron virtualenv, installed if missing."""
    venvs = realnova_install.VENVS
    venvs.mkdir(parents=True, exist_ok=True)
    venv = venvs / NAME
    with open(venvs / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # test runs share the venvs
        if not _ready(venv):
            say('Installing real %s into %s (first use)...' % (NAME, venv))
            started = time.monotonic()
            uv = realnova_install._uv(say)
            try:
                _install(venv, uv)
            except InstallError as exc:
                if uv is None:
                    raise
                say('uv failed (%s): trying pip' % str(exc)[:300])
                _install(venv, None)
            say('Installed in %.0f s' % (time.monotonic() - started))
    return venv / 'bin'
