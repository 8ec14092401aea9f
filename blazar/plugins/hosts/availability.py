"""physical:host availability: how many, how long, when, and the calendar.

Every answer is computed from the inputs lease creation uses
(:func:`.plugin.load_candidates`, :func:`.plugin.load_busy`, the property
query of :func:`.plugin.check_params`, ``[DEFAULT] cleaning_time``) by the
functions of :mod:`blazar.allocation.availability`, which share
:func:`blazar.allocation.windows.scan` with
:func:`blazar.allocation.hosts.select_hosts`. So a window reported free for
``count`` hosts is one a lease create accepts for ``min = max = count``
(unless the calendar changes in between: then the create answers 409).

The loaded calendar is cached, and caught up by deltas
------------------------------------------------------
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
log's index) and reloads those hosts alone: their row and capabilities,
their allocations and maintenance (three queries on primary keys and
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
"""
import collections
import datetime
import threading

from oslo_utils import timeutils

from blazar.allocation import availability
from blazar.allocation import deltas
from blazar.allocation import hosts as host_allocation
from blazar.allocation import properties
from blazar.allocation import windows
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins.hosts import inventory
from blazar.plugins.hosts import plugin

RESOURCE_TYPE = inventory.RESOURCE_TYPE
# A delta touching more hosts than this reloads everything instead (a
# handful of big changes; it also bounds the IN lists of the delta).
DELTA_HOSTS = 1000
# How old the cached rows may get before a delta drops those that ended.
TRIM_AFTER = datetime.timedelta(minutes=10)

Snapshot = collections.namedtuple(
    'Snapshot', 'engine generation margin loaded_at candidates busy')
Snapshot.__doc__ = ('The calendar as lease creation would load it: '
                    'reservable hosts (allocation Host objects) and busy '
                    'intervals by host id.')


def check_params(params):
    """The property queries, normalised exactly as a lease create stores
    them (400 naming the field if malformed, or for an unknown key)."""
    checked = plugin.check_params(dict(params, min=1, max=1))
    return {'hypervisor_properties': checked['hypervisor_properties'],
            'resource_properties': checked['resource_properties']}


def reservation_body(count, params):
    """The reservation of a lease body asking exactly ``count`` hosts."""
    return {'resource_type': RESOURCE_TYPE, 'min': count, 'max': count,
            'hypervisor_properties': params['hypervisor_properties'],
            'resource_properties': params['resource_properties']}


