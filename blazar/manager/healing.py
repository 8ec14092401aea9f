"""Healing: a reservation keeps what it was promised when a host it holds
fails or goes into maintenance.

A healing pass finds the reservations (pending or active, any resource
type) that hold an unusable host over ``[now, now + healing_interval]``
(every current and future one when the interval is 0), plus those still
flagged ``missing_resources``, and heals each one on its own, atomically:
under the allocation lock, the reservation's plugin moves it off its lost
hosts in the store (``ResourcePlugin.heal``) and its intent is refreshed,
so that the converger makes the cloud follow (replacements handed over,
lost hosts given back); then the flags are set from what the store says
afterwards:

* ``missing_resources``: the reservation still holds a host that is failed,
  or in maintenance during its remaining window;
* the lease's ``degraded``: one of its reservations is missing resources.

Both are cleared as soon as that stops being true (a later pass found a
replacement, or the host recovered), and the notifications
``reservation.degraded`` / ``reservation.healed`` tell the change. A pass
changes nothing when there is nothing to do, so passes may repeat and
overlap (the monitors, the API and the periodic worker all ask for them).
"""
import datetime
import logging

from oslo_config import cfg
from oslo_utils import timeutils

from blazar import context as blazar_context
from blazar import exceptions
from blazar import rpc
from blazar.db import api as db_api
from blazar.manager import status
from blazar.plugins.hosts import health
from blazar.utils import worker

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
HOST_TYPE = 'physical:host'
RETRY_SECONDS = 5.0     # after a pass that raised
ERROR_RETRY_SECONDS = 60.0  # a healing that failed (Nova unavailable...)
HEALABLE = db_api.HEALABLE_STATUSES
_UNSET = object()


def default_horizon(now):
    minutes = CONF[HOST_TYPE].healing_interval
    return now + datetime.timedelta(minutes=minutes) if minutes else None


def affected(rows, since, horizon):
    """Reservations, ``{reservation id: lease id}``, whose allocations
    (``allocations_on_hosts`` rows) hold a host while it is lost: from
    ``since[host]`` on, and before ``horizon`` (None: at any time)."""
    found = {}
    for row in rows:
        lost_from = since.get(row['compute_host_id'])
        if lost_from is None or row['end_date'] <= lost_from:
            continue
        if horizon is not None and (row['start_date'] >= horizon
                                    or lost_from >= horizon):
            continue
        found.setdefault(row['reservation_id'], row['lease_id'])
    return found


class Outcome:
    """What healing one reservation did."""

    def __init__(self, reservation_id, removed=(), added=(),
                 missing=False, was_missing=False, error=False):
        self.reservation_id = reservation_id
        self.error = error
        self.removed = list(removed)
        self.added = list(added)
        self.missing = missing
        self.was_missing = was_missing

    @property
    def event(self):
        """The notification this outcome calls for, or None."""
        if self.error:
            return None
        if self.missing and not self.was_missing:
            return 'reservation.degraded'
        if not self.missing and (self.was_missing or self.removed):
            return 'reservation.healed'
        return None


