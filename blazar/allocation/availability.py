"""Availability queries over a pool of hosts: how many, how long, when.

Inputs are ``busy_by_host`` (host id -> iterable of ``(start, end)``, as for
:func:`.hosts.select_hosts`) and optionally ``hosts``, the ids to consider
(default: the keys of ``busy_by_host``; a listed host missing from the
mapping is idle). "Free for a window" is exactly :func:`.windows.is_free`
with the same ``margin``, so every window or host returned here is accepted
by :func:`.hosts.select_hosts` for the same inputs.

Granularity: leases have minute precision, so :func:`find_windows` and
:func:`longest_free_run` answer on a one-minute grid by default (starts
rounded up, ends rounded down to whole minutes, counted from
``datetime.min``). ``granularity=None`` gives exact answers (used with
integer time in tests).
"""

import collections
import datetime
import heapq
import operator

from blazar import exceptions
from blazar.allocation import hosts as hosts_mod
from blazar.allocation import slots
from blazar.allocation import windows

__all__ = ['Window', 'Run', 'free_count_profile', 'max_free_count',
           'free_hosts', 'longest_free_run', 'find_windows', 'max_amount']

MINUTE = datetime.timedelta(minutes=1)

Window = collections.namedtuple('Window', 'start end hosts')
Window.__doc__ = ('A window ``[start, end)`` and the ids of every host free '
                  'for all of it (a frozenset).')
Run = collections.namedtuple('Run', 'end hosts')
Run.__doc__ = ('How far a run reaches and the ids of every host free from '
               'its start until ``end`` (a frozenset).')

max_amount = slots.max_amount
# How many ranges the lazy heap sweep of find_windows may pop (this share of
# them, at least _HEAP_MIN) before it gives way to the sorted sweep; both 0
# means sorted only. Tests exercise every path.
_HEAP_SHARE = 0.125
_HEAP_MIN = 64
_FIRST = operator.itemgetter(0)
_LAST = operator.itemgetter(1)


def _ids(busy_by_host, hosts):
    return list(busy_by_host) if hosts is None else list(dict.fromkeys(hosts))


def _ceiler(granularity, sample):
    """A fast ``t -> windows.ceil_to(t, granularity)``."""
    if granularity is None:
        return lambda t: t
    if granularity == MINUTE and isinstance(sample, datetime.datetime):
        def ceil_minute(t):
            if t.second or t.microsecond:
                return t.replace(second=0, microsecond=0) + MINUTE
            return t
        return ceil_minute
    return lambda t: windows.ceil_to(t, granularity)


def free_count_profile(busy_by_host, frame, margin=None, hosts=None):
    """Step function ``[(t, n_free), ...]`` of the hosts free at each instant.

    Same conventions as :func:`.windows.usage_profile`: starts at
    ``frame[0]``, each count holds until the next ``t`` (the last until
    ``frame[1]``). A host is free at ``t`` when no busy interval widened by
    ``margin`` contains ``t``; a host is free for a window iff it is free at
    every instant of it.
    """
    ids = _ids(busy_by_host, hosts)
    fs, fe = frame
    if not fs < fe:
        return []
    # Changes in the number of busy hosts, from each host's merged widened
    # busy intervals clipped to the frame (inline for speed: this walks
    # every interval of every host).
    delta = {}
    get = delta.get
    for h in ids:
        busy = busy_by_host.get(h)
        if not busy:
            continue
        if margin is not None:
            busy = [(s - margin, windows.later(e, margin)) for s, e in busy if s < e]
        start = end = None
        for s, e in sorted(busy):
            if not s < e or e <= fs:
                continue
            if s >= fe:
                break
            if end is not None and s <= end:
                if e > end:
                    end = e
                continue
            if end is not None:
                delta[start] = get(start, 0) + 1
                if end < fe:
                    delta[end] = get(end, 0) - 1
            start, end = (s if s > fs else fs), e
        if end is not None:
            delta[start] = get(start, 0) + 1
            if end < fe:
                delta[end] = get(end, 0) - 1
    free = len(ids) - delta.pop(fs, 0)
    out = [(fs, free)]
    for t in sorted(delta):
        if delta[t]:
            free -= delta[t]
            out.append((t, free))
    return out


