"""Cloud intents: what the cloud must hold per reservation, and the
converger's claims, progress and failures (blazar/manager/converger.py).

Requests and lease events write intents in their own transaction (which
holds the allocation lock); the converger claims a due intent with an
expiring claim, records each step it completes, and marks the intent
converged only if nobody changed it meanwhile (its generation), so a
change made while it worked is never lost.
"""
import json

from oslo_utils import timeutils
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.core import _earliest
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import transaction

__all__ = [
    'PHASES',
    'intent_set',
    'intent_get',
    'intents_of_leases',
    'intents_of_type',
    'intents_due',
    'intents_unsettled',
    'next_intent_due',
    'intent_claim',
    'intent_record',
    'intent_failed',
    'intent_waits',
    'intent_converged',
    'intent_release',
    'intents_release_all',
    'intents_wake_waiting',
    'intents_forget',
    'intents_resync',
    'intent_ids_known',
    'reservations_without_intent',
    'orphans_seen',
    'orphan_forget',
    'deferred_call_add',
    'deferred_calls_due',
    'deferred_call_claim',
    'deferred_call_done',
    'deferred_call_failed',
    'next_deferred_call_due',
]

PHASES = ('reserved', 'active', 'absent')
_INTENT = models.CloudIntent


def _intent_dict(row):
    intent = _row(row)
    intent['spec'] = json.loads(intent['spec'])
    intent['observed'] = json.loads(intent['observed'])
    intent['progress'] = json.loads(intent['progress'])
    return intent


def _locked(session, reservation_id):
    """The intent's row, locked until the transaction ends. Every change of
    an intent reads it this way: two writers (a request changing the intent
    and the converger settling the previous one) must not both read the
    same generation and the later one write over the other's change (on
    MariaDB's snapshot reads and PostgreSQL's READ COMMITTED alike)."""
    return session.get(_INTENT, reservation_id, with_for_update=True,
                       populate_existing=True)


def _drop_if_untouched(session, reservation_id):
    """Drop the intent if it is a reserved one no manager has touched (what
    a pending lease's delete finds): one statement, no row read first.
    Not when the session holds the row (the ORM would then write a row that
    is gone)."""
    if sa.orm.util.identity_key(_INTENT, reservation_id) in session.identity_map:
        return False
    return session.execute(
        sa.delete(_INTENT).where(_INTENT.reservation_id == reservation_id,
                                 _INTENT.phase == 'reserved',
                                 _INTENT.touched_at.is_(None))
        .execution_options(synchronize_session=False)).rowcount > 0


def _spec_text(spec):
    return json.dumps(spec, sort_keys=True)


def _untouched(row):
    """No manager has claimed it yet (nor was it adopted): nothing made for
    it can be in the cloud."""
    return row.touched_at is None


def intent_set(context, reservation_id, lease_id, resource_type, phase, spec=None,
               new=False, not_before=None, touched=False):
    """Say what the cloud must hold for a reservation from now on. ``spec``
    None keeps the current one (an ``absent`` intent removes what the last
    spec described); a function returning it is called only if the spec is
    written or compared (reading it costs queries). Returns whether the
    intent changed: a change bumps the
    generation and makes it due at once, or at ``not_before`` (a pending
    reservation's objects are made shortly before its start) while nothing
    of it is in the cloud. ``new``: the reservation was made in this
    transaction, so it has no intent yet (none is looked for).
    ``touched``: the cloud may already hold its objects (an adoption).

    A reserved intent no manager has touched that becomes ``absent`` has
    nothing to remove: it is dropped at once, and the converger never
    calls the cloud for it."""
    assert phase in PHASES, phase
    now = timeutils.utcnow()
    later = max(now, not_before) if not_before is not None else now
    with transaction(context) as session:
        if phase == 'absent' and not new and _drop_if_untouched(session, reservation_id):
            return True
        row = None if new else _locked(session, reservation_id)
        if callable(spec):
            spec = spec()
        if row is None:
            session.add(_INTENT(
                reservation_id=reservation_id, lease_id=lease_id,
                resource_type=resource_type, phase=phase,
                spec=_spec_text(spec or {}), generation=1, converged_generation=0,
                progress='[]', observed='{}', due_at=now if touched else later,
                attempts=0, touched_at=now if touched else None))
            session.flush()
            return True
        untouched = _untouched(row)
        if untouched and row.phase == 'reserved' and phase == 'absent':
            session.delete(row)
            session.flush()
            return True
        text = row.spec if spec is None else _spec_text(spec)
        if row.phase == phase and row.spec == text:
            if untouched and max(row.due_at or now, now) != later:
                row.due_at = later      # its start moved
                session.flush()
            return False
        row.phase, row.spec = phase, text
        row.generation += 1
        row.progress = '[]'
        row.due_at = later if untouched else now
        row.attempts = 0
        row.last_error = row.waiting = None
        session.flush()
        return True


