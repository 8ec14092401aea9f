"""Fixtures shared by all tests."""
import warnings

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from blazar import conf  # noqa: F401
from blazar import policy
from blazar.db import api as db_api
from blazar.db import migration
from blazar.db import models
from blazar.tests import backends

warnings.filterwarnings('ignore', module='eventlet')
warnings.filterwarnings('ignore', message='.*[Ee]ventlet.*')
CONF = cfg.CONF
DB_BACKENDS = ['sqlite', 'mariadb', 'postgresql']


@pytest.fixture(autouse=True)
def config():
    """A clean configuration for every test."""
    CONF([], project='blazar', default_config_files=[])
    CONF.set_override('auth_strategy', 'noauth')
    CONF.set_override('transport_url', 'fake:/')
    CONF.set_override('minutes_before_end_lease', 0, group='manager')
    CONF.set_override('grace_period', 0, group='preemptible')
    CONF.set_override('reconcile_interval', 0, group='manager')
    # Notifications are recorded in memory (oslo.messaging's test driver).
    CONF.set_override('driver', ['test'], group='oslo_messaging_notifications')
    yield CONF
    CONF.reset()
    policy.reset()


_databases = {}


@pytest.fixture(scope='session')
def _database_pool(tmp_path_factory):
    """One database per backend for the whole run (per test worker),
    dropped at the end. (It was made with ``dict.setdefault``, whose
    argument is built on every call: each test created a database it never
    used nor dropped.)"""
    def get(backend):
        if backend not in _databases:
            _databases[backend] = backends.Database(backend, tmp_path_factory)
        return _databases[backend]
    yield get
    for database in _databases.values():
        db_api.reset_facade()
        database.drop()


def _use_database(database):
    CONF.set_override('connection', database.url, group='database')
    db_api.reset_facade()
    if not getattr(database, 'migrated', False):
        migration.upgrade('head')
        database.migrated = True
    _empty_tables()


def _empty_tables():
    """Every row gone, past the store functions: the calendar change log
    gets the mark that makes a manager's calendar reload in full (as after
    a pruned log), since these deletions are not logged host by host."""
    engine = db_api.get_engine()
    with engine.begin() as conn:
        for table in reversed(models.Base.metadata.sorted_tables):
            if table.name != 'allocation_locks':
                conn.execute(table.delete())
        lock = models.AllocationLock.__table__
        generation = conn.scalar(sa.select(sa.func.max(lock.c.generation))) or 0
        conn.execute(models.CalendarChange.__table__.insert().values(
            generation=generation, host_id=None))


@pytest.fixture
def notifications():
    """The notifications sent during the test: (event_type, payload) pairs."""
    from oslo_messaging.notify import _impl_test
    _impl_test.reset()
    return lambda: [(message['event_type'], message['payload'])
                    for _ctxt, message, _priority, _retry in _impl_test.NOTIFICATIONS]


@pytest.fixture(params=DB_BACKENDS)
def database(request, _database_pool):
    """The store on each backend in turn (skipped where a server is missing)."""
    db = _database_pool(request.param)
    _use_database(db)
    yield db
    db_api.reset_facade()


@pytest.fixture
def sqlite_database(_database_pool):
    """The store on SQLite only, for logic that does not depend on the backend."""
    db = _database_pool('sqlite')
    _use_database(db)
    yield db
    db_api.reset_facade()


# Fixtures of a wider scope that are cheap enough to make once per worker.
_PER_WORKER = {'shared_stack', 'openapi_responses', '_database_pool'}


@pytest.hookimpl(tryfirst=True)   # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``), keep together the tests
    that share a costly fixture of module, package or session scope (a
    Keystone, a real Nova, a Horizon, a built wheel), so each is started
    once, on one worker; every other test goes to whichever worker is free."""
    for item in items:
        group = _costly_scope(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def _costly_scope(item):
    info = getattr(item, '_fixtureinfo', None)
    if info is None:
        return None
    owners = [definition.baseid
              for name, definitions in info.name2fixturedefs.items()
              if name not in _PER_WORKER
              for definition in definitions
              if definition.scope != 'function' and definition.baseid]  # '': pytest's own
    return min(owners, key=len, default=None)
