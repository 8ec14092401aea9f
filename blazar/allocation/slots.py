"""Instance reservations: how many instances of a shape fit, and where.

Capacity model
--------------
A host offers ``capacity``: resource class -> usable amount, already
``(total - reserved) * allocation_ratio``. Existing reservations on the host
are ``(start, end, per_instance, count)``: ``count`` instances ("slots") each
using ``per_instance`` (resource class -> amount) from ``start`` to ``end``;
``per_instance=None`` marks an exclusive use of the whole host (a host
reservation), which leaves no room at all while it overlaps.

Cleaning time: a reservation holds its resources from its start until its
end plus ``margin``. The new reservation holds them over
``[start, end + margin)`` and existing ones over ``[s, e + margin)``; ``n``
more instances fit iff for every resource class and every instant of the new
reservation's hold, usage + ``n`` x need <= capacity. Because one instance
needs every resource for the whole window, that is ``n = min over classes of
floor((capacity - peak) / need)`` with ``peak`` the highest usage during the
hold, each reservation counted ``count`` times and only while it overlaps.
Unlike upstream (raw host totals, whole-lease events, each reservation once
per host) this is exact: with interval holds, a peak within capacity is
exactly what makes an assignment of concrete resources possible. For a whole
host (capacity one) it is the same test as :func:`.windows.is_free`.
"""

import bisect
import collections
import math
import typing

from blazar import exceptions
from blazar.allocation import hosts as hosts_mod
from blazar.allocation import windows

__all__ = ['fits', 'host_slots', 'select_slots', 'max_amount']


def _check_shape(shape):
    if not isinstance(shape, typing.Mapping) or not shape:
        raise exceptions.InvalidInput(
            reason='an instance shape is a non-empty mapping of resource '
            'class to amount, got %r' % (shape,))
    for rc, need in shape.items():
        if (isinstance(need, bool) or not isinstance(need, (int, float))
                or not need >= 0 or not math.isfinite(need)):
            raise exceptions.InvalidInput(
                reason='the amount of %s must be a number >= 0, got %r'
                % (rc, need))
    if not any(need > 0 for need in shape.values()):
        raise exceptions.InvalidInput(
            reason='the instance shape %r asks for no resource at all'
            % (dict(shape),))


def _how_many(free, need):
    if free <= 0:
        return 0
    if isinstance(free, int) and isinstance(need, int):
        return free // need
    # Tolerate float noise such as 0.30000000000000004 / 0.1.
    return int(math.floor(free / need + 1e-9))


def fits(capacity, reservations, shape, window, margin=None):
    """How many more instances of ``shape`` one host can take in ``window``.

    ``capacity``: resource class -> usable amount (a missing class is 0);
    ``reservations``: the host's ``(start, end, per_instance, count)`` items
    (``per_instance=None`` = exclusive). See the module docstring.
    """
    ws, we = window
    if margin is None:
        lo, hi = ws, we
    else:
        lo, hi = ws - margin, windows.later(we, margin)
    # An item held over [s, e + margin) meets [ws, we + margin) iff
    # s < we + margin and e > ws - margin.
    overlapping = []
    for s, e, per_instance, count in reservations:
        if s < hi and e > lo and s < e:
            if per_instance is None:
                return 0
            overlapping.append((s, e if margin is None else windows.later(e, margin),
                                per_instance, count))
    best = None
    for rc, need in shape.items():
        if not need > 0:
            continue
        if not overlapping:
            used = 0
        elif len(overlapping) == 1:
            used = overlapping[0][2].get(rc, 0) * overlapping[0][3]
        else:
            used = windows.peak(
                [(s, e, per_instance.get(rc, 0) * count)
                 for s, e, per_instance, count in overlapping], (ws, hi))
        n = _how_many(capacity.get(rc, 0) - used, need)
        if best is None or n < best:
            best = n
            if n == 0:
                break
    return best or 0


def host_slots(candidates, reservations, shape, window, margin=None,
               query=None):
    """``{host id: slots}`` for the matching candidates with room for one.

    ``candidates``: :class:`.hosts.Host` objects with ``capacity`` (hosts
    without capacity have no room); ``reservations``: host id -> items as in
    :func:`fits`.
    """
    hosts_mod.check_window(window)
    _check_shape(shape)
    _, matching = hosts_mod.filter_candidates(candidates, query)
    out = {}
    for host in matching:
        if not host.capacity:
            continue
        n = fits(host.capacity, reservations.get(host.id, ()), shape, window,
                 margin)
        if n > 0:
            out[host.id] = n
    return out


def max_amount(candidates, reservations, shape, window, margin=None,
               affinity=None, query=None):
    """The largest ``amount`` :func:`select_slots` could grant right now."""
    slots = host_slots(candidates, reservations, shape, window, margin, query)
    if affinity is None:
        return sum(slots.values())
    if affinity:
        return max(slots.values(), default=0)
    return len(slots)