class HostAvailability:
    """Answers for ``physical:host``; one instance per manager (it holds
    the cached calendar)."""

    resource_type = RESOURCE_TYPE
    check_params = staticmethod(check_params)
    reservation_body = staticmethod(reservation_body)
    margin = staticmethod(plugin.margin)

    def __init__(self, plugin=None):
        # ``plugin``: the physical:host plugin (unused: this module calls
        # its functions directly).
        self._lock = threading.Lock()
        self._snapshot = None
        self.loads = 0          # how many times the calendar was loaded
        self.deltas = 0         # how many times it caught up with a delta

    # --- the calendar ----------------------------------------------------
    def snapshot(self, context):
        """The current calendar: the cached one if the generation of the
        allocation lock has not moved, else the cached one brought up to
        date with the hosts that changed (four queries), else a fresh load
        (three queries)."""
        engine = db_api.get_engine()
        margin = plugin.margin()
        with db_api.reading(context):
            generation = db_api.allocation_generation(context)
            cached = self._snapshot
            if (cached is None or cached.engine is not engine
                    or cached.margin != margin):
                cached = None
            elif cached.generation == generation:
                return cached
            now = timeutils.utcnow()
            snap = None
            if cached is not None and cached.generation < generation:
                snap = self._catch_up(context, cached, generation, now)
            if snap is None:
                snap = Snapshot(engine, generation, margin, now,
                                plugin.load_candidates(context),
                                plugin.load_busy(context, now))
                self.loads += 1
        with self._lock:
            current = self._snapshot
            if (current is None or current.engine is not engine
                    or current.generation <= generation):
                self._snapshot = snap
        return snap

    def _catch_up(self, context, cached, generation, now):
        """``cached`` brought to ``generation`` with the hosts changed since
        its own (None when a full load is due)."""
        touched = db_api.calendar_changes_since(context, cached.generation)
        if touched is None or len(touched) > DELTA_HOSTS:
            return None
        loaded_at = cached.loaded_at
        candidates, busy = cached.candidates, cached.busy
        if touched:
            ids = sorted(touched)
            candidates = deltas.merge_hosts(
                candidates, ids, plugin.load_candidates(context, host_ids=ids))
            busy = deltas.merge_by_host(
                busy, ids, plugin.load_busy(context, loaded_at, host_ids=ids))
        if now - loaded_at >= TRIM_AFTER:
            busy = deltas.trim(busy, now - cached.margin)
            loaded_at = now
        self.deltas += 1
        return cached._replace(generation=generation, loaded_at=loaded_at,
                               candidates=candidates, busy=busy)

    def forget(self):
        """Drop the cached calendar (the next question reloads it)."""
        with self._lock:
            self._snapshot = None

    @staticmethod
    def _matching(snap, params):
        query = properties.combine(params['hypervisor_properties'],
                                   params['resource_properties'])
        hosts, matching = host_allocation.filter_candidates(snap.candidates,
                                                            query)
        return hosts, matching

    # --- the questions ----------------------------------------------------
    def how_many(self, context, window, params):
        """The largest ``max`` (with ``min = max``) a lease for ``window``
        gets: the matching hosts free for the whole window."""
        snap = self.snapshot(context)
        hosts, matching = self._matching(snap, params)
        free = availability.max_free_count(
            snap.busy, window, snap.margin, hosts=[h.id for h in matching])
        return {'reservable': len(hosts), 'matching': len(matching),
                'max': free}

    def how_long(self, context, start, count, params):
        """The latest end of a lease of ``count`` hosts starting at
        ``start``: ``(end, free)``, ``end`` None when unbounded (that many
        hosts have nothing booked after ``start``), ``end == start`` when
        not even one minute is free."""
        snap = self.snapshot(context)
        _, matching = self._matching(snap, params)
        run = availability.longest_free_run(
            snap.busy, start, count, snap.margin,
            hosts=[h.id for h in matching])
        if run is None:
            return start, 0
        return run.end, len(run.hosts)

    def offerings(self, context, count, duration, frame, limit, params):
        """Up to ``limit`` windows of ``duration`` inside ``frame``,
        earliest first, each free on at least ``count`` matching hosts:
        ``[(start, end, free hosts), ...]``."""
        snap = self.snapshot(context)
        _, matching = self._matching(snap, params)
        if frame[1] - frame[0] < duration:
            return []
        found = availability.find_windows(
            snap.busy, count, duration, frame, k=limit, margin=snap.margin,
            hosts=[h.id for h in matching])
        return [(w.start, w.end, len(w.hosts)) for w in found]

    def calendar(self, context, frame, params, detail=False, page=None):
        """The number of matching hosts free at each instant of ``frame``
        (a step function), and with ``detail`` each host's busy intervals
        with their reservation, lease and project: every matching host, or
        with ``page`` (limit, marker) a page of them by id, whose
        allocations alone are read when the cached calendar answers the
        profile."""
        with db_api.reading(context):
            snap = self.snapshot(context)
            margin = snap.margin
            # The cached calendar holds every allocation that can reach a
            # frame starting at or after its load (allocations have minute
            # precision): only the administrator's detail, or a frame
            # reaching into the past, needs its own query.
            loaded = snap.loaded_at.replace(second=0, microsecond=0)
            rows = None
            _, matching = self._matching(snap, params)
            shown = base.host_page(matching, page) if detail else []
            if frame[0] < loaded or (detail and not page):
                rows = db_api.calendar_rows(context, frame[0] - margin,
                                            windows.later(frame[1], margin))
            elif detail:
                rows = db_api.calendar_rows(context, frame[0] - margin,
                                            windows.later(frame[1], margin),
                                            host_ids=[h.id for h in shown])
        ids = [h.id for h in matching]
        if rows is None:
            busy = snap.busy
        else:
            busy = {}
            for row in rows:
                busy.setdefault(row['compute_host_id'], []).append(
                    (row['start_date'], row['end_date']))
        profile = availability.free_count_profile(busy, frame, margin,
                                                  hosts=ids)
        result = {'total': len(ids), 'cleaning_time': margin,
                  'profile': profile}
        if detail:
            by_host = {}
            for row in rows:
                by_host.setdefault(row['compute_host_id'], []).append({
                    key: row[key] for key in (
                        'start_date', 'end_date', 'reservation_id',
                        'lease_id', 'project_id')})
            result['hosts'] = [{
                'id': h.id,
                'hypervisor_hostname': h.attributes.get('hypervisor_hostname'),
                'busy': by_host.get(h.id, [])} for h in shown]
        return result
