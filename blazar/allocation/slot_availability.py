"""Instance slots over time: how long, when, and the free-slot calendar.

The companion of :mod:`.availability` (whole hosts) for instance shapes:
same inputs as :func:`.slots.select_slots` (``candidates`` with
``capacity``, ``holdings`` as host id -> ``(start, end, per_instance,
count)`` items, ``shape``, ``margin``, ``affinity``, ``query``), and "a
lease of ``amount`` fits in ``window``" means exactly that
:func:`.slots.select_slots` grants it: :func:`.slots.max_amount` (how many)
is at least ``amount``. Every per-host number here is computed by
:func:`.slots.fits`, the function lease creation uses; this module only
decides *where* to evaluate it.

Where the answer can change
---------------------------
A host's free slots for ``[start, end)`` depend on the items meeting the
hold ``[start, end + margin)`` and on their peak usage there (see
:mod:`.slots`). With the start fixed and the end growing, an item joins
when ``end > s - margin`` and the peak only rises at item starts, so the
count only drops just after the instants ``s - margin``: :func:`latest_end`
walks those instants in time order, re-evaluating only the hosts whose item
joins. With the length fixed and the start moving, an item leaves once
``start >= e + margin`` and joins once ``start > s - duration - margin``,
and between two such instants the count does not rise (the part of the hold
left behind never held more than what remains), so the earliest fitting
start of a stretch is where it begins: :func:`find_windows` tries the frame
start and the instants ``e + margin``, re-evaluating only the hosts whose
items joined or left.

Granularity: answers are on a one-minute grid by default, like
:mod:`.availability`; ``granularity`` of the time type's unit (``1`` for
integer times in tests) gives exact answers on that grid.
"""

import collections
import datetime
import heapq

from blazar import exceptions
from blazar.allocation import hosts as hosts_mod
from blazar.allocation import slots
from blazar.allocation import windows

__all__ = ['SlotRun', 'SlotWindow', 'latest_end', 'find_windows',
           'free_slot_profile']

MINUTE = datetime.timedelta(minutes=1)

SlotRun = collections.namedtuple('SlotRun', 'end amount')
SlotRun.__doc__ = ('How far a run of free slots reaches (``end``, None when '
                   'unbounded) and the largest amount a lease of that run '
                   'could get (``amount``).')
SlotWindow = collections.namedtuple('SlotWindow', 'start end amount')
SlotWindow.__doc__ = ('A window ``[start, end)`` and the largest amount a '
                      'lease of it could get (at least the one asked).')


class _Tally:
    """:func:`.slots.max_amount` kept up to date while hosts' free slot
    counts change one at a time.

    ``total``: the sum of the counts (affinity None), the hosts with room
    for one (False) or for all ``amount`` (True).
    """

    def __init__(self, affinity, amount):
        self.affinity = affinity
        self.amount = amount
        self.values = {}
        self.total = 0

    def _part(self, n):
        if self.affinity is None:
            return n
        if self.affinity:
            return 1 if n >= self.amount else 0
        return 1 if n > 0 else 0

    def set(self, host_id, n):
        self.total += self._part(n) - self._part(self.values.get(host_id, 0))
        self.values[host_id] = n

    def enough(self):
        """Would :func:`.slots.select_slots` grant ``amount``?"""
        return self.total >= (1 if self.affinity else self.amount)

    def best(self):
        """The largest amount :func:`.slots.select_slots` would grant."""
        if self.affinity:
            return max(self.values.values(), default=0)
        return self.total


def _check(shape, amount, affinity):
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise exceptions.InvalidInput(
            reason='amount must be an integer >= 1, got %r' % (amount,))
    if affinity not in (None, True, False):
        raise exceptions.InvalidInput(
            reason='affinity must be null, true or false, got %r' % (affinity,))
    slots._check_shape(shape)


def _room_hosts(candidates, query):
    """The hosts :func:`.slots.host_slots` looks at: matching, with a
    capacity."""
    _, matching = hosts_mod.filter_candidates(candidates, query)
    return [h for h in matching if h.capacity]


def _zero(t):
    return t - t