def intent_get(context, reservation_id):
    with _reader(context) as session:
        row = session.get(_INTENT, reservation_id)
        return _intent_dict(row) if row is not None else None


def intents_of_leases(context, lease_ids):
    """``{lease id: [intent, ...]}`` in one query."""
    if not lease_ids:
        return {}
    with _reader(context) as session:
        found = {}
        for row in session.scalars(sa.select(_INTENT).where(
                _INTENT.lease_id.in_(list(lease_ids)))
                .order_by(_INTENT.created_at, _INTENT.reservation_id)):
            found.setdefault(row.lease_id, []).append(_intent_dict(row))
        return found


def intents_of_type(context, resource_type):
    """Every intent of one resource type (one query)."""
    with _reader(context) as session:
        return [_intent_dict(row) for row in session.scalars(
            sa.select(_INTENT).where(_INTENT.resource_type == resource_type))]


def _claimable(now):
    return sa.or_(_INTENT.claimed_by.is_(None), _INTENT.claimed_until < now)


def intents_due(context, now, limit=100):
    """Ids of the intents the converger should look at now, oldest due
    first (an index range scan of due_at)."""
    with _reader(context) as session:
        return list(session.scalars(
            sa.select(_INTENT.reservation_id)
            .where(_INTENT.due_at <= now, _claimable(now))
            .order_by(_INTENT.due_at, _INTENT.reservation_id).limit(limit)))


def intents_unsettled(context):
    """How many intents the converger still has work on (one count): not
    those whose objects are made later, shortly before their start."""
    now = timeutils.utcnow()
    with _reader(context) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(_INTENT).where(
            _INTENT.due_at.isnot(None),
            sa.or_(_INTENT.touched_at.isnot(None), _INTENT.due_at <= now)))


def next_intent_due(context):
    """When the converger next has something to do: the earliest due time
    of an intent nobody holds, or the earliest expiry of a claim on a due
    intent (its manager may have died). None if nothing is due."""
    now = timeutils.utcnow()
    with _reader(context) as session:
        return _earliest(session, (
            sa.select(sa.func.min(_INTENT.due_at)).where(_claimable(now)),
            sa.select(sa.func.min(_INTENT.claimed_until))
            .where(_INTENT.due_at.isnot(None), _INTENT.claimed_until >= now)))


def intent_claim(context, reservation_id, owner, until):
    """Take a due intent for ``owner`` until ``until`` and return it as
    claimed (read in the same transaction: a convergence starts with one
    round of the store, not two); None if another manager holds it or it
    is not due."""
    now = timeutils.utcnow()
    with transaction(context) as session:
        claimed = session.execute(
            sa.update(_INTENT)
            .where(_INTENT.reservation_id == reservation_id,
                   _INTENT.due_at.isnot(None), _claimable(now))
            .values(claimed_by=owner, claimed_until=until,
                    touched_at=sa.func.coalesce(_INTENT.touched_at, now))).rowcount == 1
        if not claimed:
            return None
        return _intent_dict(session.get(_INTENT, reservation_id, populate_existing=True))


def intent_record(context, reservation_id, owner, generation, progress, observed, until):
    """After a step: what it found or made (``observed``, whatever the
    generation: facts stay facts) and, if the intent is still the one the
    steps were planned for, the steps done. Renews the claim. Returns
    False when the intent changed meanwhile (the plan is stale)."""
    with transaction(context) as session:
        row = _locked(session, reservation_id)
        if row is None or row.claimed_by != owner:
            return False
        row.observed = json.dumps(observed, sort_keys=True)
        row.claimed_until = until
        if row.generation != generation:
            session.flush()
            return False
        row.progress = json.dumps(sorted(progress))
        session.flush()
        return True


