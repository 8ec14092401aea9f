"""Lease orchestration: create, update, delete, and the lifecycle events.

Every change to leases, reservations and allocations runs in one database
transaction that first takes the allocation lock, so concurrent requests
and the event loop see each other's work in order. Steps outside the
database (Nova) are recorded in an undo log and reversed if anything
later fails: a call either happens completely or changes nothing.
Long cloud work at start/end runs outside the lock, on a claimed event.

Usage enforcement ([enforcement] filters) checks a lease inside the same
transaction, once its allocation is decided and before it is committed: a
refusal (403) rolls back the database and the undo log alike.
"""
import logging

from oslo_config import cfg
from oslo_utils import timeutils
from oslo_utils import uuidutils

from blazar import enforcement as enforcement_engine
from blazar import exceptions
from blazar import plugins as plugin_loader
from blazar import rpc
from blazar.db import api as db_api
from blazar.manager import preemption
from blazar.manager import status
from blazar.manager import trusts
from blazar.utils import dates
from blazar.utils import undo

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

LeaseStatus = status.LeaseStatus
EventStatus = status.EventStatus
EventType = status.EventType
ReservationStatus = status.ReservationStatus


class LeaseService:

    def __init__(self, plugins, on_change=None, enforcement=None):
        self.plugins = plugins
        self.on_change = on_change or (lambda: None)
        self.enforcement = enforcement or enforcement_engine.Enforcement()
        self.reaper = preemption.Reaper(plugins)
        # A misnamed filter stops the manager at start-up, not at a request.
        self.enforcement.filters()

    # --- views ------------------------------------------------------------
    def _reservation_view(self, reservation):
        view = {key: reservation[key] for key in (
            'id', 'lease_id', 'resource_id', 'resource_type', 'status',
            'missing_resources', 'resources_changed', 'created_at', 'updated_at')}
        plugin = self.plugins.get(reservation['resource_type'])
        if plugin is not None:
            view.update(plugin.reservation_fields(reservation))
        return view

    def view(self, lease):
        result = {key: lease[key] for key in (
            'id', 'name', 'user_id', 'project_id', 'start_date', 'end_date',
            'trust_id', 'status', 'status_reason', 'degraded', 'created_at',
            'updated_at')}
        result['reservations'] = [self._reservation_view(r)
                                  for r in lease['reservations']]
        result['events'] = [{key: e[key] for key in (
            'id', 'lease_id', 'event_type', 'time', 'status', 'attempts',
            'last_error', 'created_at', 'updated_at')} for e in lease['events']]
        return result

    def _get(self, context, lease_id):
        lease = db_api.lease_get(context, lease_id)
        if lease is None:
            raise exceptions.LeaseNotFound(id=lease_id)
        return lease

    def get(self, context, lease_id):
        return self.view(self._get(context, lease_id))

    def list(self, context, project_id=None):
        return [self.view(lease) for lease in db_api.lease_list(context, project_id)]

    # --- create -----------------------------------------------------------
    def _validated_reservations(self, requested):
        checked = []
        for index, values in enumerate(requested or []):
            resource_type = values.get('resource_type')
            if not resource_type:
                raise exceptions.MissingParameter(
                    param='reservations[%d].resource_type' % index)
            plugin = plugin_loader.get(self.plugins, resource_type)
            checked.append((plugin, plugin.validate_reservation(values)))
        return checked

    def create(self, context, values):
        for field in ('name', 'start_date', 'end_date'):
            if not values.get(field):
                raise exceptions.MissingParameter(param=field)
        now = dates.utcnow_minute()
        start = dates.start_or_now(
            dates.parse_input(values['start_date'], 'start_date', now), now)
        end = dates.parse_input(values['end_date'], 'end_date', now)
        if start < now:
            raise exceptions.InvalidInput(
                reason='Start date must be later than current date')
        if end <= start:
            raise exceptions.InvalidInput(
                reason='End date must be later than start date.')
        before_end = self._before_end_time(values.get('before_end_date'), start, end)
        requested = self._validated_reservations(values.get('reservations'))

        lease_id = uuidutils.generate_uuid()
        with undo.UndoLog('creation of lease %s' % lease_id) as steps:
            # Keystone first, outside the lock; undone if the lease is not made.
            trust_id = trusts.create(context, steps)
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                lease = db_api.lease_create(context, {
                    'id': lease_id, 'name': values['name'],
                    'user_id': context.user_id, 'project_id': context.project_id,
                    'start_date': start, 'end_date': end,
                    'trust_id': trust_id,
                    'status': LeaseStatus.PENDING, 'degraded': False})
                for plugin, params in requested:
                    reservation = db_api.reservation_create(context, {
                        'lease_id': lease_id, 'resource_type': plugin.resource_type,
                        'status': ReservationStatus.PENDING,
                        'missing_resources': False, 'resources_changed': False})
                    resource_id = plugin.reserve(context, lease, reservation['id'],
                                                 params, steps)
                    db_api.reservation_update(context, reservation['id'],
                                              {'resource_id': resource_id})
                self._create_events(context, lease_id, start, end, before_end)
                if self.enforcement.enabled:
                    self.enforcement.check_create(
                        context, self._enforcement_view(context, lease_id))
        LOG.info('Lease %s (%s) created for project %s, %s to %s', lease_id,
                 values['name'], context.project_id, start, end)
        result = self.get(context, lease_id)
        rpc.notify(context, 'lease.create', result)
        self.on_change()
        return result

    @staticmethod
    def _before_end_time(value, start, end):
        if not value:
            return None
        before_end = dates.parse_input(value, 'before_end_date')
        if not start < before_end < end:
            raise exceptions.OutOfLeaseLimits(
                reason='before_end_date must be strictly between the start '
                       'and the end of the lease')
        return before_end

    @staticmethod
    def _default_before_end(start, end):
        minutes = CONF.manager.minutes_before_end_lease
        if not minutes:
            return None
        return max(start, end - timeutils.datetime.timedelta(minutes=minutes))

    @staticmethod
    def _notice_time(start, now):
        """When the owners of preemptible servers in a lease's way are told."""
        grace = CONF.preemptible.grace_period
        if not grace:
            return None
        return max(min(now, start), start - timeutils.datetime.timedelta(seconds=grace))

    def _create_events(self, context, lease_id, start, end, before_end):
        before_end = before_end or self._default_before_end(start, end)
        events = [(EventType.START, start), (EventType.END, end)]
        notice = self._notice_time(start, timeutils.utcnow())
        if notice is not None:
            events.append((EventType.BEFORE_START, notice))
        if before_end is not None:
            events.append((EventType.BEFORE_END, before_end))
        for event_type, time in events:
            db_api.event_create(context, {'lease_id': lease_id, 'event_type': event_type,
                                          'time': time, 'status': EventStatus.UNDONE,
                                          'attempts': 0})

    # --- update -----------------------------------------------------------
    @staticmethod
    def _events_by_type(lease):
        return {e['event_type']: e for e in lease['events']}

    def _refuse_if_busy(self, lease):
        for event in lease['events']:
            if event['status'] == EventStatus.IN_PROGRESS:
                raise exceptions.InvalidStatus(
                    kind='Lease', id=lease['id'], status=lease['status'],
                    reason='its %s is in progress; retry in a moment'
                           % event['event_type'])

    def update(self, context, lease_id, values):
        values = {k: v for k, v in values.items() if v is not None}
        with undo.UndoLog('update of lease %s' % lease_id) as steps:
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                lease = self._get(context, lease_id)
                if not values:
                    return self.view(lease)
                self._refuse_if_busy(lease)
                current = (self._enforcement_view(context, lease)
                           if self.enforcement.enabled else None)
                changes = self._apply_update(context, lease, values, steps)
                if current is not None:
                    self.enforcement.check_update(
                        context, current, self._enforcement_view(context, lease_id))
        result = self.get(context, lease_id)
        if changes:
            rpc.notify(context, 'lease.update', result)
            self.on_change()
        return result

    def _apply_update(self, context, lease, values, steps):
        """Check the new dates and parameters and write them. Returns
        whether anything but the name changed."""
        lease_values = {}
        if 'name' in values:
            lease_values['name'] = values['name']
        date_keys = {'start_date', 'end_date', 'before_end_date', 'reservations'}
        if not date_keys & set(values):
            db_api.lease_update(context, lease['id'], lease_values)
            return bool(lease_values)

        events = self._events_by_type(lease)
        started = events[EventType.START]['status'] != EventStatus.UNDONE
        ended = events[EventType.END]['status'] != EventStatus.UNDONE
        if ended or lease['status'] == LeaseStatus.TERMINATED:
            raise exceptions.InvalidInput(reason='Terminated leases can only be renamed')
        now = dates.utcnow_minute()
        start, end = lease['start_date'], lease['end_date']
        new_start = (dates.parse_input(values['start_date'], 'start_date', now)
                     if 'start_date' in values else start)
        new_end = (dates.parse_input(values['end_date'], 'end_date', now)
                   if 'end_date' in values else end)
        if started and new_start != start:
            raise exceptions.InvalidInput(
                reason='Cannot modify the start date of already started leases')
        if not started and new_start < now:
            raise exceptions.InvalidInput(
                reason='Start date must be later than current date')
        if new_end < now or new_end < new_start or (
                not started and new_end == new_start):
            raise exceptions.InvalidInput(
                reason='End date must be later than current and start date')
        before_end = self._retimed_before_end(values, events, start, end,
                                              new_start, new_end)

        new_lease = dict(lease, start_date=new_start, end_date=new_end)
        self._update_reservations(context, lease, new_lease,
                                  values.get('reservations') or [], steps)
        lease_values.update(start_date=new_start, end_date=new_end)
        db_api.lease_update(context, lease['id'], lease_values)
        self._retime_events(context, events, new_start, new_end, before_end, now)
        return True

    def _retimed_before_end(self, values, events, start, end, new_start, new_end):
        if values.get('before_end_date'):
            return self._before_end_time(values['before_end_date'], new_start, new_end)
        event = events.get(EventType.BEFORE_END)
        if event is None:
            return None
        return max(new_start, new_end - (end - event['time']))

    def _retime_events(self, context, events, new_start, new_end, before_end, now):
        if events[EventType.START]['status'] == EventStatus.UNDONE:
            db_api.event_update(context, events[EventType.START]['id'], {'time': new_start})
            notice = events.get(EventType.BEFORE_START)
            notice_time = self._notice_time(new_start, timeutils.utcnow())
            if notice is not None and notice_time is not None:
                db_api.event_update(context, notice['id'], {
                    'time': notice_time, 'status': EventStatus.UNDONE})
        db_api.event_update(context, events[EventType.END]['id'], {'time': new_end})
        event = events.get(EventType.BEFORE_END)
        if before_end is None:
            return
        if event is None:
            db_api.event_create(context, {
                'lease_id': events[EventType.END]['lease_id'],
                'event_type': EventType.BEFORE_END, 'time': before_end,
                'status': EventStatus.UNDONE, 'attempts': 0})
            return
        update = {'time': before_end}
        if event['status'] == EventStatus.DONE and before_end > now:
            update['status'] = EventStatus.UNDONE
        db_api.event_update(context, event['id'], update)

    def _update_reservations(self, context, lease, new_lease, requested, steps):
        by_id = {r['id']: r for r in lease['reservations']}
        changes = {}
        for index, item in enumerate(requested):
            res_id = item.get('id')
            if res_id not in by_id:
                raise exceptions.InvalidInput(
                    reason='reservations[%d].id %s is not a reservation of lease %s'
                           % (index, res_id, lease['id']))
            if item.get('resource_type', by_id[res_id]['resource_type']) != \
                    by_id[res_id]['resource_type']:
                raise exceptions.CantUpdateParameter(
                    param='resource_type', reason='it is fixed at creation')
            changes[res_id] = {k: v for k, v in item.items()
                               if k not in ('id', 'resource_type')}
        for reservation in lease['reservations']:
            if reservation['status'] == ReservationStatus.DELETED:
                continue
            plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
            plugin.update_reservation(context, new_lease, reservation,
                                      changes.get(reservation['id'], {}), steps)

    # --- delete -----------------------------------------------------------
    def delete(self, context, lease_id):
        """Delete a lease. Resources in use (an active lease) are taken back
        first, outside the lock; if that fails the lease stays as it was."""
        with undo.UndoLog('deletion of lease %s' % lease_id) as steps:
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                lease = self._get(context, lease_id)
                self._refuse_if_busy(lease)
                ending = self._ending_view(context, lease)
                in_use = [r for r in lease['reservations']
                          if r['status'] in (ReservationStatus.ACTIVE,
                                             ReservationStatus.ERROR)]
                if not in_use:
                    self._destroy(context, lease, steps)
                else:
                    end_event = self._events_by_type(lease)[EventType.END]
                    # Claimed like an event run: if this manager dies now,
                    # another one finishes the deletion once the claim expires.
                    db_api.event_claim(context, end_event['id'], owner=CONF.host,
                                       until=self._claim_expiry())
                    db_api.lease_update(context, lease_id,
                                        {'status': LeaseStatus.DELETING})
        if in_use:
            self._take_back_then_destroy(context, lease, in_use, end_event)
        LOG.info('Lease %s deleted', lease_id)
        trusts.forget(lease)
        if ending is not None:
            self.enforcement.on_end(context, ending)
        rpc.notify(context, 'lease.delete', self.view(lease))
        self.on_change()

    # --- enforcement --------------------------------------------------------
    def _enforcement_view(self, context, lease):
        """The lease (a store dict, or its id to read it) as enforcement
        filters see it, with what its reservations hold."""
        if not isinstance(lease, dict):
            lease = self._get(context, lease)
        return self.enforcement.lease_view(context, self.view(lease))

    def _ending_view(self, context, lease):
        """What on-end filters are told about a lease being deleted, read
        before it is gone; None if none are enabled or its end was told."""
        end = self._events_by_type(lease).get(EventType.END)
        if not self.enforcement.enabled or (end and end['status'] == EventStatus.DONE):
            return None
        return self._enforcement_view(context, lease)

    def _destroy(self, context, lease, steps):
        for reservation in lease['reservations']:
            if reservation['status'] != ReservationStatus.DELETED:
                plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
                plugin.release(context, lease, reservation, steps)
        db_api.lease_destroy(context, lease['id'])

    def _take_back_then_destroy(self, context, lease, in_use, end_event):
        try:
            for reservation in in_use:
                plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
                plugin.on_end(context, lease, reservation)
        except Exception:
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                db_api.event_claim(context, end_event['id'], EventStatus.IN_PROGRESS,
                                   EventStatus.UNDONE)
                db_api.lease_update(context, lease['id'], {'status': lease['status']})
            raise
        with undo.UndoLog('deletion of lease %s' % lease['id']) as steps:
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                for reservation in lease['reservations']:
                    if reservation in in_use:
                        db_api.reservation_update(context, reservation['id'],
                                                  {'status': ReservationStatus.DELETED})
                current = self._get(context, lease['id'])
                self._destroy(context, current, steps)
                db_api.events_wake_waiting_starts(context)

    # --- lifecycle events -------------------------------------------------
    TRANSITIONAL = {EventType.START: LeaseStatus.STARTING,
                    EventType.END: LeaseStatus.TERMINATING}

    def run_event(self, context, event):
        """Execute one due event exactly once; return False if another
        worker had already claimed it. A failed start or end is undone and
        retried with backoff; the lease shows why meanwhile."""
        event_type = event['event_type']
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            if not db_api.event_claim(context, event['id'], owner=CONF.host,
                                      until=self._claim_expiry()):
                return False
            lease = self._get(context, event['lease_id'])
            # Only a deletion's own end event, taken over from a dead manager.
            deleting = (lease['status'] == LeaseStatus.DELETING
                        and event_type == EventType.END)
            if event_type == EventType.START:
                holders = db_api.leases_still_holding(context, lease['id'])
                if holders:
                    self._wait_for_ends(context, event, lease, holders)
                    return True
            transitional = None if deleting else self.TRANSITIONAL.get(event_type)
            if transitional:
                status.check_transition(LeaseStatus, 'Lease', lease['id'],
                                        lease['status'], transitional)
                db_api.lease_update(context, lease['id'], {'status': transitional})
        if deleting:
            return self._finish_deletion(context, lease, event)
        LOG.info('Running %s of lease %s (due %s, attempt %d)', event_type, lease['id'],
                 event['time'], event['attempts'] + 1)
        error = None
        try:
            with undo.UndoLog('%s of lease %s' % (event_type, lease['id'])) as steps:
                self._run_plugins(context, lease, event_type, steps)
        except Exception as exc:
            LOG.exception('%s of lease %s failed', event_type, lease['id'])
            error = getattr(exc, 'message', None) or '%s: %s' % (type(exc).__name__, exc)
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            self._record_outcome(context, event, error)
            outcome = self._outcome(event, error)
            self._settle_statuses(context, lease['id'], event_type, outcome, error)
            if event_type == EventType.END and outcome != EventStatus.UNDONE:
                # Done or given up: its hosts no longer hold any start back.
                db_api.events_wake_waiting_starts(context)
        if event_type == EventType.END and error is None:
            trusts.release(context, lease)
        result = db_api.lease_get(context, lease['id'])
        if result is not None:
            rpc.notify(context, 'lease.event.%s' % event_type, self.view(result))
            if (event_type == EventType.END and error is None
                    and self.enforcement.enabled):
                self.enforcement.on_end(context, self._enforcement_view(context, result))
        return True

    @staticmethod
    def _wait_for_ends(context, event, lease, holders):
        """Put a start back until the leases before it gave its hosts back.

        Their end empties the hosts and returns them to the freepool; a start
        that ran first would hand over hosts the previous tenant still uses,
        and that end would then delete the new tenant's servers and put the
        hosts back in the freepool. The wait is not a failed attempt, and
        the holder letting go (its end done or given up, or its deletion)
        makes the start due again at once."""
        reason = 'waiting for the end of lease %s to give back its hosts' % ', '.join(holders)
        if lease['status_reason'] != reason:
            LOG.info('Start of lease %s is %s', lease['id'], reason)
            db_api.lease_update(context, lease['id'], {'status_reason': reason})
        db_api.event_update(context, event['id'], {
            'status': EventStatus.UNDONE, 'claimed_by': None, 'claimed_until': None,
            'next_attempt': timeutils.utcnow() + timeutils.datetime.timedelta(
                seconds=CONF.manager.event_retry_delay)})

    @staticmethod
    def _claim_expiry():
        return timeutils.utcnow() + timeutils.datetime.timedelta(
            seconds=CONF.manager.event_claim_timeout)

    def _finish_deletion(self, context, lease, event):
        """A deletion whose manager died half-way (its claim expired): take
        the resources back and remove the lease, as the deletion would have.
        On failure the event waits to be retried and the lease stays DELETING."""
        LOG.info('Finishing the deletion of lease %s left by a dead manager', lease['id'])
        in_use = [r for r in lease['reservations']
                  if r['status'] in (ReservationStatus.ACTIVE, ReservationStatus.ERROR)]
        try:
            self._take_back_then_destroy(context, lease, in_use, event)
        except Exception as exc:
            LOG.exception('Deletion of lease %s failed; retrying later', lease['id'])
            delay = min(CONF.manager.event_retry_delay * 2 ** event['attempts'],
                        CONF.manager.event_retry_max_delay)
            db_api.event_update(context, event['id'], {
                'attempts': event['attempts'] + 1,
                'last_error': getattr(exc, 'message', None) or str(exc),
                'next_attempt': timeutils.utcnow()
                + timeutils.datetime.timedelta(seconds=delay)})
            return True
        rpc.notify(context, 'lease.delete', self.view(lease))
        self.on_change()
        return True

    @staticmethod
    def _outcome(event, error):
        if error is None:
            return EventStatus.DONE
        if event['attempts'] + 1 < CONF.manager.event_max_attempts:
            return EventStatus.UNDONE
        return EventStatus.ERROR

    def _record_outcome(self, context, event, error):
        outcome = self._outcome(event, error)
        values = {'status': outcome, 'attempts': event['attempts'] + 1,
                  'last_error': error, 'next_attempt': None,
                  'claimed_by': None, 'claimed_until': None}
        if outcome == EventStatus.UNDONE:
            delay = min(CONF.manager.event_retry_delay * 2 ** event['attempts'],
                        CONF.manager.event_retry_max_delay)
            values['next_attempt'] = timeutils.utcnow() + timeutils.datetime.timedelta(
                seconds=delay)
        db_api.event_update(context, event['id'], values)

    def _run_plugins(self, context, lease, event_type, steps):
        for reservation in lease['reservations']:
            plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
            if event_type == EventType.BEFORE_START:
                self.reaper.notice(context, lease, plugin, reservation)
            elif event_type == EventType.START:
                self.reaper.reclaim(context, lease, plugin, reservation)
                plugin.on_start(context, lease, reservation, steps)
            elif event_type == EventType.END:
                plugin.on_end(context, lease, reservation)
            else:
                plugin.before_end(context, lease, reservation)

    def _settle_statuses(self, context, lease_id, event_type, outcome, error):
        lease = db_api.lease_get(context, lease_id)
        if lease is None:
            return
        target = {(EventType.START, EventStatus.DONE): ReservationStatus.ACTIVE,
                  (EventType.START, EventStatus.ERROR): ReservationStatus.ERROR,
                  (EventType.END, EventStatus.DONE): ReservationStatus.DELETED,
                  (EventType.END, EventStatus.ERROR): ReservationStatus.ERROR,
                  }.get((event_type, outcome))
        if target is not None:
            for reservation in lease['reservations']:
                if reservation['status'] != target:
                    status.check_transition(ReservationStatus, 'Reservation',
                                            reservation['id'], reservation['status'],
                                            target)
                    db_api.reservation_update(context, reservation['id'],
                                              {'status': target})
        new_status = self.derive_status(lease['events'])
        values = {}
        if new_status != lease['status']:
            status.check_transition(LeaseStatus, 'Lease', lease_id, lease['status'],
                                    new_status)
            values['status'] = new_status
        if event_type in self.TRANSITIONAL:
            values['status_reason'] = self._reason(event_type, lease['events'], error)
        if values:
            db_api.lease_update(context, lease_id, values)

    @staticmethod
    def _reason(event_type, events, error):
        if error is None:
            return None
        event = {e['event_type']: e for e in events}[event_type]
        if event['status'] == EventStatus.ERROR:
            return '%s failed %d times, giving up: %s' % (event_type, event['attempts'],
                                                          error)
        return '%s failed (attempt %d), retrying at %s: %s' % (
            event_type, event['attempts'], event['next_attempt'], error)

    @staticmethod
    def derive_status(events):
        """A lease's stable status follows from its start and end events."""
        by_type = {e['event_type']: e['status'] for e in events}
        start, end = by_type.get(EventType.START), by_type.get(EventType.END)
        if EventStatus.ERROR in (start, end):
            return LeaseStatus.ERROR
        return {(EventStatus.UNDONE, EventStatus.UNDONE): LeaseStatus.PENDING,
                (EventStatus.DONE, EventStatus.UNDONE): LeaseStatus.ACTIVE,
                (EventStatus.DONE, EventStatus.DONE): LeaseStatus.TERMINATED,
                }.get((start, end), LeaseStatus.ERROR)