def free_hosts(busy_by_host, window, margin=None, hosts=None):
    """Ids of the hosts free for the whole ``window`` (input order)."""
    return hosts_mod.free_hosts(busy_by_host, _ids(busy_by_host, hosts),
                                window, margin)


def max_free_count(busy_by_host, window, margin=None, hosts=None):
    """How many hosts are free for the whole ``window``."""
    return len(free_hosts(busy_by_host, window, margin, hosts))


def longest_free_run(busy_by_host, start, count, margin=None, horizon=None,
                     hosts=None, granularity=MINUTE):
    """How long ``count`` hosts can stay free from ``start``, as a
    :class:`Run`.

    ``Run.end`` is the latest end (rounded down to ``granularity``, at most
    ``horizon``) such that ``count`` hosts are free on ``[start, end)``, or
    ``None`` when no horizon is given and ``count`` hosts have nothing
    booked after ``start`` (free indefinitely). Returns ``None`` if not even
    one granule from ``start`` is free on ``count`` hosts.
    """
    if count < 1:
        raise exceptions.InvalidInput(reason='count must be >= 1')
    lo = start - margin if margin is not None else start
    reach = {}         # host -> end of its free run from start
    forever = []       # hosts free indefinitely (no horizon)
    for h in _ids(busy_by_host, hosts):
        # The earliest busy start after the run begins ends the run.
        nxt = None
        for s, e in busy_by_host.get(h, ()):
            if e > lo and s < e and (nxt is None or s < nxt):
                nxt = s
        if nxt is None:
            if horizon is None:
                forever.append(h)
                continue
            end = horizon
        else:
            end = nxt - margin if margin is not None else nxt
            if horizon is not None and end > horizon:
                end = horizon
        if end > start:
            reach[h] = end
    if len(forever) >= count:
        return Run(None, frozenset(forever))
    if len(reach) + len(forever) < count:
        return None
    end = heapq.nlargest(count - len(forever), reach.values())[-1]
    end = windows.floor_to(end, granularity)
    if not end > start:
        return None
    return Run(end, frozenset(forever).union(
        h for h, e in reach.items() if e >= end))


def find_windows(busy_by_host, count, duration, frame, k=1, margin=None,
                 hosts=None, granularity=MINUTE, overlapping=False):
    """Up to ``k`` earliest windows of ``duration`` inside ``frame`` where
    ``count`` hosts are free, as :class:`Window` objects.

    Start candidates are the frame start and the instants a host becomes
    free for at least ``duration`` (the end of a busy interval plus
    ``margin``, unless another one still covers it), rounded up to
    ``granularity``: the number of hosts free for ``[t, t + duration)`` only
    grows at those instants, so the first window returned is the earliest
    one on the grid. With ``overlapping=False`` (default) each later window
    starts at or after the end of the previous one (the earliest such
    start), giving distinct options; with ``overlapping=True`` every
    feasible candidate start is reported. ``Window.hosts`` is every host
    free for the window (at least ``count``); :func:`.hosts.select_hosts`
    picks among them with the placement policy.
    """
    if count < 1 or k < 1:
        raise exceptions.InvalidInput(reason='count and k must be >= 1')
    if not duration > duration - duration:      # zero of its type
        raise exceptions.InvalidInput(reason='duration must be positive')
    fs, fe = frame
    ceil = _ceiler(granularity, fs)
    # For each host, the ranges [first, last] of window starts it can take:
    # a free period [a, b) (windows.free_periods of the busy intervals
    # widened by the margin, within the frame) holds the windows starting
    # in [a, b - duration]. ``first`` is kept exact here and rounded up to
    # the grid only when the sweep reaches it (rounding is monotonic, so the
    # order is unchanged).
    ranges = []
    last_cap = fe - duration
    # The margin is applied once per gap instead of once per busy interval:
    # a raw gap [g0, g1) between merged busy intervals becomes the free
    # period [g0 + margin, g1 - margin) once they are widened (empty when
    # the gap is too short, which first <= last below rules out).
    m = fs - fs if margin is None else margin
    tail = duration + m
    lo = fs - m
    hi = fe + m
    add = ranges.append
    for h in _ids(busy_by_host, hosts):
        busy = busy_by_host.get(h)
        if not busy:
            if fs <= last_cap:
                add((fs, last_cap, h))
            continue
        cur = lo
        for s, e in sorted(busy):
            if e <= cur or not s < e:
                continue
            if s >= hi:
                break
            if s > cur:
                first = cur + m
                last = s - tail
                if first <= last:
                    add((first, last, h))
            cur = e
            if cur >= fe:
                break
        first = cur + m
        if first <= last_cap:
            add((first, last_cap, h))
    if len(ranges) < count:
        return []
    # Sweep the candidate starts in time order. Answers usually come early,
    # so first walk lazily with heaps (linear set-up, log-time pops); if the
    # walk drags on, start over on fully sorted lists, whose pops are free.
    sweep = (count, duration, k, overlapping, ceil)
    budget = max(int(len(ranges) * _HEAP_SHARE), _HEAP_MIN)
    out = _sweep_heaps(list(ranges), *sweep, budget=budget)
    if out is None:
        out = _sweep_sorted(ranges, *sweep)
    return out