def _release(row):
    row.claimed_by = row.claimed_until = None


def intent_failed(context, reservation_id, owner, error, retry_at):
    """A step failed: count it, say why, retry at ``retry_at``. Returns the
    number of failures in a row, or None if the claim was lost."""
    with transaction(context) as session:
        row = _locked(session, reservation_id)
        if row is None or row.claimed_by != owner:
            return None
        row.attempts += 1
        row.last_error = error
        row.waiting = None
        row.due_at = retry_at
        _release(row)
        session.flush()
        return row.attempts


def intent_waits(context, reservation_id, owner, reason, retry_at):
    """The intent must wait for another reservation: not a failure."""
    with transaction(context) as session:
        row = _locked(session, reservation_id)
        if row is None or row.claimed_by != owner:
            return
        row.waiting = reason
        row.due_at = retry_at
        _release(row)
        session.flush()


def intent_converged(context, reservation_id, owner, generation, observed=None):
    """The cloud matches generation ``generation``: True if that is still
    the intent (it is then settled until it changes), False if it changed
    meanwhile (it stays due, and the claim is let go). ``observed``: what
    the last steps found or made, recorded whatever the generation (the
    last step's own record, folded in here)."""
    now = timeutils.utcnow()
    with transaction(context) as session:
        row = _locked(session, reservation_id)
        if row is None or row.claimed_by != owner:
            return False
        _release(row)
        if observed is not None:
            row.observed = json.dumps(observed, sort_keys=True)
        if row.generation != generation:
            session.flush()
            return False
        row.converged_generation = generation
        row.due_at = None
        row.attempts = 0
        row.last_error = row.waiting = None
        row.verified_at = now
        session.flush()
        return True


def intent_release(context, reservation_id, owner):
    with transaction(context) as session:
        session.execute(sa.update(_INTENT).where(
            _INTENT.reservation_id == reservation_id, _INTENT.claimed_by == owner)
            .values(claimed_by=None, claimed_until=None))


def intents_release_all(context, owner):
    """Let go of every claim of ``owner`` (an orderly shutdown): another
    manager may carry on at once."""
    with transaction(context) as session:
        for table, column in ((_INTENT, _INTENT.claimed_by),
                              (models.DeferredCall, models.DeferredCall.claimed_by)):
            session.execute(sa.update(table).where(column == owner)
                            .values(claimed_by=None, claimed_until=None))


def intents_wake_waiting(context):
    """Make intents waiting for another reservation due at once (one of
    them just let go of what they wait for)."""
    with transaction(context) as session:
        return session.execute(
            sa.update(_INTENT).where(_INTENT.waiting.isnot(None))
            .values(due_at=timeutils.utcnow())).rowcount


def intents_forget(context, reservation_ids):
    """Drop intents whose absence is converged (nothing of them is left)."""
    if not reservation_ids:
        return
    with transaction(context) as session:
        session.execute(sa.delete(_INTENT).where(
            _INTENT.reservation_id.in_(list(reservation_ids)),
            _INTENT.phase == 'absent',
            _INTENT.converged_generation == _INTENT.generation))


def intents_resync(context, verified_before, limit):
    """Make settled intents last verified before ``verified_before`` due
    again with no step done, so that the converger looks at the cloud again
    (an object removed by hand is made again). Returns how many."""
    with transaction(context) as session:
        ids = list(session.scalars(
            sa.select(_INTENT.reservation_id)
            .where(_INTENT.due_at.is_(None),
                   sa.or_(_INTENT.verified_at.is_(None),
                          _INTENT.verified_at < verified_before))
            .order_by(_INTENT.verified_at).limit(limit)))
        if ids:
            session.execute(sa.update(_INTENT).where(
                _INTENT.reservation_id.in_(ids), _INTENT.due_at.is_(None))
                .values(due_at=timeutils.utcnow(), progress='[]'))
        return len(ids)


