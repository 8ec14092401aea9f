"""A lease's life in the store: its dates and events set what the cloud
must hold (each reservation's intent), and its status, events and
notifications follow what the converger reports.

Phases of an intent, from the lease: ``reserved`` until the start event is
applied, ``active`` from then until the end event is applied (or the lease
is deleted), ``absent`` afterwards. A reservation's status says what the
cloud *has*: it turns ``active`` (``deleted``) only once its active (absent)
intent has converged. The lease's status is transitional (STARTING,
UPDATING, TERMINATING, DELETING) while an intent converges, and stable
(PENDING, ACTIVE, TERMINATED) once all have, derived from its events; a
DELETING lease goes once its intents are all absent in the cloud.
"""
import datetime
import logging

from oslo_config import cfg

from blazar import rpc
from blazar.db import api as db_api
from blazar.manager import status
from blazar.manager import trusts

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

LeaseStatus = status.LeaseStatus
EventStatus = status.EventStatus
EventType = status.EventType
ReservationStatus = status.ReservationStatus

# What a reservation's status is once its intent has converged.
CONVERGED_STATUS = {'reserved': ReservationStatus.PENDING,
                    'active': ReservationStatus.ACTIVE,
                    'absent': ReservationStatus.DELETED}
PHASE_WORK = {'reserved': 'preparing the cloud objects of reservation %s',
              'active': 'handing the resources of reservation %s over',
              'absent': 'taking the resources of reservation %s back'}
# The event whose application set an intent's phase.
PHASE_EVENT = {'active': EventType.START, 'absent': EventType.END}


def events_by_type(lease):
    return {e['event_type']: e for e in lease['events']}


def phase_of(lease):
    """The phase a lease's reservations are in, from its status and events."""
    if lease['status'] == LeaseStatus.DELETING:
        return 'absent'
    events = events_by_type(lease)
    applied = (EventStatus.IN_PROGRESS, EventStatus.DONE)
    if events.get(EventType.END, {}).get('status') in applied:
        return 'absent'
    if events.get(EventType.START, {}).get('status') in applied:
        return 'active'
    return 'reserved'


def derive_status(events):
    """A settled lease's stable status follows from its start and end."""
    by_type = {e['event_type']: e['status'] for e in events}
    start, end = by_type.get(EventType.START), by_type.get(EventType.END)
    if EventStatus.ERROR in (start, end):
        return LeaseStatus.ERROR
    return {(EventStatus.UNDONE, EventStatus.UNDONE): LeaseStatus.PENDING,
            (EventStatus.DONE, EventStatus.UNDONE): LeaseStatus.ACTIVE,
            (EventStatus.DONE, EventStatus.DONE): LeaseStatus.TERMINATED,
            }.get((start, end), LeaseStatus.ERROR)


def _prepared_from(lease, phase):
    """When a reservation's cloud objects are made, if not at once: shortly
    before the start (``[manager] prepare_ahead``), so that a lease made
    weeks ahead holds nothing in Nova until then, and one deleted before
    costs the cloud no call."""
    if phase != 'reserved':
        return None
    return lease['start_date'] - datetime.timedelta(seconds=CONF.manager.prepare_ahead)


def _converged(intent):
    return intent['converged_generation'] == intent['generation']


