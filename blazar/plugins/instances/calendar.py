"""The slot calendars an instance plugin keeps in memory, one per shape:
the hosts able to hold instances of that shape, with their capacity, and
what every reservation holds on them, as :func:`.capacity.load` reads them.

The argument is the host calendar's (:mod:`blazar.plugins.hosts.calendar`):
a calendar is keyed by the generation of the allocation lock, a question
whose generation moved catches up with the hosts changed since (the
calendar change log), and a full load happens only on the first question
for a shape, when the log was pruned past the generation held, or when a
delta is large. The candidates' capacity and traits depend on the shape,
so the cache is per shape (resources and traits; the last
:data:`MAX_SHAPES` shapes asked), each caught up on its own. The cached
holdings are those ending after ``load time - cleaning time``: those that
ended since cannot meet a window starting now or later.

Lease creates use it too (:meth:`SlotCalendars.locked_view`, under the
allocation lock, inside the writing transaction), as host reservations do:
the calendar caught up to what that transaction sees, its own changes
included, instead of every host and holding. It is kept for later
questions when the transaction had changed no calendar yet (it is then the
last commit's).
"""
import collections
import json
import threading

from oslo_utils import timeutils

from blazar.allocation import deltas
from blazar.db import api as db_api
from blazar.plugins.hosts import calendar as host_calendar
from blazar.plugins.hosts import plugin as host_plugin
from blazar.plugins.instances import capacity

# How many shapes' calendars are kept.
MAX_SHAPES = 8

Loaded = collections.namedtuple(
    'Loaded', 'engine generation margin loaded_at candidates holdings')
Loaded.__doc__ = ('What :func:`.capacity.load` gave for a shape, and the '
                  'allocation lock generation it was read at.')


def _key(resources, traits):
    return (json.dumps(resources, sort_keys=True), json.dumps(traits, sort_keys=True))


class SlotCalendars:
    """One plugin's calendars, by shape."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cache = collections.OrderedDict()     # shape key -> Loaded
        self.loads = 0          # how many times a calendar was loaded
        self.deltas = 0         # how many times one caught up with a delta

    def snapshot(self, context, resources, traits):
        """The calendar for the shape: the cached one if the generation of
        the allocation lock has not moved, else the cached one caught up
        with the hosts that changed (six queries), else a fresh load (its
        four queries, with the generation, in one read transaction)."""
        key = _key(resources, traits)
        with db_api.reading(context):
            generation = db_api.allocation_generation(context)
            cached = self._usable(key)
            if cached is not None and cached.generation == generation:
                with self._lock:
                    if key in self._cache:
                        self._cache.move_to_end(key)
                return cached
            loaded, _newest = self._read(context, resources, traits, cached, generation)
        self._keep(key, loaded)
        return loaded

    def locked_view(self, context, resources, traits):
        """Inside a transaction holding the allocation lock: the shape's
        calendar as that transaction sees it."""
        key = _key(resources, traits)
        own = db_api.allocation_generation(context)
        loaded, newest = self._read(context, resources, traits, self._usable(key), own)
        if newest is None:    # a full load: did this transaction change any?
            newest = db_api.calendar_delta(context, own)[1]
        if newest < own:
            self._keep(key, loaded._replace(generation=own - 1))
        return loaded

    def forget(self):
        """Drop the cached calendars (the next question reloads)."""
        with self._lock:
            self._cache.clear()

    def _usable(self, key):
        with self._lock:
            cached = self._cache.get(key)
        if (cached is None or cached.engine is not db_api.get_engine()
                or cached.margin != host_plugin.margin()):
            return None
        return cached

    def _read(self, context, resources, traits, cached, generation):
        """(calendar at ``generation``, the newest generation among the
        changes read (0: none), or None after a full load)."""
        now = timeutils.utcnow()
        if cached is not None and cached.generation <= generation:
            caught = self._catch_up(context, resources, traits, cached, generation, now)
            if caught is not None:
                return caught
        self.loads += 1
        return Loaded(db_api.get_engine(), generation, host_plugin.margin(), now,
                      *capacity.load(context, resources, traits, since=now)), None

    def _catch_up(self, context, resources, traits, cached, generation, now):
        """``(cached brought to generation, newest change)`` with the hosts
        changed since its own, or None when a full load is due."""
        touched, newest = db_api.calendar_delta(context, cached.generation)
        if touched is None or len(touched) > host_calendar.DELTA_HOSTS:
            return None
        loaded_at = cached.loaded_at
        candidates, holdings = cached.candidates, cached.holdings
        if touched:
            ids = sorted(touched)
            fresh, held = capacity.load(context, resources, traits, since=loaded_at,
                                        host_ids=ids)
            candidates = deltas.merge_hosts(candidates, ids, fresh)
            holdings = deltas.merge_by_host(holdings, ids, held)
        if now - loaded_at >= host_calendar.TRIM_AFTER:
            holdings = deltas.trim(holdings, now - cached.margin)
            loaded_at = now
        self.deltas += 1
        return cached._replace(generation=generation, loaded_at=loaded_at,
                               candidates=candidates, holdings=holdings), newest

    def _keep(self, key, loaded):
        with self._lock:
            current = self._cache.get(key)
            if (current is None or current.engine is not loaded.engine
                    or current.generation <= loaded.generation):
                self._cache[key] = loaded
                self._cache.move_to_end(key)
                while len(self._cache) > MAX_SHAPES:
                    self._cache.popitem(last=False)
