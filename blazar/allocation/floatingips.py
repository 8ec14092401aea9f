"""Which floating IPs a reservation gets: pure, no I/O.

The same calendar and free-ness predicate as hosts
(:func:`blazar.allocation.windows.scan`, with the cleaning time as margin):
an address is free for a window when no allocation of another reservation
comes closer to it than the margin.

Order of choice: addresses the reservation holds already (an update keeps
them), then its required addresses, then addresses no reservation ever
held, then the others free, each group by the time it leaves unused around
the window (tightest first, as hosts), then by address.
"""
import ipaddress
import typing

from blazar import exceptions
from blazar.allocation import windows


class Address(typing.NamedTuple):
    id: str
    address: str


def _sort_key(address):
    try:
        ip = ipaddress.ip_address(address)
        return (ip.version, int(ip))
    except ValueError:
        return (9, address)


def _describe(window, margin):
    text = 'from %s to %s' % (window[0], window[1])
    if margin:
        text += ' (with %s cleaning time around it)' % (margin,)
    return text


def free_addresses(candidates, busy, window, margin=None):
    """Ids among ``candidates`` (:class:`Address`) free for ``window``."""
    return [c.id for c in candidates
            if windows.is_free(busy.get(c.id, ()), window, margin)]


def select_floatingips(candidates, busy, window, amount, required=(), margin=None,
                       current=(), allow_drop=True, network_id=None):
    """``amount`` address ids for ``window``.

    ``candidates``: the reservable :class:`Address` of the network;
    ``busy``: address id -> ``[(start, end), ...]`` of other reservations;
    ``required``: addresses (text) that must be among those chosen;
    ``current``: ids the reservation holds now (update); with
    ``allow_drop=False`` (an active reservation) none of them may go.
    Raises :class:`~blazar.exceptions.NotEnoughFloatingIPAvailable`.
    """
    if not window[0] < window[1]:
        raise exceptions.InvalidInput(reason='the window must end after it starts, '
                                             'got %s to %s' % window)
    if type(amount) is not int or amount < 1:
        raise exceptions.InvalidInput(reason='amount must be a whole number >= 1, got %r'
                                      % (amount,))
    required = list(dict.fromkeys(required))
    if len(required) > amount:
        raise exceptions.InvalidInput(
            reason='%d required floating IP(s) for an amount of %d: required_floatingips '
                   'cannot list more addresses than amount' % (len(required), amount))
    by_id = {c.id: c for c in candidates}
    by_address = {c.address: c for c in candidates}
    free = {}
    for c in candidates:
        ok, prev_end, next_start = windows.scan(busy.get(c.id, ()), window, margin)
        if ok:
            free[c.id] = (prev_end, next_start)
    network = ' of network %s' % network_id if network_id else ''
    where = _describe(window, margin)

    current = [i for i in dict.fromkeys(current)]
    kept = [i for i in current if i in free]
    lost = [i for i in current if i not in free]
    if len(kept) > amount:
        if not allow_drop:
            raise exceptions.NotEnoughFloatingIPAvailable(
                reason='the reservation is active and holds %d floating IP(s): amount '
                       'cannot go below that (asked for %d)' % (len(current), amount))
        must = {by_address[a].id for a in required if a in by_address}
        kept = sorted(kept, key=lambda i: (i not in must, _sort_key(by_id[i].address)))
        kept = kept[:amount]
    if lost and not allow_drop:
        raise exceptions.NotEnoughFloatingIPAvailable(
            reason='the reservation is active and cannot lose floating IP(s) %s: not '
                   'free %s' % (', '.join(sorted(by_id[i].address if i in by_id else i
                                                 for i in lost)), where))

    chosen = list(kept)
    missing = []
    for address in required:
        c = by_address.get(address)
        if c is None or c.id not in free:
            missing.append(address)
        elif c.id not in chosen:
            chosen.append(c.id)
    if missing:
        raise exceptions.NotEnoughFloatingIPAvailable(
            reason='required floating IP(s) %s%s %s: %s'
                   % (', '.join(missing), network, 'not free ' + where,
                      '; '.join('%s is %s' % (a, 'not registered as reservable'
                                              if a not in by_address else 'taken')
                                for a in missing)))
    if len(chosen) > amount:
        # Required addresses beyond what was kept: drop kept ones (pending).
        extra = len(chosen) - amount
        must = {by_address[a].id for a in required}
        droppable = [i for i in reversed(kept) if i not in must]
        if not allow_drop or len(droppable) < extra:
            raise exceptions.NotEnoughFloatingIPAvailable(
                reason='the required floating IP(s) do not fit in amount %d beside '
                       'those held' % amount)
        for i in droppable[:extra]:
            chosen.remove(i)

    def key(i):
        prev_end, next_start = free[i]
        never = i not in busy or not busy[i]
        gaps = 0 if next_start is None and prev_end is None else 1
        return (not never, gaps, _sort_key(by_id[i].address))

    others = sorted((i for i in free if i not in chosen), key=key)
    chosen += others[:amount - len(chosen)]
    if len(chosen) < amount:
        raise exceptions.NotEnoughFloatingIPAvailable(
            reason='asked for %d floating IP(s)%s%s; %d reservable address(es) '
                   'registered, %d of those free %s'
                   % (amount, network,
                      ' (required: %s)' % ', '.join(required) if required else '',
                      len(candidates), len(free), where))
    return chosen
