"""Usage arithmetic of the enforcement rules: pure functions, no I/O.

A *use* is something a project holds for a time window: a mapping with
``start_date``, ``end_date`` and amounts under ``hosts``, ``vcpus``,
``memory_mb`` and ``floatingips`` (what ``db_api.project_usage`` returns, and what a lease
holds, see ``lease_usage``). Windows are half-open: a use ending at the
moment another starts never overlaps it.
"""
import datetime

HOST_TYPE = 'physical:host'
INSTANCE_TYPE = 'virtual:instance'
FLOATINGIP_TYPE = 'virtual:floatingip'
KINDS = ('hosts', 'vcpus', 'memory_mb', 'floatingips')
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


def empty():
    return dict.fromkeys(KINDS, 0)


def reservation_usage(reservation):
    """What one reservation holds, from its ``allocations`` (host
    reservations: the hosts and their whole size) or, for reservations of
    instance capacity, from ``amount`` × the instance size."""
    usage = empty()
    allocations = reservation.get('allocations') or []
    if reservation.get('resource_type') == HOST_TYPE:
        usage['hosts'] = len(allocations)
        usage['vcpus'] = sum(a.get('vcpus') or 0 for a in allocations)
        usage['memory_mb'] = sum(a.get('memory_mb') or 0 for a in allocations)
    elif reservation.get('resource_type') == FLOATINGIP_TYPE:
        usage['floatingips'] = max(len(allocations), int(reservation.get('amount') or 0))
    elif reservation.get('vcpus') is not None and reservation.get('amount') is not None:
        amount = int(reservation['amount'])
        usage['vcpus'] = amount * int(reservation['vcpus'])
        usage['memory_mb'] = amount * int(reservation.get('memory_mb') or 0)
    return usage


def lease_usage(lease):
    """What a whole lease holds: the sum of its reservations' ``usage``."""
    total = empty()
    for reservation in lease.get('reservations') or []:
        usage = reservation.get('usage') or reservation_usage(reservation)
        for kind in KINDS:
            total[kind] += usage.get(kind, 0)
    return total


def _clipped(uses, kind, start, end):
    for use in uses:
        amount = use.get(kind) or 0
        lo, hi = max(use['start_date'], start), min(use['end_date'], end)
        if amount and lo < hi:
            yield lo, hi, amount


def peak(uses, kind, start, end):
    """The most of ``kind`` held at one moment in ``[start, end)``, and the
    first moment it is held: ``(amount, moment)``; ``(0, start)`` if none."""
    changes = []
    for lo, hi, amount in _clipped(uses, kind, start, end):
        changes.append((lo, 1, amount))
        changes.append((hi, 0, -amount))
    best, moment, current = 0, start, 0
    # Ends sort before starts at the same moment: back to back is no overlap.
    for when, _order, amount in sorted(changes, key=lambda c: (c[0], c[1])):
        current += amount
        if current > best:
            best, moment = current, when
    return best, moment


def amount_hours(uses, kind, start, end):
    """Sum of ``kind`` × hours held within ``[start, end)``."""
    return sum(amount * ((hi - lo) / HOUR)
               for lo, hi, amount in _clipped(uses, kind, start, end))


def busiest_period(uses, period, lease_start, lease_end, kind='hosts'):
    """Among the rolling periods of length ``period`` that overlap
    ``[lease_start, lease_end)`` by a minute at least (dates have minute
    precision), the one in which the uses add up to the most ``kind``-hours:
    ``(period start, kind-hours)``.

    The total is piecewise linear in the period's start, bending only where
    the period's start or end meets the edge of a use, so those and the two
    extreme starts are the only starts worth trying.
    """
    first, last = lease_start - period + MINUTE, lease_end - MINUTE
    edges = {lease_start, lease_end}
    for use in uses:
        edges.update((use['start_date'], use['end_date']))
    candidates = {first, max(first, last), lease_start}
    for edge in edges:
        for start in (edge, edge - period):
            if first < start < last:
                candidates.add(start)
    best = None
    # Of equally busy periods, the latest: it starts where a use starts.
    for start in sorted(candidates):
        total = amount_hours(uses, kind, start, start + period)
        if best is None or total >= best[1] - 1e-9:
            best = (start, total)
    return best


def format_duration(seconds):
    """'2 days 3 hours', '45 minutes', '10 seconds'."""
    seconds = int(round(abs(seconds)))
    if seconds == 0:
        return '0 seconds'
    parts = []
    for unit, size in (('day', 86400), ('hour', 3600), ('minute', 60), ('second', 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append('%d %s%s' % (count, unit, '' if count == 1 else 's'))
    return ' '.join(parts)


def format_amount(value):
    """12, 12.5 or 0.25: no trailing zeros."""
    if abs(value - round(value)) < 1e-9:
        return '%d' % round(value)
    return ('%.2f' % value).rstrip('0').rstrip('.')


def format_time(moment):
    return moment.strftime('%Y-%m-%d %H:%M')