def _after(t, granularity):
    """Some instant later than ``t`` (used where any later one will do)."""
    if granularity is not None:
        return t + granularity
    if isinstance(t, datetime.datetime):
        return t + datetime.timedelta(microseconds=1)
    return t + 1


def latest_end(candidates, holdings, shape, amount, start, margin=None,
               affinity=None, query=None, horizon=None, granularity=MINUTE):
    """How long a lease of ``amount`` instances of ``shape`` starting at
    ``start`` can last, as a :class:`SlotRun`.

    ``SlotRun.end`` is the latest end (rounded down to ``granularity``, at
    most ``horizon``) such that :func:`.slots.select_slots` grants
    ``amount`` for ``[start, end)``, or ``None`` when no horizon is given
    and any end would do. Returns ``None`` if not even one granule from
    ``start`` is granted.
    """
    _check(shape, amount, affinity)
    m = _zero(start) if margin is None else margin
    lo = start - m
    tally = _Tally(affinity, amount)
    heap = []
    plans = {}
    for host in _room_hosts(candidates, query):
        items = [it for it in holdings.get(host.id, ()) if it[0] < it[1] and it[1] > lo]
        # The count for ends in (joins[i-1], joins[i]] is fits() at
        # joins[i]; after the last one, at any later end.
        joins = sorted({it[0] - m for it in items if it[0] - m > start})
        ends = joins + [_after(joins[-1] if joins else start, granularity)]
        n = slots.fits(host.capacity, items, shape, (start, ends[0]), margin)
        tally.set(host.id, n)
        if n and joins:
            plans[host.id] = (host.capacity, items, ends)
            heap.append((ends[0], 0, host.id))
    if not tally.enough():
        return None
    heapq.heapify(heap)
    end = None
    while heap:
        t = heap[0][0]
        if horizon is not None and t >= horizon:
            break
        while heap and heap[0][0] == t:
            _, i, host_id = heapq.heappop(heap)
            capacity, items, ends = plans[host_id]
            n = slots.fits(capacity, items, shape, (start, ends[i + 1]), margin)
            tally.set(host_id, n)
            if n and i + 2 < len(ends):
                heapq.heappush(heap, (ends[i + 1], i + 1, host_id))
        if not tally.enough():
            end = t
            break
    if end is None:
        if horizon is None:
            return SlotRun(None, tally.best())
        end = horizon
    elif horizon is not None and end > horizon:
        end = horizon
    end = windows.floor_to(end, granularity)
    if not end > start:
        return None
    return SlotRun(end, slots.max_amount(candidates, holdings, shape,
                                         (start, end), margin, affinity, query))


def find_windows(candidates, holdings, shape, amount, duration, frame, k=1,
                 margin=None, affinity=None, query=None, granularity=MINUTE):
    """Up to ``k`` earliest windows of ``duration`` inside ``frame`` that
    :func:`.slots.select_slots` grants ``amount`` instances of ``shape``,
    as :class:`SlotWindow` objects.

    Starts are on the ``granularity`` grid; the first window is the
    earliest such start, and each later one the earliest start at or after
    the end of the previous one (distinct options, as
    :func:`.availability.find_windows`).
    """
    _check(shape, amount, affinity)
    if not duration > _zero(duration):
        raise exceptions.InvalidInput(reason='duration must be positive')
    if k < 1:
        raise exceptions.InvalidInput(reason='k must be >= 1')
    fs, fe = frame

    def ceil(t):
        return windows.ceil_to(t, granularity)

    first = ceil(fs)
    if fe - fs < duration or first > fe - duration:
        return []
    last = fe - duration            # the latest start
    m = _zero(fs) if margin is None else margin
    reach = duration + m
    tally = _Tally(affinity, amount)
    plans = {}
    starts = [first]
    # (instant, kind, host id): kind 0, an item no longer meets windows
    # starting at or after the instant; kind 1, one meets those starting
    # after it.
    events = []
    add_event, add_start = events.append, starts.append
    for host in _room_hosts(candidates, query):
        items = []
        host_id = host.id
        for it in holdings.get(host_id, ()):
            s, e = it[0], it[1]
            # (Subtractions only: an end near the largest date plus the
            # margin would overflow.)
            if not s < e or e <= first - m or s - last >= reach:
                continue        # never meets a window of the frame
            items.append(it)
            if e <= last - m:
                left = e + m
                add_event((left, 0, host_id))
                # Rounded up when reached (rounding keeps the order).
                add_start(left)
            if s - first >= reach:      # joins after the first start
                add_event((s - reach, 1, host_id))
        plans[host_id] = (host.capacity, items)
        tally.set(host.id, slots.fits(host.capacity, items, shape,
                                      (first, first + duration), margin))
    heapq.heapify(events)
    heapq.heapify(starts)
    out = []
    soonest = first             # no start before the end of the last window
    tried = None
    while starts and len(out) < k:
        t = ceil(heapq.heappop(starts))
        if t > last:
            break
        if t < soonest or t == tried:
            continue
        tried = t
        changed = set()
        while events and (events[0][0] < t
                          or (events[0][0] == t and events[0][1] == 0)):
            changed.add(heapq.heappop(events)[2])
        for host_id in changed:
            capacity, items = plans[host_id]
            tally.set(host_id, slots.fits(capacity, items, shape,
                                          (t, t + duration), margin))
        if tally.enough():
            out.append(SlotWindow(t, t + duration, tally.best()))
            soonest = ceil(t + duration)
            heapq.heappush(starts, soonest)
    return out


