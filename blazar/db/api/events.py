"""Lease events: creation, claims by managers, and what is due."""
from oslo_utils import timeutils
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.core import _create
from blazar.db.api.core import _earliest
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import _update
from blazar.db.api.core import transaction

__all__ = [
    'event_create',
    'events_create',
    'event_get',
    'event_update',
    'event_claim',
    'events_release_all',
    'events_due',
    'next_event_time',
]


def event_create(context, values):
    return _create(context, models.Event, values)


def events_create(context, rows):
    """A lease's events in one statement."""
    if rows:
        with transaction(context) as session:
            session.execute(sa.insert(models.Event), list(rows))


def event_get(context, event_id):
    with _reader(context) as session:
        event = session.get(models.Event, event_id)
        return _row(event) if event else None


def event_update(context, event_id, values):
    return _update(context, models.Event, event_id, values)


def event_claim(context, event_id, from_status='UNDONE', to_status='IN_PROGRESS',
                owner=None, until=None):
    """Move an event on only if nobody else did: True if this caller won.

    With ``owner``/``until`` the event is claimed by that manager until that
    time; an IN_PROGRESS event whose claim has expired (its manager died)
    can be claimed again the same way."""
    now = timeutils.utcnow()
    condition = models.Event.status == from_status
    if from_status == 'UNDONE' and to_status == 'IN_PROGRESS':
        condition = sa.or_(condition, sa.and_(models.Event.status == 'IN_PROGRESS',
                                              models.Event.claimed_until < now))
    values = {'status': to_status, 'updated_at': now}
    if to_status == 'IN_PROGRESS':
        values.update(claimed_by=owner, claimed_until=until)
    else:
        values.update(claimed_by=None, claimed_until=None)
    with transaction(context) as session:
        return session.execute(
            sa.update(models.Event).where(models.Event.id == event_id, condition)
            .values(**values)).rowcount == 1


def events_release_all(context, owner):
    """Put the events ``owner`` is running back to UNDONE (an orderly
    shutdown that could not finish them): due again at once, for any
    manager. Returns how many."""
    with transaction(context) as session:
        return session.execute(
            sa.update(models.Event).where(models.Event.status == 'IN_PROGRESS',
                                          models.Event.claimed_by == owner)
            .values(status='UNDONE', claimed_by=None, claimed_until=None,
                    updated_at=timeutils.utcnow())).rowcount


def _due_time():
    """When an event may run: its time, or later if a failed run backs off."""
    return sa.func.coalesce(models.Event.next_attempt, models.Event.time)


def events_due(context, now, status='UNDONE'):
    """Events whose time has come (and whose retry delay, if any, is over),
    and events whose manager died while running them (expired claims)."""
    with _reader(context) as session:
        waiting = sa.and_(models.Event.status == status, models.Event.time <= now,
                          _due_time() <= now)
        abandoned = sa.and_(models.Event.status == 'IN_PROGRESS',
                            models.Event.claimed_until < now)
        query = (sa.select(models.Event)
                 .where(sa.or_(waiting, abandoned) if status == 'UNDONE' else waiting)
                 .order_by(models.Event.time, models.Event.id))
        return [_row(e) for e in session.scalars(query)]


def next_event_time(context, status='UNDONE'):
    """When the event loop next has something to do: the earliest due time
    of a waiting event, or the earliest expiry of a running event's claim."""
    with _reader(context) as session:
        return _earliest(session, (
            sa.select(sa.func.min(_due_time())).where(models.Event.status == status),
            sa.select(sa.func.min(models.Event.claimed_until))
            .where(models.Event.status == 'IN_PROGRESS')))
