"""The physical:host calendar a manager keeps in memory: the reservable
hosts and what holds each of them, as lease creation and availability read
it.

Loading every host and every current or future allocation is most of the
cost of a question (10,000 hosts and 100,000 allocations take about a
second on MariaDB; the computation itself tens of milliseconds). So the
manager keeps the calendar in memory, keyed by the generation of the
allocation lock (``allocation_locks.generation``): every transaction that
changes hosts or allocations takes that lock first (lease create, update,
delete and events in :mod:`blazar.manager.leases`; host enrolment, update
and removal in :mod:`.inventory`; health in :mod:`.health`), which adds
one to the generation when it commits, and records the hosts it touched
in the calendar change log (:mod:`blazar.db.api.calendar`), stamped with
that generation.

A question first reads the generation (one primary-key lookup). If it has
not moved, the cached calendar answers. If it moved, the manager reads
which hosts changed since the generation it holds (one range scan of the
log's index) and reloads those hosts alone: their allocations and
maintenance, and their row and capabilities where a change touched those
and not only allocations (one to three queries on primary keys and
ix_allocations_host_window), merged into a new calendar by
:mod:`blazar.allocation.deltas`. The manager that made the change catches
up the same way, on the hosts it touched. A full load happens only on the
first question, when the log was pruned past the generation held
(:func:`blazar.db.api.calendar_changes_prune`), when a delta touches more
than :data:`DELTA_HOSTS` hosts, or when the database or the cleaning time
changed.

The rows are read in one transaction with the generation; on backends
without snapshot reads (PostgreSQL's READ COMMITTED) the generation is read
first, so a load or delta may include newer rows than its key but never
older ones: those hosts are read again by the next delta, which is exact.
Anything that writes hosts or allocations without the lock and the log
(hand edits in the database) is seen after a manager restart.

The cached rows are those ending after ``load time - cleaning time``; rows
that end between the load and a later question cannot conflict with a window
starting at or after that question, so the cached calendar gives the same
answers as a fresh load. A delta reads its hosts' rows from the same
``load time``, so the merged calendar is exactly what a full load at that
time would read now; once that time is :data:`TRIM_AFTER` old, a delta also
drops the rows that ended since (:func:`blazar.allocation.deltas.trim`) and
moves the load time to now, so the calendar does not grow with time.

Lease writes use it too (:meth:`CalendarCache.locked_view`, under the
allocation lock, inside the writing transaction): the cached calendar
caught up to what that transaction sees, its own changes included, so a
create or update reads the hosts changed since the cache's generation
instead of every host and allocation. What it read is kept for later
questions when the transaction had changed no calendar yet: it is then
the calendar of the last commit, whose generation is the one before the
transaction's own bump of the lock (nobody else can commit meanwhile: the
lock is held), and stays right whether the transaction commits or not.
"""
import collections
import datetime
import threading

from oslo_utils import timeutils

from blazar.allocation import deltas
from blazar.db import api as db_api

# A delta touching more hosts than this reloads everything instead (a
# handful of big changes; it also bounds the IN lists of the delta).
DELTA_HOSTS = 1000
# How old the cached rows may get before a delta drops those that ended.
TRIM_AFTER = datetime.timedelta(minutes=10)

Snapshot = collections.namedtuple(
    'Snapshot', 'engine generation margin loaded_at candidates busy')
Snapshot.__doc__ = ('The calendar as lease creation would load it: '
                    'reservable hosts (allocation Host objects) and what '
                    'holds them by host id (busy intervals; for an instance '
                    "shape's calendar, holdings).")


class CalendarCache:
    """One manager's calendar. ``load(context, since, host_ids=None,
    rows_of=None)`` gives ``(candidates, busy)`` as the physical:host plugin
    (or an instance plugin, for one shape) reads them: the hosts (those of
    ``rows_of`` only if given, else those of ``host_ids`` if given) and what
    holds them (those of ``host_ids``) after ``since - margin()``;
    ``margin()`` is the cleaning time."""

    def __init__(self, load, margin):
        self._load = load
        self._margin = margin
        self._lock = threading.Lock()
        self._snapshot = None
        self.loads = 0          # how many times the calendar was loaded
        self.deltas = 0         # how many times it caught up with a delta

    def snapshot(self, context):
        """The current calendar: the cached one if the generation of the
        allocation lock has not moved, else the cached one brought up to
        date with the hosts that changed (two to four queries), else a fresh load
        (three queries)."""
        engine = db_api.get_engine()
        margin = self._margin()
        with db_api.reading(context):
            generation = db_api.allocation_generation(context)
            cached = self._usable(engine, margin)
            if cached is not None and cached.generation == generation:
                return cached
            snap, _changed = self._read(context, cached, engine, generation, margin)
        self._keep(snap)
        return snap

    def locked_view(self, context):
        """Inside a transaction holding the allocation lock: the calendar as
        that transaction sees it (see the module's docstring)."""
        engine = db_api.get_engine()
        margin = self._margin()
        own = db_api.allocation_generation(context)
        snap, newest = self._read(context, self._usable(engine, margin), engine, own,
                                  margin)
        if newest is None:    # a full load: did this transaction change any?
            newest = db_api.calendar_delta(context, own)[2]
        if newest < own:
            self._keep(snap._replace(generation=own - 1))
        return snap

    def forget(self):
        """Drop the cached calendar (the next question reloads it)."""
        with self._lock:
            self._snapshot = None

    def _usable(self, engine, margin):
        cached = self._snapshot
        if cached is None or cached.engine is not engine or cached.margin != margin:
            return None
        return cached

    def _read(self, context, cached, engine, generation, margin):
        """(calendar at ``generation``, the newest generation among the
        changes read (0: none), or None after a full load)."""
        now = timeutils.utcnow()
        if cached is not None and cached.generation <= generation:
            caught = self._catch_up(context, cached, generation, now)
            if caught is not None:
                return caught
        self.loads += 1
        return Snapshot(engine, generation, margin, now, *self._load(context, now)), None

    def _catch_up(self, context, cached, generation, now):
        """``(cached brought to generation, newest change)`` with the hosts
        changed since its own, or None when a full load is due."""
        touched, rows_changed, newest = db_api.calendar_delta(context, cached.generation)
        if touched is None or len(touched) > DELTA_HOSTS:
            return None
        loaded_at = cached.loaded_at
        candidates, busy = cached.candidates, cached.busy
        if touched:
            ids, rows_of = sorted(touched), sorted(rows_changed)
            fresh, held = self._load(context, loaded_at, host_ids=ids, rows_of=rows_of)
            if rows_of:
                candidates = deltas.merge_hosts(candidates, rows_of, fresh)
            busy = deltas.merge_by_host(busy, ids, held)
        if now - loaded_at >= TRIM_AFTER:
            busy = deltas.trim(busy, now - cached.margin)
            loaded_at = now
        self.deltas += 1
        return cached._replace(generation=generation, loaded_at=loaded_at,
                               candidates=candidates, busy=busy), newest

    def _keep(self, snap):
        with self._lock:
            current = self._snapshot
            if (current is None or current.engine is not snap.engine
                    or current.generation <= snap.generation):
                self._snapshot = snap