class Healer:

    def __init__(self, plugins, lifecycle=None, on_change=None):
        self.plugins = plugins
        self.lifecycle = lifecycle
        self.on_change = on_change or (lambda: None)
        # The last whole pass found no lost host, no maintenance and no
        # reservation missing resources: a lease change alone then has
        # nothing to heal (allocation never picks a lost host).
        self.quiet = False

    # --- passes -------------------------------------------------------------
    def heal(self, context, horizon=_UNSET, host_ids=None, now=None):
        """One healing pass; returns the outcomes. ``host_ids``: only the
        reservations holding these hosts (no flagged ones)."""
        now = now or timeutils.utcnow()
        horizon = default_horizon(now) if horizon is _UNSET else horizon
        lost = db_api.lost_hosts(context)
        if any(h['reservable'] and h['maintenance_start'] is not None
               and h['maintenance_start'] <= now for h in lost):
            with db_api.transaction(context):
                db_api.allocation_lock(context)
                db_api.hosts_begin_due_maintenance(context, now)
        since = {h['id']: health.lost_since(h, now) for h in lost}
        if host_ids is not None:
            since = {h: s for h, s in since.items() if h in set(host_ids)}
        targets = affected(db_api.allocations_on_hosts(context, list(since), now),
                           since, horizon)
        if host_ids is None:
            for reservation_id, lease_id in db_api.reservations_missing_resources(
                    context):
                targets.setdefault(reservation_id, lease_id)
            self.quiet = not lost and not targets
        outcomes = []
        for reservation_id, lease_id in targets.items():
            try:
                outcome = self.heal_reservation(context, lease_id, reservation_id)
            except Exception:
                LOG.exception('Healing reservation %s failed and changed nothing; '
                              'a later pass retries', reservation_id)
                outcome = Outcome(reservation_id, error=True)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    # --- one reservation, atomically -----------------------------------------
    def heal_reservation(self, context, lease_id, reservation_id, move=()):
        """Heal one reservation (and move it off the hosts ``move`` too);
        None if it is gone, ended or not pending/active."""
        now = timeutils.utcnow()
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            lease = db_api.lease_get(context, lease_id)
            reservation = next((r for r in (lease or {}).get('reservations', ())
                                if r['id'] == reservation_id), None)
            if (reservation is None or reservation['status'] not in HEALABLE
                    or lease['end_date'] <= now
                    or lease['status'] == status.LeaseStatus.DELETING):
                return None
            held = db_api.reservation_host_ids(context, reservation_id)
            lost = self._lost(context, held, lease, now)
            to_move = list(dict.fromkeys(lost + [h for h in move if h in held]))
            plugin = self.plugins.get(reservation['resource_type'])
            if to_move and plugin is not None:
                plugin.heal(context, lease, reservation, to_move)
                after = db_api.reservation_host_ids(context, reservation_id)
            else:
                after = held
            outcome = Outcome(
                reservation_id,
                removed=[h for h in dict.fromkeys(held) if h not in after],
                added=[h for h in dict.fromkeys(after) if h not in held],
                missing=any(h in after for h in lost),
                was_missing=reservation['missing_resources'])
            if (outcome.removed or outcome.added) and self.lifecycle is not None:
                self.lifecycle.respec(context, lease, reservation)
            self._set_flags(context, lease, reservation, outcome.missing)
        if outcome.removed or outcome.added:
            self.on_change()
        self._tell(context, lease, reservation, outcome)
        return outcome

    @staticmethod
    def _lost(context, held, lease, now):
        """Held hosts unusable at some time of the lease's remaining window."""
        if not held:
            return []
        unusable = set()
        for host in db_api.host_health_list(context, set(held)):
            since = health.lost_since(host, now)
            if since is not None and since < lease['end_date']:
                unusable.add(host['id'])
        return [h for h in dict.fromkeys(held) if h in unusable]

    @staticmethod
    def _set_flags(context, lease, reservation, missing):
        if missing != reservation['missing_resources']:
            db_api.reservation_update(context, reservation['id'],
                                      {'missing_resources': missing})
        degraded = missing or any(r['missing_resources'] for r in lease['reservations']
                                  if r['id'] != reservation['id'])
        if degraded != lease['degraded']:
            db_api.lease_update(context, lease['id'], {'degraded': degraded})

    @staticmethod
    def _tell(context, lease, reservation, outcome):
        if outcome.removed or outcome.event:
            LOG.info('Reservation %s of lease %s: hosts %s replaced by %s; missing '
                     'resources: %s', reservation['id'], lease['id'], outcome.removed,
                     outcome.added, outcome.missing)
        if outcome.event is None:
            return
        rpc.notify(context, outcome.event, {
            'lease_id': lease['id'], 'reservation_id': reservation['id'],
            'resource_type': reservation['resource_type'],
            'status': reservation['status'], 'project_id': lease['project_id'],
            'user_id': lease['user_id'], 'missing_resources': outcome.missing,
            'lease_degraded': outcome.missing or any(
                r['missing_resources'] for r in lease['reservations']
                if r['id'] != reservation['id']),
            'hosts_removed': [str(h) for h in outcome.removed],
            'hosts_added': [str(h) for h in outcome.added]})

    # --- operator control ---------------------------------------------------
    def _hosts(self):
        if HOST_TYPE not in self.plugins:
            raise exceptions.UnsupportedResourceType(resource_type=HOST_TYPE)
        return self.plugins[HOST_TYPE]

    def start_maintenance(self, context, host_ref, values):
        """Maintenance from a time (default now): the host is unreservable
        from then, and every reservation holding it after then is healed at
        once, whatever the healing interval."""
        start, reason = health.check_maintenance(values or {})
        host = self._hosts().set_maintenance(context, host_ref, start, reason)
        self.heal(context, horizon=None, host_ids=[host['id']])
        return self._hosts().get_host(context, host['id'])

    def end_maintenance(self, context, host_ref):
        """End a maintenance: reservations waiting for the host are whole
        again, others may now get it as a replacement."""
        host = self._hosts().clear_maintenance(context, host_ref)
        self.heal(context)
        return self._hosts().get_host(context, host['id'])

    def reallocate(self, context, host_ref, lease_id=None, reservation_id=None):
        """Move the current and future reservations of a host (or those of
        a lease, or one reservation) to other hosts, by the healing rules.
        Returns the host's allocation afterwards: what could not be moved."""
        hosts = self._hosts()
        host = hosts.get_host(context, host_ref)
        rows = db_api.allocations_on_hosts(context, [host['id']], timeutils.utcnow())
        targets = {r['reservation_id']: r['lease_id'] for r in rows
                   if (lease_id is None or r['lease_id'] == lease_id)
                   and (reservation_id is None or r['reservation_id'] == reservation_id)}
        if (lease_id or reservation_id) and not targets:
            raise exceptions.NotFound(
                'Host %s has no current or future allocation of %s'
                % (host['hypervisor_hostname'],
                   'reservation %s' % reservation_id if reservation_id
                   else 'lease %s' % lease_id))
        for res_id, l_id in targets.items():
            self.heal_reservation(context, l_id, res_id, move=[host['id']])
        return hosts.list_allocations(context, host_ids=[host['id']])[0]


