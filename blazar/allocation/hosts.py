"""Whole-host reservations: which hosts to give a reservation for a window.

Placement policy (deterministic; the same inputs always give the same hosts)
---------------------------------------------------------------------------
Among the hosts that match the properties and are free for the window (the
:func:`.windows.scan` predicate, cleaning time included), take the first ones
in this order:

1. **Best fit in time.** Each free host sits in a free run around the window:
   ``gap_before`` from the end of its previous reservation (plus cleaning) to
   the window, ``gap_after`` from the window to the start of its next one
   (minus cleaning). A side with no reservation is *unbounded*; when ``now``
   is given, free time before ``now`` is worthless, so ``gap_before`` is
   measured from ``now`` at the earliest and is never unbounded. Hosts are
   ranked by (number of unbounded sides, total of the bounded gaps): snug
   fits first, completely idle hosts last. A host with a long free run can
   serve more future requests that overlap this window (longer, earlier,
   later); handing out the hosts with the shortest runs keeps those runs for
   others, where upstream's "never allocated first" consumes exactly the
   hosts that could take any request.
2. **Smaller hosts first** (the caller's ``Host.size`` tuple, e.g. ``(vcpus,
   memory_mb, local_gb)``): big hosts stay available for requests whose
   properties need them.
3. **Host id**, or, when a seeded ``rng`` is passed, a random draw (taken in
   id order, so a given seed and input always give the same answer). The
   random tie-break spreads wear over identical idle hosts without giving up
   1 and 2.

Updates keep the hosts already allocated to the reservation while they still
match and are free (the caller leaves this reservation's own allocations out
of ``busy``), keep the best ``max`` of them by the same order if there are
more, and add the best other hosts to reach ``max`` (at least ``min``).
"""

import dataclasses
import heapq
import typing

from blazar import exceptions
from blazar.allocation import properties
from blazar.allocation import windows

__all__ = ['Host', 'select_hosts', 'free_hosts']


@dataclasses.dataclass(frozen=True)
class Host:
    """A candidate host as the allocation code sees it.

    ``attributes``: column values and extra capabilities the property
    queries read (keys without ``$``); ``size``: ordering key, smaller hosts
    are handed out first; ``capacity``: per resource class amount usable by
    instance reservations (already ``(total - reserved) * ratio``), only used
    by :mod:`.slots`.
    """
    id: typing.Hashable
    attributes: typing.Mapping = dataclasses.field(default_factory=dict)
    size: tuple = ()
    capacity: typing.Optional[typing.Mapping] = None


def as_host(candidate):
    """Accept a :class:`Host` or a bare host id."""
    return candidate if isinstance(candidate, Host) else Host(candidate)


def check_window(window):
    if not window[0] < window[1]:
        raise exceptions.InvalidInput(
            reason='the window must end after it starts, got %s to %s'
            % (window[0], window[1]))


def filter_candidates(candidates, query):
    """``(all_hosts, matching_hosts)`` as lists of :class:`Host`.

    A host id listed twice counts once (its first entry).
    """
    seen = {}
    for c in candidates:
        h = as_host(c)
        seen.setdefault(h.id, h)
    hosts = list(seen.values())
    node = properties.parse(query)
    if node == properties.ANY:
        return hosts, hosts
    pred = properties.predicate(node)
    return hosts, [h for h in hosts if pred(h.attributes)]


def free_hosts(busy, hosts, window, margin=None):
    """Ids among ``hosts`` (ids) free for ``window``: the shared predicate."""
    check_window(window)
    is_free = windows.is_free
    return [h for h in hosts if is_free(busy.get(h, ()), window, margin)]


def _describe_window(window, margin):
    text = 'from %s to %s' % (window[0], window[1])
    if margin:
        text += ' (with %s cleaning time around it)' % (margin,)
    return text


