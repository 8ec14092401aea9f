"""The package as an operator installs it: the source distribution and the
wheel are built from the checkout, the wheel is installed with its
dependencies into a fresh virtualenv outside the source tree, and that
virtualenv's ``blazar-db-manage upgrade head`` makes a new database and its
``blazar-all`` serves the API (a host enrolled in the embedded simulator).

Building and installing need the package index (setuptools for the build,
the requirements for the install); the test skips, saying so, when it
cannot be reached.
"""
import configparser
import email.parser
import os
import pathlib
import re
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest
import requests

from blazar.tests import ports
from blazar.tests import serving

ROOT = pathlib.Path(__file__).resolve().parents[3]
SDIST_HAS = ('LICENSE', 'README.md', 'requirements.txt', 'test-requirements.txt',
             'etc/blazar/blazar.conf.sample', 'etc/blazar/policy.yaml.sample',
             'etc/blazar/blazar-api-uwsgi.ini', 'doc/source/index.rst',
             'doc/source/admin/upgrade-from-upstream.rst', 'devstack/plugin.sh',
             'devstack/settings', 'tools/ensure-venv.sh',
             'blazar/db/migration/alembic.ini',
             'blazar/db/migration/alembic_migrations/env.py',
             'blazar/db/migration/alembic_migrations/versions/0001_initial.py')
WHEEL_HAS = ('blazar/db/migration/alembic.ini',
             'blazar/db/migration/alembic_migrations/env.py',
             'blazar/db/migration/alembic_migrations/script.py.mako',
             'blazar/db/migration/alembic_migrations/versions/0001_initial.py',
             'blazar/wsgi/api.py', 'blazar/api/wsgi.py')


def _run(cmd, cwd, timeout=900, env=None):
    return subprocess.run([str(c) for c in cmd], cwd=str(cwd), capture_output=True,
                          text=True, timeout=timeout, env=env)


def _clean_env():
    """The environment of a shell outside the checkout: nothing of the
    test's virtualenv or source tree on the Python path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    env['PATH'] = os.pathsep.join(p for p in env.get('PATH', '').split(os.pathsep)
                                  if not p.startswith(sys.prefix))
    return env


def _requirements():
    names = []
    for line in (ROOT / 'requirements.txt').read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            names.append(re.split(r'[<>=!~;\[ ]', line, maxsplit=1)[0].lower().replace('_', '-'))
    return names


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist')
    result = _run([sys.executable, '-m', 'build', '--sdist', '--wheel', '--outdir', out,
                   ROOT], cwd=out)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        if 'build' in tail and 'No module named build' in tail:
            pytest.skip('python -m build is not installed (it is in test-requirements.txt)')
        if re.search(r'Could not find a version|NewConnectionError|Network is unreachable|'
                     r'No matching distribution', tail):
            pytest.skip('the package index cannot be reached to build the package:\n'
                        + tail)
        raise AssertionError('python -m build failed:\n' + tail)
    sdist, = out.glob('blazar-*.tar.gz')
    wheel, = out.glob('blazar-*.whl')
    return sdist, wheel


def test_sdist_carries_what_operators_and_packagers_need(built):
    sdist, _wheel = built
    with tarfile.open(sdist) as tar:
        names = {name.split('/', 1)[1] for name in tar.getnames() if '/' in name}
    missing = [name for name in SDIST_HAS if name not in names]
    assert not missing, missing
    assert any(name.startswith('releasenotes/notes/') for name in names)
    assert not [name for name in names if '__pycache__' in name or name.startswith('.state')]


def test_wheel_declares_its_requirements_and_carries_its_data(built):
    _sdist, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name, = [n for n in names if n.endswith('.dist-info/METADATA')]
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(
            metadata_name.replace('METADATA', 'entry_points.txt')).decode())
        license_files = [n for n in names if n.endswith('dist-info/licenses/LICENSE')]
    missing = [name for name in WHEEL_HAS if name not in names]
    assert not missing, missing
    assert license_files
    assert metadata['License'] == 'Apache-2.0' or 'Apache-2.0' in (
        metadata.get('License-Expression') or '')
    declared = {re.split(r'[<>=!~;\[ ]', r, maxsplit=1)[0].lower().replace('_', '-')
                for r in metadata.get_all('Requires-Dist')}
    assert set(_requirements()) <= declared
    assert {'pecan', 'oslo.config', 'sqlalchemy', 'alembic'} <= declared
    assert 'blazar-all' in entry_points['console_scripts']


def test_installed_wheel_migrates_a_database_and_serves_the_api(built, tmp_path):
    _sdist, wheel = built
    venv = tmp_path / 'venv'
    env = _clean_env()
    assert _run([sys.executable, '-m', 'venv', venv], cwd=tmp_path, env=env).returncode == 0
    pip = [venv / 'bin' / 'python', '-m', 'pip', '--disable-pip-version-check']
    probe = _run(pip + ['download', '--no-deps', '-q', '-d', tmp_path / 'probe', 'pbr'],
                 cwd=tmp_path, timeout=120, env=env)
    if probe.returncode != 0:
        pytest.skip('the package index cannot be reached to install the requirements:\n'
                    + probe.stderr[-1500:])
    started = time.monotonic()
    install = _run(pip + ['install', '-q', wheel], cwd=tmp_path, env=env)
    assert install.returncode == 0, install.stderr[-4000:]
    print('wheel and requirements installed in %.0f s' % (time.monotonic() - started))
    # Nothing is imported from the checkout.
    where = _run([venv / 'bin' / 'python', '-c', 'import blazar; print(blazar.__file__)'],
                 cwd=tmp_path, env=env)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr

    port, sim_port = ports.free_port(), ports.free_port()
    config = tmp_path / 'blazar.conf'
    config.write_text('[DEFAULT]\nauth_strategy = noauth\n'
                      '[database]\nconnection = sqlite:///%s\n'
                      '[api]\nbind_port = %d\n[simulator]\nbind_port = %d\n'
                      % (tmp_path / 'new.sqlite', port, sim_port))
    upgrade = _run([venv / 'bin' / 'blazar-db-manage', '--config-file', config, 'upgrade',
                    'head'], cwd=tmp_path, timeout=120, env=env)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    head = _run([venv / 'bin' / 'blazar-db-manage', '--config-file', config, 'current'],
                cwd=tmp_path, timeout=120, env=env)
    assert head.stdout.strip() == _run([venv / 'bin' / 'blazar-db-manage', '--config-file',
                                        config, 'head'], cwd=tmp_path, env=env).stdout.strip()

    log = open(tmp_path / 'blazar-all.log', 'w')
    proc = subprocess.Popen([str(venv / 'bin' / 'blazar-all'), '--config-file', str(config)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=str(tmp_path), env=env)
    url = 'http://127.0.0.1:%d' % port
    try:
        serving.wait_until_serving(url + '/v1/leases', proc, tmp_path / 'blazar-all.log',
                                   timeout=90)
        assert requests.get(url + '/', timeout=10).status_code == 300
        resp = requests.post(url + '/v1/os-hosts', json={'name': 'compute-1'}, timeout=30)
        assert resp.status_code == 201, resp.text
        hosts = requests.get(url + '/v1/os-hosts', timeout=10).json()['hosts']
        assert [h['hypervisor_hostname'] for h in hosts] == ['compute-1']
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