def intent_ids_known(context, reservation_ids):
    """Those of ``reservation_ids`` that have an intent or a reservation
    not yet deleted: the objects made for them are wanted (one query each)."""
    ids = list(set(reservation_ids))
    if not ids:
        return set()
    with _reader(context) as session:
        known = set(session.scalars(sa.select(_INTENT.reservation_id).where(
            _INTENT.reservation_id.in_(ids))))
        known |= set(session.scalars(sa.select(models.Reservation.id).where(
            models.Reservation.id.in_(ids), models.Reservation.status != 'deleted')))
        return known


def reservations_without_intent(context):
    """Reservations not yet deleted that have no intent (made before the
    converger existed, or by an upstream deployment): ``[(id, lease id)]``."""
    with _reader(context) as session:
        res = models.Reservation
        return [tuple(row) for row in session.execute(
            sa.select(res.id, res.lease_id)
            .outerjoin(_INTENT, _INTENT.reservation_id == res.id)
            .where(_INTENT.reservation_id.is_(None), res.status != 'deleted'))]


# --- orphans --------------------------------------------------------------------

def orphans_seen(context, seen, now):
    """Record the orphans of one pass, ``{(kind, ident): reservation id}``:
    new ones from now, known ones keep their first sighting, and those not
    seen again are forgotten. Returns ``{(kind, ident): first seen}``."""
    orphan = models.CloudOrphan
    with transaction(context) as session:
        known = {(r.kind, r.ident): r for r in session.scalars(sa.select(orphan))}
        for key, row in known.items():
            if key not in seen:
                session.delete(row)
            else:
                row.last_seen = now
        for key, reservation_id in seen.items():
            if key not in known:
                session.add(orphan(kind=key[0], ident=key[1],
                                   reservation_id=reservation_id,
                                   first_seen=now, last_seen=now))
        session.flush()
        return {key: (known[key].first_seen if key in known else now) for key in seen}


def orphan_forget(context, kind, ident):
    with transaction(context) as session:
        session.execute(sa.delete(models.CloudOrphan).where(
            models.CloudOrphan.kind == kind, models.CloudOrphan.ident == ident))


# --- deferred calls ----------------------------------------------------------------

_CALL = models.DeferredCall


def deferred_call_add(context, kind, payload):
    """Record a call to make once the enclosing transaction commits;
    returns its id."""
    with transaction(context) as session:
        row = _CALL(kind=kind, payload=json.dumps(payload, sort_keys=True, default=str),
                    due_at=timeutils.utcnow(), attempts=0)
        session.add(row)
        session.flush()
        return row.id


def deferred_calls_due(context, now, limit=50, ids=None):
    with _reader(context) as session:
        query = sa.select(_CALL).where(_CALL.due_at <= now, sa.or_(
            _CALL.claimed_by.is_(None), _CALL.claimed_until < now))
        if ids is not None:
            query = query.where(_CALL.id.in_(list(ids)))
        return [dict(_row(r), payload=json.loads(r.payload)) for r in session.scalars(
            query.order_by(_CALL.due_at, _CALL.id).limit(limit))]


def deferred_call_claim(context, call_id, owner, until):
    now = timeutils.utcnow()
    with transaction(context) as session:
        return session.execute(
            sa.update(_CALL).where(_CALL.id == call_id, sa.or_(
                _CALL.claimed_by.is_(None), _CALL.claimed_until < now))
            .values(claimed_by=owner, claimed_until=until)).rowcount == 1


def deferred_call_done(context, call_id):
    with transaction(context) as session:
        session.execute(sa.delete(_CALL).where(_CALL.id == call_id))


def deferred_call_failed(context, call_id, error, retry_at):
    with transaction(context) as session:
        session.execute(sa.update(_CALL).where(_CALL.id == call_id).values(
            attempts=_CALL.attempts + 1, last_error=error, due_at=retry_at,
            claimed_by=None, claimed_until=None))


def next_deferred_call_due(context):
    """The earliest due time of a call nobody holds, or expiry of a claim."""
    now = timeutils.utcnow()
    with _reader(context) as session:
        return _earliest(session, (
            sa.select(sa.func.min(_CALL.due_at)).where(sa.or_(
                _CALL.claimed_by.is_(None), _CALL.claimed_until < now)),
            sa.select(sa.func.min(_CALL.claimed_until)).where(_CALL.claimed_until >= now)))
