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
import functools
import json
import threading

from blazar.plugins.hosts import calendar as host_calendar
from blazar.plugins.hosts import plugin as host_plugin
from blazar.plugins.instances import capacity

# How many shapes' calendars are kept.
MAX_SHAPES = 8


def _key(resources, traits):
    return (json.dumps(resources, sort_keys=True), json.dumps(traits, sort_keys=True))


def _load(resources, traits, context, since, host_ids=None, rows_of=None):
    """One shape's ``(candidates, holdings)``, as the host calendar's
    loader gives its own. A host's holdings include its maintenance, read
    from its row: every touched host is read in full, and its candidate
    kept only if its rows changed (``rows_of``)."""
    candidates, holdings = capacity.load(context, resources, traits, since=since,
                                         host_ids=host_ids)
    if rows_of is not None:
        wanted = set(rows_of)
        candidates = [c for c in candidates if c.id in wanted]
    return candidates, holdings


class SlotCalendars:
    """One plugin's calendars, by shape: a host calendar
    (:class:`blazar.plugins.hosts.calendar.CalendarCache`) each, whose
    ``busy`` are the holdings :func:`.capacity.load` reads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_shape = collections.OrderedDict()  # shape key -> CalendarCache
        self._retired = (0, 0)     # loads and deltas of calendars let go

    @property
    def loads(self):
        """How many times a calendar was loaded."""
        with self._lock:
            return self._retired[0] + sum(c.loads for c in self._by_shape.values())

    @property
    def deltas(self):
        """How many times one caught up with a delta."""
        with self._lock:
            return self._retired[1] + sum(c.deltas for c in self._by_shape.values())

    def snapshot(self, context, resources, traits):
        """The shape's calendar (see CalendarCache.snapshot)."""
        return self._calendar(resources, traits).snapshot(context)

    def locked_view(self, context, resources, traits):
        """Inside a transaction holding the allocation lock: the shape's
        calendar as that transaction sees it (see CalendarCache.locked_view)."""
        return self._calendar(resources, traits).locked_view(context)

    def forget(self):
        """Drop the cached calendars (the next question reloads)."""
        with self._lock:
            for key in list(self._by_shape):
                self._retire(key)

    def _calendar(self, resources, traits):
        key = _key(resources, traits)
        with self._lock:
            found = self._by_shape.get(key)
            if found is None:
                found = self._by_shape[key] = host_calendar.CalendarCache(
                    functools.partial(_load, resources, traits), host_plugin.margin)
            self._by_shape.move_to_end(key)
            while len(self._by_shape) > MAX_SHAPES:
                self._retire(next(iter(self._by_shape)))
            return found

    def _retire(self, key):
        gone = self._by_shape.pop(key)
        self._retired = (self._retired[0] + gone.loads, self._retired[1] + gone.deltas)
