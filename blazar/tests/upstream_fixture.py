"""Upstream OpenStack Blazar 18.0.0, to make real upstream databases.

The conversion of an upstream database (blazar/db/migration/upstream.py)
is tested on databases made by upstream's own ``blazar-db-manage``. Upstream
Blazar is installed from the package index into a virtualenv of its own
in the machine's test cache (blazar/tests/cache.py; ``$BLAZAR_UPSTREAM_VENV``
overrides), once, and reused while its marker names the same packages; the
tests skip, saying why, when the index cannot be reached. Only these tests
run it, as a separate program: the service never imports upstream code.

Upstream's migrations were written for MySQL: two of them fail on
PostgreSQL. ``75a74e4539cb`` reads the leases through a second connection,
which cannot see the tables the first one has not committed yet (so the
upgrade is run in steps that commit before it), and ``02e2f2186d98`` uses
MySQL-only SQL (a double-quoted string literal, ``UPDATE ... JOIN``): on
PostgreSQL its schema change is made here, as an operator has to, with the
same result on an empty database, and stamped; upstream's own command then
runs the rest.
"""
import fcntl
import pathlib
import subprocess
import time

import sqlalchemy as sa

from blazar.tests import cache
from blazar.tests import keystone_fixture

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV = cache.venv('blazar18-venv', 'BLAZAR_UPSTREAM_VENV')
PACKAGES = ('blazar==18.0.0', 'PyMySQL', 'psycopg2-binary')
INSTALL_TIMEOUT = 900
HEAD = '553383923ca0'

# On PostgreSQL (see the module docstring): commit before 75a74e4539cb,
# make 02e2f2186d98's change here.
PG_STEPS_BEFORE = ('e66f199a5414', 'f4084140f608')
PG_MANUAL_REVISION = '02e2f2186d98'
PG_MANUAL_DDL = (
    'CREATE TABLE resource_properties ('
    ' id VARCHAR(36) NOT NULL PRIMARY KEY,'
    ' resource_type VARCHAR(255) NOT NULL,'
    ' property_name VARCHAR(255) NOT NULL,'
    ' private BOOLEAN DEFAULT false NOT NULL,'
    ' created_at TIMESTAMP WITHOUT TIME ZONE,'
    ' updated_at TIMESTAMP WITHOUT TIME ZONE,'
    ' UNIQUE (resource_type, property_name))',
    'ALTER TABLE computehost_extra_capabilities '
    'ADD COLUMN property_id VARCHAR(255) NOT NULL',
    'ALTER TABLE computehost_extra_capabilities '
    'ADD CONSTRAINT computehost_resource_property_id_fk '
    'FOREIGN KEY (property_id) REFERENCES resource_properties (id)',
    'ALTER TABLE computehost_extra_capabilities DROP COLUMN capability_name',
)


class Unavailable(Exception):
    """Upstream Blazar cannot be installed here; the message says why."""


def ensure_venv(say=print):
    """The bin directory of upstream Blazar's virtualenv, installing it on
    first use (two test runs share it, under a lock)."""
    marker = VENV / '.blazar-packages'
    wanted = ' '.join(PACKAGES)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / (VENV.name + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted and \
                (VENV / 'bin' / 'blazar-db-manage').exists():
            return VENV / 'bin'
        say('Installing %s into %s (first use; a minute or two)...' % (wanted, VENV))
        started = time.monotonic()
        keystone_fixture.build_venv(VENV, PACKAGES, 'Upstream Blazar', INSTALL_TIMEOUT,
                                    Unavailable)
        marker.write_text(wanted)
        say('Upstream Blazar installed in %.0f s' % (time.monotonic() - started))
        return VENV / 'bin'


def _manage(bin_dir, config, *args):
    result = subprocess.run([str(bin_dir / 'blazar-db-manage'), '--config-file',
                             str(config)] + list(args),
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError('upstream blazar-db-manage %s failed:\n%s'
                           % (' '.join(args), result.stderr[-4000:]))


def create_schema(bin_dir, url, workdir):
    """Upstream Blazar 18's schema (revision 553383923ca0) in the empty
    database at ``url`` (MySQL/MariaDB or PostgreSQL)."""
    config = pathlib.Path(workdir) / 'upstream-blazar.conf'
    config.write_text('[database]\nconnection = %s\n' % url)
    if url.startswith('postgresql'):
        for revision in PG_STEPS_BEFORE:
            _manage(bin_dir, config, 'upgrade', revision)
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                for statement in PG_MANUAL_DDL:
                    connection.execute(sa.text(statement))
        finally:
            engine.dispose()
        _manage(bin_dir, config, 'stamp', PG_MANUAL_REVISION)
    _manage(bin_dir, config, 'upgrade', 'head')
    return config