class HealingWorker:
    """Runs healing passes in the background: when asked (a host failed or
    recovered, a lease changed), every ``healing_interval`` minutes (hourly
    when it is 0) so that reservations entering the window are healed and
    degraded ones retried, when a maintenance begins, and within a minute
    after a healing failed."""

    def __init__(self, healer):
        self.healer = healer
        self._context = blazar_context.get_admin_context()
        self._worker = worker.Worker('blazar-healing', self._pass,
                                     error_delay=RETRY_SECONDS)

    def start(self):
        self._worker.start()

    def stop(self, timeout=10):
        self._worker.stop(timeout)

    def pause(self, timeout=10):
        self._worker.pause(timeout)

    def resume(self):
        self._worker.resume()

    def request(self):
        """Ask for a pass as soon as possible."""
        self._worker.wake()

    def notice_lease_change(self):
        """A lease changed: flags may need setting or clearing, unless the
        last pass found nothing to heal."""
        if not self.healer.quiet:
            self._worker.wake()

    def _pass(self):
        outcomes = self.healer.heal(self._context)
        timeout = self._seconds_to_next_pass(self._context)
        if any(o.error for o in outcomes):
            timeout = min(timeout, ERROR_RETRY_SECONDS)
        return timeout

    @staticmethod
    def _seconds_to_next_pass(context):
        period = (CONF[HOST_TYPE].healing_interval or 60) * 60.0
        now = timeutils.utcnow()
        start = db_api.next_maintenance_start(context, now)
        if start is not None:
            period = min(period, (start - now).total_seconds() + 0.5)
        return max(period, 0.5)