# Both sweeps visit the candidate starts t in increasing order. At each t (on
# the grid, so ``first <= t`` is the same as ``ceil(first) <= t``) they drop
# the ranges that ended before t, then add those that began; a host's ranges
# are disjoint and ordered, so a host has at most one live range and the
# ``active`` set holds exactly the hosts free for [t, t + duration).

def _sweep_heaps(ranges, count, duration, k, overlapping, ceil, budget):
    """Lazy sweep; None if it had to pop more than ``budget`` ranges."""
    if budget <= 0:
        return None
    heapq.heapify(ranges)
    live = []          # (last, host) of the ranges counted in ``active``
    active = set()
    out = []

    def next_start():
        # The next candidate: the first range still holding a grid start.
        while ranges:
            first = ceil(ranges[0][0])
            if first <= ranges[0][1]:
                return first
            heapq.heappop(ranges)
        return None

    t = next_start()
    while t is not None and len(out) < k:
        while live and live[0][0] < t:
            active.discard(heapq.heappop(live)[1])
        while ranges and ranges[0][0] <= t:
            first, last, h = heapq.heappop(ranges)
            budget -= 1
            if last >= t:
                active.add(h)
                heapq.heappush(live, (last, h))
        if budget < 0:
            return None
        if len(active) >= count:
            out.append(Window(t, t + duration, frozenset(active)))
            if not overlapping:
                t = ceil(t + duration)
                continue
        t = next_start()
    return out


def _sweep_sorted(ranges, count, duration, k, overlapping, ceil):
    """Full sweep over the ranges sorted by first and by last start."""
    ends = sorted(ranges, key=_LAST)
    starts = sorted(ranges, key=_FIRST)
    n = len(starts)
    i = j = 0
    active = set()
    out = []
    t = None
    while True:
        if t is None:
            # Next candidate: the next range still holding a grid start.
            while i < n:
                t = ceil(starts[i][0])
                if t <= starts[i][1]:
                    break
                i += 1
            else:
                return out
        while j < n and ends[j][1] < t:
            active.discard(ends[j][2])
            j += 1
        while i < n and starts[i][0] <= t:
            if starts[i][1] >= t:
                active.add(starts[i][2])
            i += 1
        if len(active) >= count:
            out.append(Window(t, t + duration, frozenset(active)))
            if len(out) == k:
                return out
            if not overlapping:
                t = ceil(t + duration)
                continue
        t = None