def _ranker(window, margin, now, rng, free):
    """Sort keys implementing the placement policy for ``free`` hosts.

    ``free`` is a list of ``(host, prev_end, next_start)``.
    """
    lo, hi = windows.widen(window, margin)
    zero = hi - hi
    floor = None
    if now is not None:
        floor = now - margin if margin is not None else now
    tiebreak = {}
    if rng is not None:
        for host, _, _ in sorted(free, key=lambda f: f[0].id):
            tiebreak[host.id] = rng.random()
    keys = {}
    for host, prev_end, next_start in free:
        unbounded = 0
        gaps = zero
        if floor is not None and (prev_end is None or prev_end < floor):
            prev_end = floor
        if prev_end is None:
            unbounded += 1
        elif lo > prev_end:
            gaps += lo - prev_end
        if next_start is None:
            unbounded += 1
        else:
            gaps += next_start - hi
        keys[host.id] = (unbounded, gaps, host.size,
                         tiebreak.get(host.id, 0), host.id)
    return keys


def select_hosts(candidates, busy, window, min_hosts, max_hosts, margin=None,
                 query=None, current=(), allow_drop=True, now=None,
                 rng=None):
    """Choose between ``min_hosts`` and ``max_hosts`` hosts for ``window``.

    ``candidates``: reservable hosts (:class:`Host` or ids); ``busy``: host id
    -> iterable of ``(start, end)`` when the host is taken (every allocation
    of other reservations, whatever their type); ``query``: the combined
    property query (any form :func:`.properties.parse` takes); ``current``:
    hosts this reservation holds now (update); ``allow_drop=False`` (active
    reservation) refuses to lose any of them. Returns up to ``max_hosts`` ids,
    kept hosts first, in placement order. Raises
    :class:`~blazar.exceptions.NotEnoughHostsAvailable`.
    """
    check_window(window)
    if not (type(min_hosts) is int and type(max_hosts) is int
            and 0 <= min_hosts <= max_hosts and max_hosts >= 1):
        raise exceptions.InvalidRange(
            what='hosts', reason='need 0 <= min <= max and max >= 1, got '
            'min=%r max=%r' % (min_hosts, max_hosts))
    hosts, matching = filter_candidates(candidates, query)
    scan = windows.scan
    free = []
    for host in matching:
        ok, prev_end, next_start = scan(busy.get(host.id, ()), window, margin)
        if ok:
            free.append((host, prev_end, next_start))
    keys = _ranker(window, margin, now, rng, free)

    current = list(dict.fromkeys(current))
    held = set(current)
    kept = [h for h in current if h in keys]
    if len(kept) > max_hosts:
        kept = heapq.nsmallest(max_hosts, kept, key=keys.__getitem__)
    kept_set = set(kept)
    dropped = [h for h in current if h not in kept_set]
    if dropped and not allow_drop:
        known = {h.id for h in hosts}
        matched = {h.id for h in matching}
        why = []
        for h in dropped:
            if h not in known:
                why.append('%s is no longer reservable' % (h,))
            elif h not in matched:
                why.append('%s no longer matches the properties' % (h,))
            elif h not in keys:
                why.append('%s is not free %s'
                           % (h, _describe_window(window, margin)))
            else:
                why.append('%s exceeds the maximum of %d'
                           % (h, max_hosts))
        raise exceptions.NotEnoughHostsAvailable(
            reason='the reservation is active and cannot lose hosts: '
            + '; '.join(why))

    others = [h.id for h, _, _ in free if h.id not in held]
    added = heapq.nsmallest(max_hosts - len(kept), others,
                            key=keys.__getitem__)
    if len(kept) + len(added) < min_hosts:
        asked = (str(min_hosts) if min_hosts == max_hosts
                 else '%d to %d' % (min_hosts, max_hosts))
        reason = ('asked for %s host(s); %d reservable host(s), %d match the '
                  'properties, %d of those free %s'
                  % (asked, len(hosts), len(matching), len(free),
                     _describe_window(window, margin)))
        if current:
            reason += ('; %d of the %d host(s) already allocated can be kept'
                       % (len(kept), len(current)))
        raise exceptions.NotEnoughHostsAvailable(reason=reason)
    kept.sort(key=keys.__getitem__)
    return kept + added