class Lifecycle:
    """``view(lease)``: the lease as the API and notifications show it;
    ``on_end(context, lease)``: records the enforcement on-end call;
    ``wake()``: the converger has work."""

    def __init__(self, plugins, view, on_end=None, wake=None):
        self.plugins = plugins
        self.view = view
        self.on_end = on_end or (lambda context, lease: None)
        self.wake = wake or (lambda: None)

    # --- intents ----------------------------------------------------------------
    def refresh(self, context, lease, reservation, phase=None, new=False,
                adopted=False):
        """Write what the cloud must hold for a reservation now (inside the
        caller's transaction); returns whether that changed. ``new``: the
        reservation was made in this transaction; ``adopted``: made before
        intents existed, so the cloud may hold its objects already."""
        plugin = self.plugins.get(reservation['resource_type'])
        if plugin is None:
            LOG.warning('Reservation %s: no plugin for %s, its cloud state is left '
                        'as it is', reservation['id'], reservation['resource_type'])
            return False
        phase = phase or phase_of(lease)
        return db_api.intent_set(context, reservation['id'], lease['id'],
                                 reservation['resource_type'], phase,
                                 lambda: plugin.intent_spec(context, lease, reservation, phase),
                                 new=new,
                                 not_before=_prepared_from(lease, phase), touched=adopted)

    def respec(self, context, lease, reservation):
        """The reservation's holdings changed (healing): the cloud must follow,
        in the phase its intent is in."""
        current = db_api.intent_get(context, reservation['id'])
        return self.refresh(context, lease, reservation,
                            current['phase'] if current else None)

    def refresh_all(self, context, lease, phase=None, new=False):
        changed = False
        for reservation in lease['reservations']:
            if reservation['status'] == ReservationStatus.DELETED and phase != 'absent':
                continue
            changed = self.refresh(context, lease, reservation, phase, new) or changed
        return changed

    @staticmethod
    def set_status(context, lease, target, **values):
        if lease['status'] != target:
            status.check_transition(LeaseStatus, 'Lease', lease['id'], lease['status'],
                                    target)
            values['status'] = target
        if values:
            db_api.lease_update(context, lease['id'], values)
            lease.update(values)

    # --- start and end -------------------------------------------------------------
    def apply(self, context, lease, event):
        """Apply a due start or end: the intents change, the cloud follows.
        Inside the caller's transaction, which holds the allocation lock.
        Returns what to do after the commit, or None if another manager
        applied it first."""
        if not db_api.event_claim(context, event['id'], owner=None, until=None):
            return None
        event_type = event['event_type']
        LOG.info('Applying %s of lease %s (due %s)', event_type, lease['id'], event['time'])
        events = events_by_type(lease)
        if event_type == EventType.START:
            self.set_status(context, lease, LeaseStatus.STARTING)
            self.refresh_all(context, lease, 'active')
        else:
            start = events.get(EventType.START)
            if start is not None and start['status'] != EventStatus.DONE:
                # Never handed over in full: nothing more to say of the start.
                db_api.event_update(context, start['id'], {
                    'status': EventStatus.DONE, 'claimed_by': None,
                    'claimed_until': None})
            if lease['status'] != LeaseStatus.DELETING:
                self.set_status(context, lease, LeaseStatus.TERMINATING)
            self.refresh_all(context, lease, 'absent')
            self.on_end(context, lease)
        return self.settle_in(context, lease['id'])

    # --- settling ----------------------------------------------------------------------
    def settle(self, context, lease_id):
        """After an intent of the lease converged: statuses, events and
        notifications follow (a short transaction under the lock)."""
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            after = self.settle_in(context, lease_id)
        self.run_after(context, lease_id, after)

    def settle_in(self, context, lease_id):
        """``settle`` inside the caller's transaction; returns the actions
        to run after the commit."""
        lease = db_api.lease_get(context, lease_id)
        intents = db_api.intents_of_leases(context, [lease_id]).get(lease_id, [])
        done = [i['reservation_id'] for i in intents if _converged(i)]
        if lease is None:
            db_api.intents_forget(context, done)
            return []
        by_id = {i['reservation_id']: i for i in intents}
        released = self._follow_reservations(context, lease, by_id)
        after = []
        if all(_converged(i) for i in intents):
            after, gone = self._settled(context, lease)
            released = released or gone
        db_api.intents_forget(context, done)
        if released:
            # Starts waiting for these hosts may go on.
            if db_api.intents_wake_waiting(context):
                after.append(('wake', None))
        return after

    @staticmethod
    def _follow_reservations(context, lease, intents):
        released = False
        for reservation in lease['reservations']:
            intent = intents.get(reservation['id'])
            if intent is None or not _converged(intent):
                continue
            target = CONVERGED_STATUS[intent['phase']]
            if reservation['status'] == target:
                continue
            status.check_transition(ReservationStatus, 'Reservation', reservation['id'],
                                    reservation['status'], target)
            released = released or reservation['status'] == ReservationStatus.ACTIVE
            db_api.reservation_update(context, reservation['id'], {'status': target})
            reservation['status'] = target
        return released

    def _settled(self, context, lease):
        """Every intent of the lease is in the cloud: finish its events,
        and its status becomes stable (or a deleted lease goes)."""
        after = []
        for event in lease['events']:
            if event['event_type'] in (EventType.START, EventType.END) and \
                    event['status'] == EventStatus.IN_PROGRESS:
                db_api.event_update(context, event['id'], {
                    'status': EventStatus.DONE, 'claimed_by': None,
                    'claimed_until': None})
                event['status'] = EventStatus.DONE
                after.append(('notify', 'lease.event.%s' % event['event_type']))
                if event['event_type'] == EventType.END:
                    trusts.release(context, lease)
                    after.append(('wake', None))
        if lease['status'] == LeaseStatus.DELETING:
            payload = self.view(lease)
            trusts.forget(context, lease)
            db_api.lease_destroy(context, lease['id'])
            LOG.info('Lease %s deleted: nothing of it is left in the cloud', lease['id'])
            return [('wake', None), ('notify_payload', ('lease.delete', payload))], True
        values = {'status_reason': None} if lease['status_reason'] else {}
        self.set_status(context, lease, derive_status(lease['events']), **values)
        return after, False

    def run_after(self, context, lease_id, after):
        """The actions settling asked for, once committed."""
        lease = None
        for action, arg in after or ():
            if action == 'wake':
                self.wake()
            elif action == 'notify_payload':
                rpc.notify(context, *arg)
            elif action == 'notify':
                lease = lease or db_api.lease_get(context, lease_id)
                if lease is not None:
                    rpc.notify(context, arg, self.view(lease))

    # --- reporting ----------------------------------------------------------------------
    def failed(self, context, intent, error, retry_at):
        """A converger step failed (it is retried): the lease says so, in its
        status_reason and on the event that set the intent, and a
        notification tells (at the 1st, 2nd, 4th, 8th... failure in a row)."""
        attempts = intent['attempts']
        reason = '%s failed (attempt %d), retrying at %s: %s' % (
            PHASE_WORK[intent['phase']] % intent['reservation_id'], attempts,
            retry_at.strftime('%Y-%m-%d %H:%M:%S'), error)
        with db_api.transaction(context):
            # Under the lock: a settlement that raced with this failure
            # (another manager converged it meanwhile) is never undone.
            db_api.allocation_lock(context)
            lease = self._still_unsettled(context, intent)
            if lease is None:
                return
            db_api.lease_update(context, lease['id'], {'status_reason': reason})
            event = events_by_type(lease).get(PHASE_EVENT.get(intent['phase']))
            if event is not None and event['status'] == EventStatus.IN_PROGRESS:
                db_api.event_update(context, event['id'], {'attempts': attempts,
                                                           'last_error': error})
        if attempts & (attempts - 1) == 0:
            rpc.notify(context, 'lease.retrying', {
                'lease_id': lease['id'], 'project_id': lease['project_id'],
                'reservation_id': intent['reservation_id'], 'phase': intent['phase'],
                'attempts': attempts, 'error': error, 'retry_at': retry_at,
                'status': lease['status']})

    def waiting(self, context, intent, reason):
        if intent is None:
            return
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            lease = self._still_unsettled(context, intent)
            if lease is not None and lease['status_reason'] != reason:
                LOG.info('Lease %s is %s', lease['id'], reason)
                db_api.lease_update(context, lease['id'], {'status_reason': reason})

    @staticmethod
    def _still_unsettled(context, intent):
        """The intent's lease, if that intent is still the one that failed
        or waits and has not converged since; else None."""
        current = db_api.intent_get(context, intent['reservation_id'])
        if current is None or current['generation'] != intent['generation'] or \
                current['converged_generation'] == current['generation']:
            return None
        return db_api.lease_get(context, intent['lease_id'])

    # --- adoption -----------------------------------------------------------------------
    def adopt(self, context):
        """Give an intent to reservations made before intents existed (an
        upgrade, from an upstream deployment too), taken to be as their
        status says: the converger then checks the cloud agrees."""
        pending = db_api.reservations_without_intent(context)
        if not pending:
            return 0
        adopted = 0
        for lease_id in sorted({lease_id for _rid, lease_id in pending}):
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                lease = db_api.lease_get(context, lease_id)
                if lease is None:
                    continue
                for reservation in lease['reservations']:
                    if reservation['status'] == ReservationStatus.DELETED or \
                            db_api.intent_get(context, reservation['id']):
                        continue
                    phase = {ReservationStatus.ACTIVE: 'active',
                             ReservationStatus.ERROR: phase_of(lease)
                             }.get(reservation['status'], phase_of(lease))
                    adopted += self.refresh(context, lease, reservation, phase,
                                            adopted=True)
        if adopted:
            LOG.info('Adopted %d reservation(s) made before cloud intents', adopted)
            self.wake()
        return adopted

