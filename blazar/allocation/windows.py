"""Half-open time intervals and the free-ness predicate everything shares.

An interval is a pair ``(start, end)`` meaning ``[start, end)``: it contains
``start`` and excludes ``end``, so a reservation ending at 10:00 does not
overlap one starting at 10:00. Intervals whose ``end <= start`` are empty and
ignored by every function here. Times are naive UTC ``datetime`` objects in the
service; the functions only need ``<`` and ``+``/``-`` with the margin, so
integers work too (the tests use both).

Cleaning time (``margin``)
--------------------------
Every reservation, existing or requested, holds its resources from its start
until its end *plus* the margin (the resource is cleaned after use). Two uses
of the same resource therefore conflict exactly when they are less than
``margin`` apart, whichever comes first: the relation is symmetric and there
must be at least ``margin`` of free time on *both* sides of every reservation.

For whole resources (hosts) this is implemented by widening the *existing busy
intervals* by the margin on both sides, ``[s - m, e + m)``, and testing them
against the requested window as it is. That is the same test as widening the
requested window on both sides against the raw busy intervals (``[ws, we)``
meets ``[s - m, e + m)`` iff ``[ws - m, we + m)`` meets ``[s, e)``), which is
how :func:`is_free` computes it (one widening per query instead of one per
interval). For summed usage (instance slots) see :mod:`.slots`.

``margin=None`` means no cleaning time.
"""

import datetime

__all__ = ['later', 'overlaps', 'widen', 'merge', 'free_periods', 'is_free', 'scan',
           'usage_profile', 'peak', 'ceil_to', 'floor_to']


def overlaps(a, b):
    """True if the half-open intervals ``a`` and ``b`` share an instant."""
    return a[0] < b[1] and b[0] < a[1] and a[0] < a[1] and b[0] < b[1]


def later(t, delta):
    """``t + delta``, or the latest datetime when that is past year 9999
    (a lease may end on 9999-12-31 and still have cleaning time after)."""
    try:
        return t + delta
    except OverflowError:
        return datetime.datetime.max


def widen(interval, margin):
    """``interval`` extended by ``margin`` on both sides (``None`` = 0)."""
    if margin is None:
        return (interval[0], interval[1])
    return (interval[0] - margin, later(interval[1], margin))


def merge(intervals):
    """Sorted, disjoint union of ``intervals``; touching ones are joined.

    ``[(1, 3), (2, 4), (4, 5), (7, 7)]`` -> ``[(1, 5)]``.
    """
    out = []
    for s, e in sorted(iv for iv in intervals if iv[0] < iv[1]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def free_periods(busy, frame):
    """The parts of ``frame`` not covered by any interval of ``busy``.

    The result and ``merge(busy)`` clipped to ``frame`` partition ``frame``.
    """
    fs, fe = frame
    out = []
    cur = fs
    for s, e in merge(busy):
        if e <= cur:
            continue
        if s >= fe:
            break
        if s > cur:
            out.append((cur, s))
        cur = e
        if cur >= fe:
            break
    if cur < fe:
        out.append((cur, fe))
    return out


def scan(busy, window, margin=None):
    """The one free-ness predicate, with the neighbours of the window.

    Returns ``(free, prev_end, next_start)``: ``free`` is True iff no interval
    of ``busy`` overlaps ``window`` once widened by ``margin`` (see the module
    docstring); ``prev_end`` is the latest end of a busy interval lying wholly
    before the widened window and ``next_start`` the earliest start of one
    lying wholly after it (``None`` when there is none). Both are only
    meaningful when ``free``. One pass, no sorting.
    """
    lo, hi = widen(window, margin)
    prev_end = next_start = None
    for s, e in busy:
        if s < hi and e > lo:
            if s < e:
                return False, None, None
        elif e <= lo:
            if (prev_end is None or e > prev_end) and s < e:
                prev_end = e
        elif (next_start is None or s < next_start) and s < e:
            next_start = s
    return True, prev_end, next_start


def is_free(busy, window, margin=None):
    """True iff a resource with these busy intervals can take ``window``.

    Free means no interval of ``busy`` comes closer than ``margin`` to
    ``window`` (back-to-back is fine when ``margin`` is ``None``/zero). This
    is :func:`scan`, the single implementation of the test.
    """
    return scan(busy, window, margin)[0]


def usage_profile(items, frame):
    """Step function of the summed amounts of ``items`` over ``frame``.

    ``items`` are ``(start, end, amount)``; each counts once, only while it
    lies inside ``frame``. Returns ``[(t0, level0), (t1, level1), ...]`` with
    ``t0 == frame[0]``: the usage is ``level_i`` on ``[t_i, t_{i+1})`` and the
    last level holds until ``frame[1]``. Consecutive levels differ.
    """
    fs, fe = frame
    if not fs < fe:
        return []
    deltas = {}
    for s, e, amount in items:
        if s < fe and e > fs and s < e and amount:
            s = fs if s < fs else s
            deltas[s] = deltas.get(s, 0) + amount
            if e < fe:
                deltas[e] = deltas.get(e, 0) - amount
    level = deltas.pop(fs, 0)
    out = [(fs, level)]
    for t in sorted(deltas):
        d = deltas[t]
        if d:
            level += d
            out.append((t, level))
    # Amounts that cancel out at the same instant, or floats that drift back
    # to the previous level, leave equal neighbours: drop them.
    compact = [out[0]]
    for t, lv in out[1:]:
        if lv != compact[-1][1]:
            compact.append((t, lv))
    return compact


def peak(items, window):
    """Highest summed amount of ``items`` at any instant of ``window``.

    ``items`` are ``(start, end, amount)``; an item partly inside the window
    counts only while it overlaps it. 0 when nothing overlaps.
    """
    ws, we = window
    events = []
    for s, e, amount in items:
        if s < we and e > ws and s < e and amount:
            events.append((s if s > ws else ws, amount))
            if e < we:
                events.append((e, -amount))
    if not events:
        return 0
    # At equal times apply ends (negative) before starts: half-open intervals.
    events.sort(key=lambda ev: (ev[0], ev[1] > 0))
    level = best = 0
    for _, d in events:
        level += d
        if level > best:
            best = level
    return best


def ceil_to(t, granularity, origin=None):
    """Smallest multiple of ``granularity`` (counted from ``origin``) >= t.

    ``granularity=None`` returns ``t``. For datetimes the origin defaults to
    ``datetime.min``, so a one-minute granularity rounds up to whole minutes.
    """
    if granularity is None:
        return t
    if origin is None:
        origin = _origin(t)
    rem = (t - origin) % granularity
    return t + (granularity - rem) if rem else t


def floor_to(t, granularity, origin=None):
    """Largest multiple of ``granularity`` (counted from ``origin``) <= t."""
    if granularity is None:
        return t
    if origin is None:
        origin = _origin(t)
    return t - (t - origin) % granularity


def _origin(t):
    if isinstance(t, datetime.datetime):
        return datetime.datetime.min
    return type(t)(0)
