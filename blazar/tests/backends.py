"""Real servers for the tests: MariaDB, PostgreSQL, RabbitMQ on loopback.

A test that needs one skips, naming the server, when it does not answer;
it never pretends. Each test run uses its own databases (dropped at the
end) so that runs and developers do not see each other's data.
"""
import os
import socket
import uuid

import pytest
import sqlalchemy as sa

MARIADB_URL = os.environ.get('BLAZAR_TEST_MARIADB', 'mysql+pymysql://root@127.0.0.1:3306')
POSTGRESQL_URL = os.environ.get('BLAZAR_TEST_POSTGRESQL',
                                'postgresql+psycopg2://postgres@127.0.0.1:5432')
RABBITMQ_URL = os.environ.get('BLAZAR_TEST_RABBITMQ', 'rabbit://guest:guest@127.0.0.1:5672/')

SERVERS = {
    'mariadb': ('MariaDB', MARIADB_URL, 3306),
    'postgresql': ('PostgreSQL', POSTGRESQL_URL, 5432),
    'rabbitmq': ('RabbitMQ', RABBITMQ_URL, 5672),
}


def _address(url, default_port):
    rest = url.split('://', 1)[1].split('/', 1)[0].rsplit('@', 1)[-1]
    host, _, port = rest.partition(':')
    return host or '127.0.0.1', int(port or default_port)


def require(kind):
    """Skip the calling test unless the server answers."""
    name, url, port = SERVERS[kind]
    host, port = _address(url, port)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.skip('%s is not reachable at %s:%s (%s); start it to run this test'
                    % (name, host, port, exc))


class Database:
    """A fresh, empty database on one backend."""

    def __init__(self, backend, tmp_path_factory):
        self.backend = backend
        self.name = 'blazar_test_%s' % uuid.uuid4().hex[:10]
        if backend == 'sqlite':
            path = tmp_path_factory.mktemp('db') / 'blazar.sqlite'
            self.url = 'sqlite:///%s' % path
            self._admin = None
            return
        require(backend)
        base = MARIADB_URL if backend == 'mariadb' else POSTGRESQL_URL
        admin_db = '' if backend == 'mariadb' else '/postgres'
        self._admin = sa.create_engine(base + admin_db, isolation_level='AUTOCOMMIT')
        with self._admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % self.name))
        suffix = '?charset=utf8mb4' if backend == 'mariadb' else ''
        self.url = '%s/%s%s' % (base, self.name, suffix)

    def drop(self):
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            if self.backend == 'postgresql':
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"), {'n': self.name})
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % self.name))
        self._admin.dispose()
