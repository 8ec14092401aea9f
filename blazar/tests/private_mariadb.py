"""A MariaDB server of a test's own, to stop and start for real.

The shared server on 3306 serves every other test, so a test that restarts
its database gets a private one: ``mariadb-install-db`` makes a data
directory in the test's temporary directory, and ``mariadbd`` serves it on
a free loopback port (root, no password, as the shared one). Skips, naming
what is missing, where the MariaDB server binaries are not installed.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import sqlalchemy as sa

from blazar.tests import keystone_fixture

CANDIDATES = {'server': ('mariadbd', 'mysqld'),
              'installer': ('mariadb-install-db', 'mysql_install_db')}
SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/usr/bin'])


def _binary(kind):
    for name in CANDIDATES[kind]:
        found = shutil.which(name, path=SEARCH_PATH)
        if found:
            return found
    pytest.skip('the MariaDB server is not installed (no %s found): cannot run a '
                'private server to restart' % ' or '.join(CANDIDATES[kind]))


class PrivateMariaDB:
    """``url`` (no database), ``start()``, ``stop()``."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.datadir = workdir / 'data'
        self.port = keystone_fixture.free_port()
        self.url = 'mysql+pymysql://root@127.0.0.1:%d' % self.port
        self._server = _binary('server')
        self._proc = None
        subprocess.run([_binary('installer'), '--no-defaults',
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
        engine = sa.create_engine(self.url)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with engine.connect():
                        return self
                except sa.exc.OperationalError:
                    if self._proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError('mariadbd did not start:\n%s' % self.logs())
                    time.sleep(0.2)
        finally:
            engine.dispose()

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

    def logs(self, chars=3000):
        path = self.workdir / 'mariadbd.log'
        return path.read_text()[-chars:] if path.exists() else ''
