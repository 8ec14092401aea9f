"""Faults of the servers the service depends on, in the production
topology: RabbitMQ going away gives clients a clear 503 and the processes
reconnect by themselves; the database dropping every connection, and a
real restart of a database server (a private MariaDB or PostgreSQL, as
the shared ones serve every other test), are survived the same way."""
import shutil
import subprocess
import time

import pytest
import requests
import sqlalchemy as sa

from blazar.tests import backends
from blazar.tests import private_db
from blazar.tests.integration.test_processes import Deployment

ADMIN = {'X-Auth-Token': 'admin:admin'}


@pytest.fixture(scope='module')
def deployment(tmp_path_factory):
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    running = Deployment(tmp_path_factory.mktemp('faults'))
    try:
        yield running
    finally:
        running.stop()


def _get(url):
    return requests.get(url + '/leases', headers=ADMIN, timeout=60)


def _eventually_ok(url, procs, timeout=90):
    deadline = time.time() + timeout
    while True:
        resp = _get(url)
        if resp.status_code == 200:
            return resp
        assert time.time() < deadline, (resp.status_code, resp.text, procs.logs())
        time.sleep(1)


def _rabbitmqctl(*args):
    subprocess.run(['rabbitmqctl'] + list(args), check=True, capture_output=True,
                   timeout=120)


@pytest.mark.exclusive   # the other workers' tests use this RabbitMQ
def test_rabbitmq_going_away_is_a_clear_503_and_recovery_is_automatic(deployment):
    if shutil.which('rabbitmqctl') is None:
        pytest.skip('rabbitmqctl is not installed: cannot stop and start RabbitMQ')
    url = deployment.url
    assert _get(url).status_code == 200
    _rabbitmqctl('stop_app')
    try:
        resp = _get(url)
        assert resp.status_code == 503, resp.text
        assert resp.json()['error_code'] == 503
    finally:
        _rabbitmqctl('start_app')
    _eventually_ok(url, deployment.procs)
    # The manager serves again: a lease can be made and read.
    created = requests.post(url + '/leases', headers=ADMIN, timeout=60, json={
        'name': 'after-rabbit', 'start_date': 'now', 'end_date': time.strftime(
            '%Y-%m-%d %H:%M', time.gmtime(time.time() + 3600))})
    assert created.status_code == 201, created.text


def test_database_connections_dropped_are_survived(deployment):
    url = deployment.url
    assert _get(url).status_code == 200
    admin = sa.create_engine(backends.MARIADB_URL, isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        ids = [row[0] for row in conn.execute(sa.text(
            'SELECT id FROM information_schema.processlist WHERE db = :db'),
            {'db': deployment.db_name})]
        for conn_id in ids:
            try:
                conn.execute(sa.text('KILL CONNECTION %d' % conn_id))
            except sa.exc.DBAPIError:
                pass      # closed meanwhile
    admin.dispose()
    assert ids, 'the processes held no connection to drop'
    # oslo.db notices the dead connections and reconnects: at most one
    # answer may be an error, and it is a JSON one, not a traceback.
    first = _get(url)
    assert first.status_code in (200, 503), first.text
    assert 'error_message' in first.json() or 'leases' in first.json()
    _eventually_ok(url, deployment.procs, timeout=30)


def _lease_body(name):
    return {'name': name, 'start_date': 'now', 'end_date': time.strftime(
        '%Y-%m-%d %H:%M', time.gmtime(time.time() + 3600))}


@pytest.fixture(params=['mariadb', 'postgresql'])
def private_server(request, tmp_path):
    backends.require('rabbitmq')
    if request.param == 'mariadb':
        database = private_db.PrivateMariaDB(tmp_path)
    else:
        database = private_db.PrivatePostgreSQL()
    try:
        yield database.start()
    finally:
        database.close()


def test_a_database_restart_is_a_clear_error_and_recovery_is_automatic(private_server,
                                                                        tmp_path):
    database = private_server
    running = None
    try:
        (tmp_path / 'blazar').mkdir()
        running = Deployment(tmp_path / 'blazar', server=database.url)
        url = running.url
        created = requests.post(url + '/leases', headers=ADMIN, timeout=60,
                                json=_lease_body('before-restart'))
        assert created.status_code == 201, created.text
        database.stop()
        # While it is down: a clear JSON error, never a traceback, and the
        # failed create leaves nothing behind once the database is back.
        down = requests.post(url + '/leases', headers=ADMIN, timeout=60,
                             json=_lease_body('while-down'))
        assert down.status_code == 503, down.text
        assert down.json()['error_code'] == 503
        assert down.json()['error_message'].startswith('The database is unavailable')
        database.start()
        leases = _eventually_ok(url, running.procs).json()['leases']
        assert [lease['name'] for lease in leases] == ['before-restart']
        after = requests.post(url + '/leases', headers=ADMIN, timeout=60,
                              json=_lease_body('after-restart'))
        assert after.status_code == 201, after.text
    finally:
        if running is not None:
            running.stop(drop_database=False)