def free_slot_profile(candidates, holdings, shape, frame, margin=None,
                      affinity=None, query=None, granularity=MINUTE):
    """Step function ``[(t, n), ...]`` over ``frame``: ``n`` is how many
    instances of ``shape`` a lease of one granule starting at ``t`` could
    get (:func:`.slots.max_amount` of ``[t, t + granularity)``, with
    ``affinity``: the sum over hosts, the hosts with room, or the most on
    one host). Same conventions as :func:`.availability.free_count_profile`
    (each ``n`` holds until the next ``t``, the last until the frame's end,
    consecutive ``n`` differ). Starts are on the grid, ``frame[0]`` first.
    """
    if granularity is None:
        raise exceptions.InvalidInput(reason='the profile needs a granularity')
    if affinity not in (None, True, False):
        raise exceptions.InvalidInput(
            reason='affinity must be null, true or false, got %r' % (affinity,))
    slots._check_shape(shape)
    fs, fe = frame
    if not fs < fe:
        return []
    m = _zero(fs) if margin is None else margin
    g = granularity

    def part(n):
        return n if affinity is None else min(n, 1)

    # Per host, the instants its count may change: an item meets the
    # one-granule window at t once t > s - g - m, and no longer once
    # t >= e + m; the count is fits() at each of them.
    changes = []                # (t, host id, new count)
    current = {}
    for host in _room_hosts(candidates, query):
        items = [it for it in holdings.get(host.id, ())
                 if it[0] < it[1] and it[1] > fs - m and it[0] - m - g < fe]
        instants = set()
        for s, e, _per, _n in items:
            join = windows.floor_to(s - g - m, g) + g
            if fs < join < fe:
                instants.add(join)
            if e < fe - m:          # (no overflow near the largest date)
                leave = windows.ceil_to(e + m, g)
                if fs < leave < fe:
                    instants.add(leave)
        before = slots.fits(host.capacity, items, shape, (fs, fs + g), margin)
        current[host.id] = before
        for t in sorted(instants):
            n = slots.fits(host.capacity, items, shape, (t, t + g), margin)
            if n != before:
                changes.append((t, host.id, n))
                before = n
    changes.sort(key=lambda c: c[0])
    # Sum (affinity None or False) or maximum (True) over the hosts.
    counts = collections.Counter(current.values())
    total = sum(part(n) for n in current.values())

    def level():
        if affinity:
            return max((n for n, c in counts.items() if c), default=0)
        return total

    out = [(fs, level())]
    i = 0
    while i < len(changes):
        t = changes[i][0]
        while i < len(changes) and changes[i][0] == t:
            _, host_id, n = changes[i]
            old = current[host_id]
            counts[old] -= 1
            counts[n] += 1
            total += part(n) - part(old)
            current[host_id] = n
            i += 1
        now = level()
        if now != out[-1][1]:
            out.append((t, now))
    return out
