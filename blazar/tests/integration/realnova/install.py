"""Real Nova, Placement and Glance from the package index, in virtualenvs
kept outside the checkout so that later runs (and later clean clones) reuse
them.

``$RN_HOME`` (default ``realnova`` in the machine's test cache,
blazar/tests/cache.py) holds ``venvs/nova`` (nova,
openstack-placement, the blazar-nova scheduler filter, gunicorn, PyMySQL)
and ``venvs/glance`` (glance, only so that Nova can resolve an image). Each
is created on first use, both at once, and reused while its marker names
the same packages and the same ``constraints.txt`` (every dependency
pinned, so a run next year installs what this tier was proven with).

They are installed with uv (itself installed with pip into ``venvs/uv``):
about 10 s for both where pip takes two to four minutes; pip is the
fallback when uv cannot be had or fails. Several test runs may share
``$RN_HOME``: a file lock serialises the installs. A failed install is an
error naming its log, never a skip: the tier skips only when MariaDB or
RabbitMQ do not answer.
"""
import fcntl
import hashlib
import pathlib
import shutil
import subprocess
import sys
import time

from blazar.tests import cache

HERE = pathlib.Path(__file__).resolve().parent
NOVA_SIDE = HERE / 'nova_side'          # modules loaded by the Nova processes
CONSTRAINTS = HERE / 'constraints.txt'
HOME = cache.venv('realnova', 'RN_HOME')
VENVS = HOME / 'venvs'
INSTALL_TIMEOUT = 1200
PACKAGES = {
    'nova': ('nova==34.0.0', 'openstack-placement==16.0.0', 'blazar-nova==10.0.0',
             'gunicorn', 'PyMySQL'),
    'glance': ('glance==33.0.0', 'gunicorn', 'PyMySQL'),
}
UV = 'uv==0.13.9'
# Nova loads ``[DEFAULT] compute_driver`` as ``nova.virt.<name>``.
FAKE_DRIVER = 'realnova_fakedriver'


class InstallError(Exception):
    """A virtualenv could not be made; the message names the log."""


def _wanted(name):
    digest = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    return '%s constraints=%s python=%d.%d' % (
        ' '.join(PACKAGES[name]), digest, *sys.version_info[:2])


def _ready(name):
    venv = VENVS / name
    marker = venv / '.blazar-realnova'
    return (marker.exists() and marker.read_text() == _wanted(name)
            and (venv / 'bin' / 'gunicorn').exists())


def _base_python():
    """An interpreter to make virtualenvs with: the one behind ours."""
    return getattr(sys, '_base_executable', None) or sys.executable


def _uv(say):
    """The uv executable (installed on first use with this interpreter's
    pip into ``venvs/uv``), or None when it cannot be had."""
    target = VENVS / 'uv'
    uv = target / 'bin' / 'uv'
    marker = target / '.blazar-realnova'
    if uv.exists() and marker.exists() and marker.read_text() == UV:
        return uv
    shutil.rmtree(target, ignore_errors=True)
    with open(VENVS / 'uv-install.log', 'w') as log:
        try:
            subprocess.run([sys.executable, '-m', 'pip', 'install', '-q',
                            '--disable-pip-version-check', '--target', str(target), UV],
                           check=True, stdout=log, stderr=subprocess.STDOUT, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            say('uv could not be installed (%s, see %s): using pip' % (exc, log.name))
            return None
    if not uv.exists():
        say('uv was installed without its executable: using pip')
        return None
    marker.write_text(UV)
    return uv


def _start_install(name, uv):
    venv = VENVS / name
    shutil.rmtree(venv, ignore_errors=True)
    log = open(VENVS / ('%s-install.log' % name), 'a')
    log.write('--- %s: %s with %s\n' % (time.ctime(), name, uv or 'pip'))
    log.flush()
    packages = ' '.join("'%s'" % p for p in PACKAGES[name])
    if uv is not None:
        script = ('"$3" venv -q --python "$0" "$1" && VIRTUAL_ENV="$1" "$3" pip install '
                  '-q -c "$2" ' + packages)
    else:
        script = ('"$0" -m venv "$1" && "$1/bin/pip" install -q '
                  '--disable-pip-version-check -c "$2" ' + packages)
    proc = subprocess.Popen(['sh', '-c', script, _base_python(), str(venv),
                             str(CONSTRAINTS), str(uv)],
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, log


def _finish_install(name, proc, log):
    try:
        code = proc.wait(INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = 'timeout after %d s' % INSTALL_TIMEOUT
    log.close()
    if code != 0:
        tail = pathlib.Path(log.name).read_text()[-2000:]
        shutil.rmtree(VENVS / name, ignore_errors=True)
        raise InstallError('install of %s into %s failed (%s); log %s:\n%s'
                           % (' '.join(PACKAGES[name]), VENVS / name, code, log.name,
                              tail))
    (VENVS / name / '.blazar-realnova').write_text(_wanted(name))


def _install(names, uv, say):
    running = {name: _start_install(name, uv) for name in names}
    failed = {}
    for name, (proc, log) in running.items():
        try:
            _finish_install(name, proc, log)
        except InstallError as exc:
            failed[name] = exc
    if failed and uv is not None:
        say('uv failed (%s): trying pip' % '; '.join(str(e)[:300] for e in failed.values()))
        _install(list(failed), None, say)
    elif failed:
        raise InstallError('\n'.join(str(e) for e in failed.values()))


def _site_packages(venv):
    return next((venv / 'lib').glob('python3*/site-packages'))


def _install_fake_driver():
    """Copy the restartable fake driver into nova.virt (kept up to date:
    the file in this checkout is the reference)."""
    target = _site_packages(VENVS / 'nova') / 'nova' / 'virt' / (FAKE_DRIVER + '.py')
    source = (NOVA_SIDE / (FAKE_DRIVER + '.py')).read_bytes()
    if not target.exists() or target.read_bytes() != source:
        target.write_bytes(source)


def ensure_venvs(say=print):
    """``{'nova': bin dir, 'glance': bin dir}``, installing what is missing."""
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # test runs share the venvs
        missing = [name for name in PACKAGES if not _ready(name)]
        if missing:
            say('Installing real %s into %s (first use)...' % (' and '.join(missing), VENVS))
            started = time.monotonic()
            _install(missing, _uv(say), say)
            say('Installed in %.0f s' % (time.monotonic() - started))
        _install_fake_driver()
    return {name: VENVS / name / 'bin' for name in PACKAGES}
