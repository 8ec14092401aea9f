"""Lease requests: create, update, delete, and the events that fall due.

Each request changes the store in one short transaction that first takes
the allocation lock, so concurrent requests and the event loop see each
other's work in order: the lease, its reservations and allocations, its
events, and what the cloud must hold for each reservation (its intent,
blazar/manager/lifecycle.py). No cloud or external call happens while the
lock is held: what only the cloud knows (a flavor's shape) is read before,
the Keystone trust is made or chosen before (and a new one deleted if the
lease is not stored), the external policy service is asked before with the
allocation the request would get (re-checked under the lock), and the
converger makes the cloud
follow after the commit (blazar/manager/converger.py). A refused request
(400, 403, 409) changes nothing.
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
from blazar.manager import lifecycle as lifecycle_mod
from blazar.manager import preemption
from blazar.manager import status
from blazar.manager import trusts
from blazar.plugins.steps import Step
from blazar.plugins.steps import Wait
from blazar.utils import dates
from blazar.utils import undo

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

LeaseStatus = status.LeaseStatus
EventStatus = status.EventStatus
EventType = status.EventType
ReservationStatus = status.ReservationStatus
PROPOSALS = 3   # times a lease is proposed to the policy service before a 409


class _DryRun(Exception):
    """Rolls back a transaction that only computed a proposal."""

    def __init__(self, result):
        super().__init__('dry run')
        self.result = result


class LeaseService:

    def __init__(self, plugins, on_change=None, enforcement=None):
        self.plugins = plugins
        self.on_change = on_change or (lambda: None)
        self.enforcement = enforcement or enforcement_engine.Enforcement()
        self.lifecycle = lifecycle_mod.Lifecycle(plugins, self.view, self._record_on_end,
                                                 wake=lambda: self.on_change())
        self.reaper = preemption.Reaper(plugins, self.lifecycle)
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

    def _get(self, context, lease_id, owner=None):
        """The lease; with ``owner`` (the project and user the API checked
        its policy against), only if they are the lease's."""
        lease = db_api.lease_get(context, lease_id)
        if lease is None:
            raise exceptions.LeaseNotFound(id=lease_id)
        if owner is not None and (lease['project_id'], lease['user_id']) != (
                owner.get('project_id'), owner.get('user_id')):
            raise exceptions.OwnerNotConfirmed(id=lease_id)
        return lease

    def get(self, context, lease_id):
        return self.view(self._get(context, lease_id))

    def list(self, context, project_id=None, filters=None, page=None):
        """Leases (of the project), filtered by ``filters`` (status, name,
        and request dates 'YYYY-MM-DD HH:MM' or 'now' for the window:
        start_before...end_after), paged as ``page`` says (a dict: limit,
        marker, sort_key, sort_dir; None: all, in creation order)."""
        return [self.view(lease) for lease in db_api.lease_list(
            context, project_id, filters=dates.parse_window(filters), page=page)]

    # --- enforcement --------------------------------------------------------
    def _enforcement_view(self, context, lease):
        """The lease (a store dict, or its id to read it) as enforcement
        filters see it, with what its reservations hold."""
        if not isinstance(lease, dict):
            lease = self._get(context, lease)
        return self.enforcement.lease_view(context, self.view(lease))

    @staticmethod
    def _dry_run(context, build):
        """What ``build(context)`` returns, computed in a transaction that
        is rolled back (no lock taken): a proposal to show the policy
        service before the real change is made under the lock."""
        try:
            with db_api.transaction(context):
                raise _DryRun(build(context))
        except _DryRun as run:
            return run.result

    def _checked(self, context, build, hook):
        """Run ``build(context)`` (returns ``(result, current view or None,
        new view)``) under the allocation lock, having asked the remote
        policy service about the same change first; the local filters check
        it under the lock. Returns ``(result, after-commit actions)``."""
        remote = self.enforcement.has_remote
        for _attempt in range(PROPOSALS):
            proposal = None
            if remote:
                def propose(ctx):
                    _res, current, view = build(ctx)
                    # The local filters first: a lease they refuse is not
                    # shown to the remote service.
                    self._check(ctx, hook, current, view, remote=False)
                    return current, view
                current, proposal = self._dry_run(context, propose)
                self._check(context, hook, current, proposal, remote=True)
            try:
                with db_api.transaction(context):
                    db_api.allocation_lock(context)
                    result, current, new = build(context)
                    if remote and _holdings(new) != _holdings(proposal):
                        raise _Changed()
                    self._check(context, hook, current, new, remote=False)
                    return result
            except _Changed:
                LOG.info('The allocation changed since it was proposed; proposing again')
        raise exceptions.NotEnoughResources(
            'The allocation kept changing while the policy service was asked; '
            'try again')

    def _check(self, context, hook, current, new, remote):
        if new is None or not self.enforcement.enabled:
            return
        if hook == 'create':
            self.enforcement.check_create(context, new, remote=remote)
        elif current is not None:
            self.enforcement.check_update(context, current, new, remote=remote)

    def _record_on_end(self, context, lease):
        """The enforcement filters are told a lease is over once the change
        commits, through a deferred call that survives a restart."""
        if self.enforcement.enabled:
            self.enforcement.record_on_end(context, self._enforcement_view(context, lease))

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
        lease = {'id': uuidutils.generate_uuid(), 'name': values['name'],
                 'user_id': context.user_id, 'project_id': context.project_id,
                 'start_date': start, 'end_date': end,
                 'status': LeaseStatus.PENDING, 'degraded': False}
        # What only the cloud knows, before the lock.
        requested = [(plugin, plugin.prepare(context, lease, params))
                     for plugin, params in
                     self._validated_reservations(values.get('reservations'))]
        self._insert_holding_a_trust(context, lease, requested, before_end)
        LOG.info('Lease %s (%s) created for project %s, %s to %s', lease['id'],
                 lease['name'], context.project_id, start, end)
        self.on_change()
        result = self.get(context, lease['id'])
        rpc.notify(context, 'lease.create', result)
        return result

    def _insert_holding_a_trust(self, context, lease, requested, before_end):
        """Store the lease (checked, under the lock) with the trust it
        holds, got before the lock (Keystone is not called under it). A
        shared trust let go by its last lease before the commit: once more
        with a trust of its own (which nothing else can let go)."""
        if not self._insert_with_trust(context, lease, requested, before_end, reuse=True):
            LOG.info('Trust %s was let go before lease %s was stored; making one '
                     'for it', lease['trust_id'], lease['id'])
            self._insert_with_trust(context, lease, requested, before_end, reuse=False)

    def _insert_with_trust(self, context, lease, requested, before_end, reuse):
        """True once stored; False if the shared trust was let go."""
        with undo.UndoLog('creation of lease %s' % lease['id']) as steps:
            held = trusts.acquire(context, steps, reuse=reuse)
            lease['trust_id'] = held and held.trust_id

            def build(ctx):
                trusts.hold(ctx, held)
                self._insert(ctx, lease, requested, before_end)
                view = self._enforcement_view(ctx, lease['id']) \
                    if self.enforcement.enabled else None
                return None, None, view
            try:
                self._checked(context, build, 'create')
            except trusts.Released:
                return False
        return True

    def _insert(self, context, lease, requested, before_end):
        db_api.lease_create(context, lease)
        for plugin, params in requested:
            resource_id = uuidutils.generate_uuid()
            reservation = db_api.reservation_create(context, {
                'lease_id': lease['id'], 'resource_id': resource_id,
                'resource_type': plugin.resource_type,
                'status': ReservationStatus.PENDING,
                'missing_resources': False, 'resources_changed': False})
            plugin.reserve(context, lease, reservation['id'], params, resource_id)
        self._create_events(context, lease['id'], lease['start_date'], lease['end_date'],
                            before_end)
        # The lease is as written above; its reservations are read back for
        # the plugin rows ``reserve`` made.
        self.lifecycle.refresh_all(
            context, dict(lease, reservations=db_api.lease_reservations(context, lease['id'])),
            'reserved', new=True)

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
        db_api.events_create(context, [
            {'id': uuidutils.generate_uuid(), 'lease_id': lease_id,
             'event_type': event_type, 'time': time, 'status': EventStatus.UNDONE,
             'attempts': 0} for event_type, time in events])

    # --- update -----------------------------------------------------------
    @staticmethod
    def _refuse_if_deleting(lease):
        if lease['status'] == LeaseStatus.DELETING:
            raise exceptions.InvalidStatus(
                kind='Lease', id=lease['id'], status=lease['status'],
                reason='it is being deleted')

    def update(self, context, lease_id, values, owner=None):
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            return self.view(self._get(context, lease_id, owner))
        if values.get('reservations'):
            # What only the cloud knows, before the lock (a date change
            # needs nothing: it is read and checked under the lock).
            lease = self._get(context, lease_id, owner)
            self._refuse_if_deleting(lease)
            values['reservations'] = self._prepared_changes(
                context, lease, values['reservations'])

        def build(ctx):
            current_lease = self._get(ctx, lease_id, owner)
            self._refuse_if_deleting(current_lease)
            current = (self._enforcement_view(ctx, current_lease)
                       if self.enforcement.enabled else None)
            changed = self._apply_update(ctx, current_lease, values)
            new = self._enforcement_view(ctx, lease_id) if current is not None else None
            return changed, current, new
        changed = self._checked(context, build, 'update')
        result = self.get(context, lease_id)
        if changed:
            self.on_change()
            rpc.notify(context, 'lease.update', result)
        return result

    def _prepared_changes(self, context, lease, requested):
        """Each reservation's changes, with what only the cloud knows read
        now (before the lock); ids are checked here and again under it."""
        by_id = {r['id']: r for r in lease['reservations']}
        prepared = []
        for index, item in enumerate(requested):
            reservation = by_id.get(item.get('id'))
            if reservation is None:
                raise exceptions.InvalidInput(
                    reason='reservations[%d].id %s is not a reservation of lease %s'
                           % (index, item.get('id'), lease['id']))
            plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
            changes = {k: v for k, v in item.items() if k not in ('id', 'resource_type')}
            changes = plugin.prepare_update(context, lease, reservation, changes)
            prepared.append(dict(changes, id=item['id'],
                                 **({'resource_type': item['resource_type']}
                                    if 'resource_type' in item else {})))
        return prepared

    def _apply_update(self, context, lease, values):
        """Check the new dates and parameters and write them, with the
        intents they call for. Returns whether anything but the name changed."""
        lease_values = {}
        if 'name' in values:
            lease_values['name'] = values['name']
        date_keys = {'start_date', 'end_date', 'before_end_date', 'reservations'}
        if not date_keys & set(values):
            db_api.lease_update(context, lease['id'], lease_values)
            return False

        events = lifecycle_mod.events_by_type(lease)
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
                                  values.get('reservations') or [])
        lease_values.update(start_date=new_start, end_date=new_end)
        db_api.lease_update(context, lease['id'], lease_values)
        self._retime_events(context, events, new_start, new_end, before_end, now)
        # The retimed events keep their statuses, so the phase stays; the
        # reservations are read back for what the plugins changed, if their
        # parameters were (new dates alone change the allocations, which the
        # intents read themselves).
        reservations = (db_api.lease_reservations(context, lease['id'])
                        if values.get('reservations') else lease['reservations'])
        current = dict(lease, start_date=new_start, end_date=new_end,
                       reservations=reservations)
        if self.lifecycle.refresh_all(context, current) and \
                current['status'] == LeaseStatus.ACTIVE:
            self.lifecycle.set_status(context, current, LeaseStatus.UPDATING)
        return True

    def _retimed_before_end(self, values, events, start, end, new_start, new_end):
        if values.get('before_end_date'):
            return self._before_end_time(values['before_end_date'], new_start, new_end)
        event = events.get(EventType.BEFORE_END)
        if event is None:
            return None
        return max(new_start, new_end - (end - event['time']))

    @staticmethod
    def _set_event(context, event, values):
        """Write what changes of an event (an end date moved leaves its
        start as it was: no statement for it under the lock)."""
        changed = {k: v for k, v in values.items() if event.get(k) != v}
        if changed:
            db_api.event_update(context, event['id'], changed)

    def _retime_events(self, context, events, new_start, new_end, before_end, now):
        if events[EventType.START]['status'] == EventStatus.UNDONE:
            self._set_event(context, events[EventType.START], {'time': new_start})
            notice = events.get(EventType.BEFORE_START)
            notice_time = self._notice_time(new_start, timeutils.utcnow())
            if notice is not None and notice_time is not None:
                self._set_event(context, notice, {'time': notice_time,
                                                  'status': EventStatus.UNDONE})
        self._set_event(context, events[EventType.END], {'time': new_end})
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
        self._set_event(context, event, update)

    def _update_reservations(self, context, lease, new_lease, requested):
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
                                      changes.get(reservation['id'], {}))

    # --- delete -----------------------------------------------------------
    def delete(self, context, lease_id, owner=None):
        """Delete a lease. One that never started, or whose end completed,
        goes at once (what the cloud still holds for it is removed in the
        background); one whose resources are handed over is DELETING until
        the cloud has them back."""
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            lease = self._get(context, lease_id, owner)
            if lease['status'] == LeaseStatus.DELETING:
                return
            events = lifecycle_mod.events_by_type(lease)
            if events[EventType.END]['status'] == EventStatus.UNDONE:
                self._record_on_end(context, lease)
            if lease['status'] == LeaseStatus.TERMINATED or \
                    events[EventType.START]['status'] == EventStatus.UNDONE:
                if lease['status'] != LeaseStatus.TERMINATED:
                    self.lifecycle.refresh_all(context, lease, 'absent')
                payload = self.view(lease)
                trusts.forget(context, lease)
                db_api.lease_destroy(context, lease_id)
                after = [('wake', None), ('notify_payload', ('lease.delete', payload))]
                destroyed = True
            else:
                destroyed = False
                self.lifecycle.set_status(context, lease, LeaseStatus.DELETING)
                self.lifecycle.refresh_all(context, lease, 'absent')
                after = self.lifecycle.settle_in(context, lease_id)
        LOG.info('Lease %s %s', lease_id, 'deleted' if destroyed
                 else 'being deleted: its resources are being taken back')
        self.lifecycle.run_after(context, lease_id, after)
        self.on_change()

    # --- lifecycle events -------------------------------------------------
    def apply_event(self, context, event):
        """Apply a due start or end to the lease's intents (one transaction
        under the lock); False if another manager did it first."""
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            lease = db_api.lease_get(context, event['lease_id'])
            after = None if lease is None else self.lifecycle.apply(context, lease, event)
        if after is None:
            return False
        self.lifecycle.run_after(context, event['lease_id'], after)
        self.on_change()
        return True

    def run_action(self, context, event):
        """Run a before-start notice or a before-end action once, on a claim
        (not under the lock); retried with backoff until it succeeds or the
        lease's end comes. False if another manager claimed it."""
        if not db_api.event_claim(context, event['id'], owner=CONF.host,
                                  until=_claim_expiry()):
            return False
        lease = db_api.lease_get(context, event['lease_id'])
        if lease is None:
            return True
        LOG.info('Running %s of lease %s (due %s, attempt %d)', event['event_type'],
                 lease['id'], event['time'], event['attempts'] + 1)
        error = None
        try:
            for reservation in lease['reservations']:
                plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
                if event['event_type'] == EventType.BEFORE_START:
                    self.reaper.notice(context, lease, plugin, reservation)
                else:
                    plugin.before_end(context, lease, reservation)
        except Exception as exc:  # noqa: BLE001  retried, and the lease says why
            LOG.exception('%s of lease %s failed', event['event_type'], lease['id'])
            error = getattr(exc, 'message', None) or '%s: %s' % (type(exc).__name__, exc)
        self._record_action(context, lease, event, error)
        if error is None:
            rpc.notify(context, 'lease.event.%s' % event['event_type'],
                       self.view(db_api.lease_get(context, lease['id']) or lease))
        return True

    @staticmethod
    def _record_action(context, lease, event, error):
        values = {'attempts': event['attempts'] + 1, 'last_error': error,
                  'claimed_by': None, 'claimed_until': None, 'next_attempt': None,
                  'status': EventStatus.DONE}
        end = lifecycle_mod.events_by_type(lease).get(EventType.END)
        if error is not None:
            if end is not None and end['status'] == EventStatus.UNDONE:
                delay = min(CONF.manager.event_retry_delay * 2 ** event['attempts'],
                            CONF.manager.event_retry_max_delay)
                values.update(status=EventStatus.UNDONE,
                              next_attempt=timeutils.utcnow()
                              + timeutils.datetime.timedelta(seconds=delay))
            else:
                # Too late: the lease ended meanwhile.
                values['status'] = EventStatus.ERROR
        db_api.event_update(context, event['id'], values)

    # --- what the converger runs before a reservation's own steps ------------
    def start_steps(self, context, intent):
        """Before resources are handed over at a start (once): wait for the
        leases that still hold the hosts to give them back, then reclaim the
        preemptible servers in the way."""
        if intent['phase'] != 'active' or intent['observed'].get('started'):
            return []
        lease_id, reservation_id = intent['lease_id'], intent['reservation_id']

        def wait_for_holders(observed):
            holders = db_api.leases_still_holding(context, lease_id)
            if holders:
                raise Wait('waiting for the end of lease %s to give back its hosts'
                           % ', '.join(holders),
                           still=lambda ctx: db_api.leases_still_holding(ctx, lease_id))

        def reclaim(observed):
            lease = db_api.lease_get(context, lease_id)
            reservation = next((r for r in (lease or {}).get('reservations', ())
                                if r['id'] == reservation_id), None)
            if reservation is not None:
                plugin = plugin_loader.get(self.plugins, reservation['resource_type'])
                self.reaper.reclaim(context, lease, plugin, reservation)
            observed['started'] = True
        return [Step('wait-for-holders', 'wait for the previous holders', wait_for_holders),
                Step('reclaim', 'reclaim preemptible servers in the way', reclaim)]


class _Changed(exceptions.NotEnoughResources):
    """The allocation under the lock differs from the one proposed."""


def _holdings(view):
    """What a lease holds, as the policy service judged it."""
    if view is None:
        return None
    return [(r.get('resource_type'), sorted(a['id'] for a in r.get('allocations', ())))
            for r in view.get('reservations', ())]


def _claim_expiry():
    return timeutils.utcnow() + timeutils.datetime.timedelta(
        seconds=CONF.manager.event_claim_timeout)
