"""Database servers of a test's own, to stop and start for real.

The shared servers serve every other test, so a test that restarts its
database gets a private one on a free loopback port, with the same
account as the shared one:

* MariaDB: ``mariadb-install-db`` makes a data directory in the test's
  temporary directory and ``mariadbd`` serves it (root, no password);
* PostgreSQL: ``initdb`` and ``pg_ctl`` (user ``postgres``, trust), run as
  the ``postgres`` system user when the tests run as root, since
  PostgreSQL refuses to run as root.

Each skips, naming what is missing, where its server is not installed.
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import sqlalchemy as sa

from blazar.tests import keystone_fixture
from blazar.tests import ports

SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/usr/bin']
                              + sorted(glob.glob('/usr/lib/postgresql/*/bin'), reverse=True))


def _binary(server, *names):
    for name in names:
        found = shutil.which(name, path=SEARCH_PATH)
        if found:
            return found
    pytest.skip('the %s server is not installed (no %s found): cannot run a '
                'private server to restart' % (server, ' or '.join(names)))


def _wait_until_connectable(url, alive, logs, timeout=60):
    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect():
                    return
            except sa.exc.OperationalError:
                if not alive() or time.monotonic() > deadline:
                    raise RuntimeError('the private database server did not start:\n%s'
                                       % logs())
                time.sleep(0.2)
    finally:
        engine.dispose()


class PrivateMariaDB:
    """``url`` (no database), ``start()``, ``stop()``, ``close()``; the data
    directory is in the test's temporary directory."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.datadir = workdir / 'data'
        self.port = ports.free_port()
        self.url = 'mysql+pymysql://root@127.0.0.1:%d' % self.port
        self._server = _binary('MariaDB', 'mariadbd', 'mysqld')
        self._proc = None
        subprocess.run([_binary('MariaDB', 'mariadb-install-db', 'mysql_install_db'),
                        '--no-defaults',
                        '--datadir=%s' % self.datadir, '--user=root',
                        '--auth-root-authentication-method=normal', '--skip-test-db'],
                       check=True, capture_output=True, timeout=120)

    def start(self, timeout=60):
        self._log = open(self.workdir / 'mariadbd.log', 'a')
        self._proc = subprocess.Popen(
            [self._server, '--no-defaults', '--datadir=%s' % self.datadir,
             '--socket=%s' % (self.workdir / 'mariadbd.sock'), '--port=%d' % self.port,
             '--bind-address=127.0.0.1', '--user=root', '--innodb-buffer-pool-size=32M',
             '--pid-file=%s' % (self.workdir / 'mariadbd.pid')],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=keystone_fixture.die_with_parent)
        _wait_until_connectable(self.url, lambda: self._proc.poll() is None, self.logs)
        return self

    def stop(self):
        """A clean shutdown, as a service restart does."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        self._proc = None
        self._log.close()

    def close(self):
        self.stop()

    def logs(self, chars=3000):
        path = self.workdir / 'mariadbd.log'
        return path.read_text()[-chars:] if path.exists() else ''


class PrivatePostgreSQL:
    """``url`` (no database), ``start()``, ``stop()``, ``close()`` (stop and
    remove the data directory, which lives outside the test's temporary
    directory so that the ``postgres`` user can reach it)."""

    def __init__(self):
        self._pg_ctl = _binary('PostgreSQL', 'pg_ctl')
        self._as_user = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam('postgres')
            except KeyError:
                pytest.skip('no postgres system user to run a private PostgreSQL as '
                            '(it refuses to run as root)')
            self._as_user = ['runuser', '-u', 'postgres', '--']
        self.root = tempfile.mkdtemp(prefix='blazar-pg-')
        if self._as_user:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.port = ports.free_port()
        self.url = 'postgresql+psycopg2://postgres@127.0.0.1:%d' % self.port
        self._running = False
        try:
            self._run(_binary('PostgreSQL', 'initdb'), '-D', self._data, '-A', 'trust',
                      '-U', 'postgres')
        except BaseException:       # a skip too: nothing is left in /tmp
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    @property
    def _data(self):
        return os.path.join(self.root, 'data')

    def _run(self, *args):
        subprocess.run(self._as_user + list(args), check=True, capture_output=True,
                       timeout=120)

    def start(self):
        self._run(self._pg_ctl, '-D', self._data, '-l', os.path.join(self.root, 'log'),
                  '-w', '-o', '-p %d -k %s -c listen_addresses=127.0.0.1 '
                  '-c shared_buffers=16MB' % (self.port, self.root), 'start')
        self._running = True
        _wait_until_connectable(self.url, lambda: True, self.logs)
        return self

    def stop(self):
        """A fast shutdown (clients disconnected), as a service restart does."""
        if self._running:
            self._run(self._pg_ctl, '-D', self._data, '-m', 'fast', '-w', 'stop')
            self._running = False

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self, chars=3000):
        path = os.path.join(self.root, 'log')
        if not os.path.exists(path):
            return ''
        with open(path) as f:
            return f.read()[-chars:]