def _pack(avail, remaining, order):
    """Fewest hosts covering ``remaining`` slots, with a best fit last.

    ``avail``: host id -> free slots; ``order``: host id -> tie-break key.
    Takes the largest hosts whole while no single host can cover the rest,
    then the smallest host that can: the minimum number of hosts, and the
    last one chosen leaves the big hosts alone.
    """
    desc = sorted(avail, key=lambda h: (-avail[h], order[h]))
    negs = [-avail[h] for h in desc]
    out = {}
    j = 0
    while remaining > 0 and j < len(desc):
        if avail[desc[j]] >= remaining:
            # Last index with avail >= remaining, then the first host of that
            # avail value (smallest tie-break key).
            k = bisect.bisect_right(negs, -remaining, lo=j) - 1
            k = bisect.bisect_left(negs, negs[k], lo=j)
            out[desc[k]] = remaining
            return out
        out[desc[j]] = avail[desc[j]]
        remaining -= avail[desc[j]]
        j += 1
    return out


def select_slots(candidates, reservations, shape, amount, window,
                 margin=None, affinity=None, query=None, current=None,
                 allow_drop=True):
    """Choose hosts for ``amount`` instances of ``shape`` during ``window``.

    ``affinity``: ``None`` -> packed onto as few hosts as possible (the
    biggest free hosts whole while no single host can hold the rest, then
    the smallest host that can); ``False`` -> one instance per host, hosts
    with the fewest free slots first; ``True`` -> all on the host with the
    fewest free slots that can hold them. Ties go to the smaller ``size``,
    then the id. ``current``: this reservation's slots now (host id ->
    count, or ids repeated per slot; ``reservations`` must leave them out);
    they are kept first, and ``allow_drop=False`` (active reservation)
    refuses to lose any.
    Returns ``{host id: slots}`` summing to ``amount``. Raises
    :class:`~blazar.exceptions.NotEnoughResources`.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise exceptions.InvalidInput(
            reason='amount must be an integer >= 1, got %r' % (amount,))
    if affinity not in (None, True, False):
        raise exceptions.InvalidInput(
            reason='affinity must be null, true or false, got %r'
            % (affinity,))
    hosts_mod.check_window(window)
    all_hosts, matching = hosts_mod.filter_candidates(candidates, query)
    slots = host_slots(matching, reservations, shape, window, margin)
    order = {h.id: (h.size, h.id) for h in matching}
    best_fit = {h: (n,) + order[h] for h, n in slots.items()}

    if current is None:
        current = {}
    elif not isinstance(current, typing.Mapping):
        current = collections.Counter(current)
    current = {h: n for h, n in current.items() if n > 0}

    def refuse(reason):
        raise exceptions.NotEnoughResources(what='instance slots',
                                            reason=reason)

    def shortfall():
        shape_text = ', '.join('%s=%s' % kv for kv in sorted(shape.items()))
        aff = {None: 'any hosts', True: 'all on one host',
               False: 'each on a different host'}[affinity]
        total = sum(slots.values())
        refuse('asked for %d instance(s) of {%s} (%s) from %s to %s%s; %d '
               'reservable host(s), %d match the properties, %d of those '
               'have room, for %d instance(s) in all and at most %d on one '
               'host' % (amount, shape_text, aff, window[0], window[1],
                         ' with %s cleaning time' % (margin,) if margin
                         else '', len(all_hosts), len(matching), len(slots),
                         total, max(slots.values(), default=0)))

    def check_drop(chosen):
        lost = {h: n - chosen.get(h, 0) for h, n in current.items()
                if chosen.get(h, 0) < n}
        if lost and not allow_drop:
            refuse('the reservation is active and cannot lose slots: '
                   + ', '.join('%d on %s' % (n, h) for h, n in lost.items()))

    if affinity:
        for h in current:
            if slots.get(h, 0) >= amount:
                chosen = {h: amount}
                break
        else:
            fitting = [h for h, n in slots.items() if n >= amount]
            if not fitting:
                if current and not allow_drop:
                    check_drop({})
                shortfall()
            chosen = {min(fitting, key=best_fit.__getitem__): amount}
        check_drop(chosen)
        return chosen

    per_host_cap = None if affinity is None else 1
    kept = {}
    for h, n in current.items():
        k = min(n, slots.get(h, 0))
        if per_host_cap is not None:
            k = min(k, per_host_cap)
        if k > 0:
            kept[h] = k
    if sum(kept.values()) > amount:
        # Shrink: release hosts holding the fewest of our slots first (whole
        # hosts come free), keeping the tightest-fitting hosts.
        excess = sum(kept.values()) - amount
        for h in sorted(kept, key=lambda h: (kept[h], -slots[h], order[h])):
            cut = min(excess, kept[h])
            kept[h] -= cut
            excess -= cut
            if not excess:
                break
        kept = {h: n for h, n in kept.items() if n}
    check_drop(kept)

    remaining = amount - sum(kept.values())
    chosen = dict(kept)
    if remaining and affinity is None:
        # Grow on the hosts we already use first, then pack the rest.
        for h in sorted(kept, key=best_fit.__getitem__):
            extra = min(slots[h] - kept[h], remaining)
            if extra > 0:
                chosen[h] += extra
                remaining -= extra
        if remaining:
            avail = {h: n for h, n in slots.items() if h not in chosen}
            for h, n in _pack(avail, remaining, order).items():
                chosen[h] = n
                remaining -= n
    elif remaining:
        spare = sorted((h for h in slots if h not in chosen),
                       key=best_fit.__getitem__)
        for h in spare[:remaining]:
            chosen[h] = 1
            remaining -= 1
    if remaining:
        shortfall()
    return chosen
