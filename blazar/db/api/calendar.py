"""The calendar change log: which hosts each change of the calendar touched.

The managers keep the calendar (hosts and what holds them) in memory
(blazar/plugins/hosts/calendar.py, blazar/plugins/instances/
calendar.py), keyed by the generation of the allocation lock. Every
store function that changes what the calendar is made of (a host's row,
capabilities, inventory, health, or an allocation) records here, in the
same transaction, the hosts it touched, stamped with the lock's generation
as that transaction sees it: its own bump, since the transaction took the
lock first (blazar/db/api/core.py). A manager holding generation ``g``
then catches up by reading the hosts stamped ``g`` or later
(:func:`calendar_delta`, one range scan of
ix_calendar_changes_generation) and reloading those hosts alone: what
holds them, and their own rows only where a change touched those (a
lease write changes allocations alone, :func:`calendar_touch_holdings`).

Why ``g`` or later and not only later: a write that did not take the lock
(none does; a hand edit could) is stamped with the last committed
generation, the one a cache may already hold; re-reading that generation's
hosts costs a few rows and sees such a write at the next locked change,
as a full reload did.

The log is pruned (:func:`calendar_changes_prune`, a periodic task of the
manager): rows older than the last ``keep`` generations are deleted and a
mark without a host is left at the newest generation deleted; a cache
holding that generation or an older one sees the mark in its delta and
reloads in full.
"""
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.core import _reader
from blazar.db.api.core import COMPUTE_LOCK
from blazar.db.api.core import transaction

__all__ = [
    'calendar_touch',
    'calendar_touch_holdings',
    'calendar_delta',
    'calendar_changes_prune',
    'CALENDAR_CHANGES_KEPT',
]

#: Generations of changes kept by :func:`calendar_changes_prune`.
CALENDAR_CHANGES_KEPT = 10000


def _generation():
    """The allocation lock's generation as the enclosing statement sees it
    (0 before the lock's first use)."""
    lock = models.AllocationLock
    return sa.func.coalesce(
        sa.select(lock.generation).where(lock.name == COMPUTE_LOCK)
        .scalar_subquery(), 0)


def calendar_touch(context, host_ids):
    """Record that this transaction changes the hosts' own rows (row,
    capabilities, inventory, health): a catch-up reloads those and what
    holds them."""
    ids = sorted(set(host_ids))
    if ids:
        _touch(context, [models.ComputeHost.id.in_(ids)], host_rows=True)


def calendar_touch_holdings(context, host_ids=None, reservation_id=None, lease_id=None):
    """Record that this transaction changes only what holds some hosts
    (allocations): ``host_ids``, and those a reservation's or a lease's
    allocations hold (call it before deleting or moving allocations, and
    with the hosts they move to). A catch-up reloads their allocations and
    keeps their rows and capabilities."""
    host, alloc = models.ComputeHost, models.HostAllocation
    conditions = []
    if host_ids is not None:
        ids = sorted(set(host_ids))
        if ids:
            conditions.append(host.id.in_(ids))
    if reservation_id is not None:
        conditions.append(host.id.in_(
            sa.select(alloc.compute_host_id)
            .where(alloc.reservation_id == reservation_id)))
    if lease_id is not None:
        res = models.Reservation
        conditions.append(host.id.in_(
            sa.select(alloc.compute_host_id)
            .join(res, res.id == alloc.reservation_id)
            .where(res.lease_id == lease_id)))
    if conditions:
        _touch(context, conditions, host_rows=False)


def _touch(context, conditions, host_rows):
    """One statement (an INSERT ... SELECT of the enrolled hosts matching
    any of ``conditions``: a host's row goes after its change is recorded),
    whatever the number of hosts."""
    host = models.ComputeHost
    rows = sa.select(_generation().label('generation'), host.id,
                     sa.literal(host_rows, sa.Boolean).label('host_row')).where(
        sa.or_(*conditions))
    with transaction(context) as session:
        session.execute(sa.insert(models.CalendarChange).from_select(
            ['generation', 'host_id', 'host_row'], rows))


def calendar_delta(context, generation):
    """``(host ids, ids of those whose own rows changed, newest
    generation)`` of the changes at ``generation`` or later (ids None if
    the log was pruned past it; newest 0 if there are none): one range
    scan of the log's index."""
    change = models.CalendarChange
    with _reader(context) as session:
        rows = session.execute(
            sa.select(change.host_id, sa.func.max(change.generation),
                      sa.func.max(sa.case((change.host_row, 1), else_=0)))
            .where(change.generation >= generation).group_by(change.host_id)).all()
    ids = {host_id for host_id, _newest, _row in rows}
    newest = max((n for _host, n, _row in rows), default=0)
    if None in ids:
        return None, None, newest
    return ids, {host_id for host_id, _newest, row in rows if row}, newest


def calendar_changes_prune(context, keep=CALENDAR_CHANGES_KEPT):
    """Delete the changes older than the last ``keep`` generations, leaving
    the mark at the newest generation deleted; return how many rows went.
    At most four statements; no lock needed (the rows deleted were committed long
    ago, and a newer mark only makes more caches reload)."""
    change = models.CalendarChange
    with transaction(context) as session:
        lock = models.AllocationLock
        current = session.scalar(sa.select(lock.generation)
                                 .where(lock.name == COMPUTE_LOCK)) or 0
        bound = current - keep
        if bound <= 0:
            return 0
        deleted = session.execute(sa.delete(change).where(
            change.generation < bound, change.host_id.isnot(None))).rowcount
        if deleted:
            # One mark, the newest: it covers the older ones.
            session.execute(sa.delete(change).where(change.generation < bound,
                                                   change.host_id.is_(None)))
            session.execute(sa.insert(change).values(generation=bound - 1,
                                                     host_id=None))
        return deleted
