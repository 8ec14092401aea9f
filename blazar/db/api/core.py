"""Engine, transactions and the allocation lock: what every store module uses.

Every function takes the request context first: a call made while the
context is inside ``transaction(context)`` joins that transaction, so the
manager can make a multi-step change atomic without touching sessions.
"""
import contextlib
import os
import threading

from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm

from blazar import conf  # noqa: F401  registers [database]
from blazar.db import models

CONF = cfg.CONF

_facade_lock = threading.Lock()
_facade = None

COMPUTE_LOCK = 'compute'

__all__ = [
    'COMPUTE_LOCK',
    'reset_facade',
    'get_engine',
    'transaction',
    'reading',
    'allocation_lock',
    'allocation_generation',
    'utcnow',
]


@sa.event.listens_for(sa.engine.Engine, 'connect')
def _sqlite_waits_for_writers(dbapi_connection, connection_record):
    """SQLite serialises writers: make them wait their turn (the allocation
    lock is held for milliseconds) instead of failing, and let readers run
    beside a writer."""
    import sqlite3
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        cursor.execute('PRAGMA journal_mode = WAL')
        cursor.close()


@sa.event.listens_for(orm.Session, 'do_orm_execute')
def _no_needless_synchronisation(state):
    """An UPDATE or DELETE through the session brings the objects it holds
    up to date; on MariaDB (no UPDATE ... RETURNING) that costs a SELECT of
    the matched keys first, under the allocation lock as often as not. When
    the session holds no object of the statement's class there is nothing
    to bring up to date: skip it (a statement that says how to synchronise
    keeps its way)."""
    if not (state.is_update or state.is_delete) or \
            'synchronize_session' in state.execution_options:
        return
    mapper = state.bind_mapper
    if mapper is None or any(isinstance(obj, mapper.class_)
                             for obj in state.session.identity_map.values()):
        return
    state.update_execution_options(synchronize_session=False)


def _ensure_sqlite_directory():
    """The embedded default keeps SQLite under [DEFAULT] state_path, which
    does not exist on a fresh checkout."""
    url = CONF.database.connection or ''
    if url.startswith('sqlite:///') and ':memory:' not in url:
        directory = os.path.dirname(url[len('sqlite:///'):].split('?', 1)[0])
        if directory:
            os.makedirs(directory, exist_ok=True)


def _get_facade():
    global _facade
    if _facade is None:
        with _facade_lock:
            if _facade is None:
                _ensure_sqlite_directory()
                facade = enginefacade.transaction_context()
                facade.configure(sqlite_fk=True)
                _facade = facade
    return _facade


def reset_facade():
    """Forget the engine (after the [database] options changed)."""
    global _facade
    with _facade_lock:
        if _facade is not None:
            try:
                _facade.dispose_pool()
            except Exception:  # noqa: BLE001 - a never-started facade has no pool
                pass
        _facade = None


def get_engine():
    return _get_facade().writer.get_engine()


@contextlib.contextmanager
def transaction(context):
    """Context manager: everything done with ``context`` inside is one unit.

    On SQLite the write lock is taken first: a transaction that read and
    then wrote would fail at once (not wait) when another connection wrote
    in between, since its snapshot is then stale."""
    with _get_facade().writer.using(context) as session:
        if session.get_bind().dialect.name == 'sqlite':
            session.execute(_TAKE_WRITE_LOCK)
        yield session


# A write that changes nothing: SQLite takes its write lock for it (waiting
# its turn under busy_timeout).
_TAKE_WRITE_LOCK = sa.text('UPDATE allocation_locks SET generation = generation WHERE 1 = 0')


def _reader(context):
    return _get_facade().reader.using(context)


def reading(context):
    """One read-only transaction: what is read inside is one consistent view
    on backends with snapshot reads (MariaDB's REPEATABLE READ, SQLite)."""
    return _reader(context)


def _row(obj, exclude=()):
    return {c.key: getattr(obj, c.key)
            for c in sa.inspect(obj).mapper.column_attrs if c.key not in exclude}


def _create(context, model, values):
    with transaction(context) as session:
        row = model(**values)
        session.add(row)
        session.flush()
        return _row(row)


def _update(context, model, row_id, values):
    """Set values on a row in one statement (no read first, and no eager
    load of its relations); False if there is no such row. Rows the
    session already holds are brought up to date with it."""
    with transaction(context) as session:
        key = sa.inspect(model).primary_key[0]
        return session.execute(sa.update(model).where(key == row_id)
                               .values(**values)).rowcount == 1


def _earliest(session, queries):
    """The earliest of the times that single-value ``queries`` give (None
    if none does), asked in one statement: a loop's next wake-up costs one
    round trip."""
    times = session.execute(sa.select(*(q.scalar_subquery() for q in queries))).one()
    times = [t for t in times if t is not None]
    return min(times) if times else None


def allocation_lock(context, name=COMPUTE_LOCK):
    """Serialise allocation decisions until the enclosing transaction ends.

    Must be the first statement of the transaction: it takes a row lock on
    MariaDB/PostgreSQL and the write lock on SQLite before anything is read,
    so what is read afterwards includes every allocation committed before.
    Rows are not written before it either: on MariaDB a holder's locking
    read (an INSERT ... SELECT's next-key locks) could then wait for a row
    of a transaction that waits for the lock.

    The same statement hands back the lock's new generation, which
    ``allocation_generation`` then answers without asking the database.
    """
    session = context.session
    lock = models.AllocationLock
    bumped = lock.generation + 1
    query = sa.update(lock).where(lock.name == name)
    if session.get_bind().dialect.name == 'mysql':
        # No UPDATE ... RETURNING on MariaDB: LAST_INSERT_ID(expr) hands
        # the value back in the statement's own answer.
        result = session.execute(query.values(generation=sa.func.last_insert_id(bumped)))
        generation = result.lastrowid if result.rowcount else None
    else:
        generation = session.execute(
            query.values(generation=bumped).returning(lock.generation)).scalar()
    if generation is None:
        session.add(lock(name=name, generation=1))
        session.flush()
        generation = 1
    session.info.setdefault(_HELD_GENERATIONS, {})[name] = generation


# session.info key: {lock name: generation} of the locks the session holds.
_HELD_GENERATIONS = 'blazar_allocation_generations'


def allocation_generation(context, name=COMPUTE_LOCK):
    """The allocation lock's counter: every transaction that takes the lock
    (each change of hosts or allocations) adds one when it commits. 0 before
    the first such change. Inside a transaction holding the lock, its own
    (bumped) generation."""
    with _reader(context) as session:
        held = session.info.get(_HELD_GENERATIONS, {}).get(name)
        if held is not None:
            return held
        return session.scalar(
            sa.select(models.AllocationLock.generation)
            .where(models.AllocationLock.name == name)) or 0


def utcnow():
    return timeutils.utcnow()
