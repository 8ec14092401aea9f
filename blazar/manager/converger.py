"""The converger: makes the cloud hold what the store's intents say.

Requests and lease events only write intents (blazar/db/api/intents.py),
in their short transaction. Here, outside any lock, each due intent is
claimed (an expiring claim, so several managers share the work and a dead
one's work is taken over), its plugin plans the steps from wherever the
cloud is to the intent's phase (``plan(phase, spec, observed)``), and the
steps run in order. Each step looks before it acts, so it can be repeated;
each one done is recorded, so a retry resumes where the last run stopped
(the last one in the transaction that records the convergence).

A failure is recorded (attempts, last error, the lease's reason and a
notification) and retried after a backoff capped at ``[manager]
event_retry_max_delay``, with no cap on the number of attempts while the
intent stands: a failing Nova delays convergence, never ends it. A step
that must wait for another reservation (a host its previous holder has not
given back yet) raises :class:`Wait`; that is not a failure.

When an intent converges the lease is settled (its status, events and
notifications follow, blazar/manager/lifecycle.py). Changing an intent
while its steps run is safe: the generation moved, so it is not marked
converged, and it runs again with a new plan.
"""
import logging
import threading
import time

from futurist import ThreadPoolExecutor
from oslo_config import cfg
from oslo_utils import timeutils

from blazar import context as blazar_context
from blazar import exceptions
from blazar.db import api as db_api
from blazar.plugins.steps import Restart
from blazar.plugins.steps import Wait
from blazar.utils import worker

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
# Looks for due intents start at least this long apart when commits wake
# the converger: under a stream of writes one look takes them all.
COALESCE = 0.1


class Outcome:
    CONVERGED = 'converged'
    FAILED = 'failed'
    WAITING = 'waiting'
    CHANGED = 'changed'
    TAKEN = 'taken'


def _claim_until():
    return timeutils.utcnow() + timeutils.datetime.timedelta(
        seconds=CONF.manager.event_claim_timeout)


def retry_delay(attempts):
    """Seconds before the next try after ``attempts`` failures in a row."""
    return min(CONF.manager.event_retry_delay * 2 ** max(attempts - 1, 0),
               CONF.manager.event_retry_max_delay)


def error_text(exc):
    return getattr(exc, 'message', None) or '%s: %s' % (type(exc).__name__, exc)


class Converger:
    """Runs one intent's plan. ``lifecycle`` settles leases and reports
    failures (blazar/manager/lifecycle.py); ``pre_steps(context, intent)``
    gives the steps that come before the plugin's own (a start waiting for
    the previous holders, then reclaiming preemptible servers)."""

    MAX_REPLANS = 5

    def __init__(self, plugins, lifecycle, pre_steps=None, owner=None):
        self.plugins = plugins
        self.lifecycle = lifecycle
        self.pre_steps = pre_steps or (lambda context, intent: [])
        self.owner = owner or CONF.host

    def converge(self, context, reservation_id):
        """Claim the intent and run its plan; returns an :class:`Outcome`."""
        claimed = db_api.intent_claim(context, reservation_id, self.owner,
                                      _claim_until())
        if claimed is None:
            return Outcome.TAKEN
        intent = None
        try:
            for replan in range(self.MAX_REPLANS):
                intent = claimed if replan == 0 else db_api.intent_get(
                    context, reservation_id)
                if intent is None:
                    return Outcome.CHANGED
                outcome = self._run_plan(context, intent)
                if outcome != Outcome.CHANGED:
                    break
            else:
                db_api.intent_release(context, reservation_id, self.owner)
                return Outcome.CHANGED
        except Wait as exc:
            return self._wait(context, intent, exc)
        except Exception as exc:  # noqa: BLE001  every failure is retried
            return self._failed(context, intent or {'reservation_id': reservation_id},
                                exc)
        return outcome

    def _run_plan(self, context, intent):
        plugin = self.plugins.get(intent['resource_type'])
        if plugin is None:
            raise exceptions.UnsupportedResourceType(resource_type=intent['resource_type'])
        observed = dict(intent['observed'])
        done = set(intent['progress'])
        steps = (self.pre_steps(context, dict(intent, observed=observed))
                 + plugin.plan(intent['phase'], intent['spec'], observed))
        last = steps[-1].key if steps else None
        for step in steps:
            if step.key in done:
                continue
            try:
                step.run(observed)
            except Restart:
                db_api.intent_record(context, intent['reservation_id'], self.owner,
                                     intent['generation'], done, observed,
                                     _claim_until())
                return Outcome.CHANGED
            except Exception:
                # What the step found before failing is a fact all the same.
                db_api.intent_record(context, intent['reservation_id'], self.owner,
                                     intent['generation'], done, observed,
                                     _claim_until())
                raise
            done.add(step.key)
            # The last step's record is the converged commit's, below.
            if step.key != last and not db_api.intent_record(
                    context, intent['reservation_id'], self.owner, intent['generation'],
                    done, observed, _claim_until()):
                return Outcome.CHANGED
            LOG.debug('Reservation %s (%s): %s done', intent['reservation_id'],
                      intent['phase'], step.what)
        # Converged, remembered and settled in one transaction: nobody sees
        # the intent settled and the lease not. The allocation lock comes
        # first even for a reservation made ready before its start (which
        # changes no status): requests take it, then the lease's rows, then
        # its intents, and taking the intent first here would deadlock
        # against an update of the same lease.
        settles = intent['phase'] != 'reserved'
        after = []
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            if not db_api.intent_converged(context, intent['reservation_id'], self.owner,
                                           intent['generation'], observed):
                return Outcome.CHANGED
            plugin.remember(context, intent['reservation_id'], observed)
            if settles:
                after = self.lifecycle.settle_in(context, intent['lease_id'])
            else:
                db_api.lease_clear_reason(context, intent['lease_id'], 'PENDING')
        LOG.info('Reservation %s of lease %s is %s in the cloud',
                 intent['reservation_id'], intent['lease_id'], intent['phase'])
        self.lifecycle.run_after(context, intent['lease_id'], after)
        return Outcome.CONVERGED

    def _wait(self, context, intent, exc):
        """Record the wait, unless the holder let go meanwhile: under the
        lock, as a holder's settlement wakes the waiting intents under it."""
        now = timeutils.utcnow()
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            if exc.still is not None and not exc.still(context):
                db_api.intent_waits(context, intent['reservation_id'], self.owner,
                                    None, now)
                return Outcome.CHANGED
            db_api.intent_waits(context, intent['reservation_id'], self.owner, exc.reason,
                                now + timeutils.datetime.timedelta(
                                    seconds=CONF.manager.event_retry_max_delay))
        self.lifecycle.waiting(context, intent, exc.reason)
        return Outcome.WAITING

    def _failed(self, context, intent, exc):
        error = error_text(exc)
        rid = intent['reservation_id']
        pending = intent.get('attempts', 0) + 1
        retry_at = timeutils.utcnow() + timeutils.datetime.timedelta(
            seconds=retry_delay(pending))
        attempts = db_api.intent_failed(context, rid, self.owner, error, retry_at)
        if attempts is None:
            return Outcome.TAKEN
        log = LOG.warning if isinstance(exc, exceptions.BlazarException) else LOG.exception
        log('Reservation %s: making the cloud %s failed (attempt %d), retrying at %s: %s',
            rid, intent.get('phase'), attempts, retry_at, error)
        if intent.get('lease_id'):
            self.lifecycle.failed(context, dict(intent, attempts=attempts), error,
                                  retry_at)
        return Outcome.FAILED


class ConvergerWorker:
    """Looks for due intents and converges them on a bounded pool of
    threads (``[manager] converge_workers``); woken by every commit that
    changes an intent, and otherwise sleeping until the next one is due.
    Also the periodic work that keeps the cloud in line: a resync of
    settled intents (``[manager] reconcile_interval``), the adoption of
    reservations made before intents existed, and orphan collection."""

    def __init__(self, converger, periodic=()):
        self.converger = converger
        self.periodic = list(periodic)
        self._context = blazar_context.get_admin_context()
        self._pool = None
        self._busy = set()
        self._lock = threading.Lock()
        self._paused = False
        self._worker = worker.Worker('blazar-converger', self._step, coalesce=COALESCE)

    def start(self):
        self._pool = ThreadPoolExecutor(max_workers=CONF.manager.converge_workers)
        self._worker.start()

    def stop(self, timeout=10):
        self._worker.stop(timeout)
        if self._pool is not None:
            # Work under way finishes, within ``timeout`` (None: unbounded).
            self._pool.shutdown(wait=False)
            deadline = None if timeout is None else time.monotonic() + timeout
            while self._busy and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.02)
        try:
            db_api.intents_release_all(self._context, self.converger.owner)
        except Exception:  # noqa: BLE001  the store may be gone at exit
            LOG.warning('Could not release the claims of %s', self.converger.owner)

    def wake(self):
        self._worker.wake()

    def pause(self, timeout=10):
        """Take no new work and wait (bounded) for the work under way: the
        store may then be switched (tests) without a transaction astride."""
        self._paused = True
        deadline = timeutils.utcnow() + timeutils.datetime.timedelta(seconds=timeout)
        while self._busy and timeutils.utcnow() < deadline:
            threading.Event().wait(0.02)

    def resume(self):
        self._paused = False
        self.wake()

    def _step(self):
        if self._paused:
            return CONF.manager.event_max_wait
        for task in self.periodic:
            task.maybe_run(self._context)
        now = timeutils.utcnow()
        with db_api.reading(self._context):
            due = db_api.intents_due(self._context, now)
            if not due:
                # Most wakes (a commit that left nothing due now): when to
                # look next is read in the same transaction.
                return self._seconds_to_next()
        for reservation_id in due:
            with self._lock:
                if reservation_id in self._busy or self._worker.stopping or \
                        self._paused:
                    continue
                self._busy.add(reservation_id)
            self._pool.submit(self._converge, reservation_id)
        return self._seconds_to_next()

    def _converge(self, reservation_id):
        try:
            self.converger.converge(blazar_context.get_admin_context(), reservation_id)
        except Exception:  # noqa: BLE001  logged; the intent stays due
            LOG.exception('Converging reservation %s failed', reservation_id)
        finally:
            with self._lock:
                self._busy.discard(reservation_id)
            # Whatever happened, when to look next has changed.
            self.wake()

    def _seconds_to_next(self):
        delays = [CONF.manager.event_max_wait]
        next_time = db_api.next_intent_due(self._context)
        if next_time is not None:
            delays.append((next_time - timeutils.utcnow()).total_seconds())
        delays += [task.seconds_to_next() for task in self.periodic]
        return min(max(min(delays), 0.05), CONF.manager.event_max_wait)


class Periodic:
    """A task of the converger's loop run every ``interval()`` seconds
    (0: never)."""

    def __init__(self, name, interval, run, first_delay=0.0):
        self.name = name
        self.interval = interval
        self.run = run
        self._next = timeutils.utcnow() + timeutils.datetime.timedelta(
            seconds=first_delay)

    def seconds_to_next(self):
        if not self.interval():
            return float('inf')
        return (self._next - timeutils.utcnow()).total_seconds()

    def maybe_run(self, context):
        interval = self.interval()
        now = timeutils.utcnow()
        if not interval or now < self._next:
            return
        self._next = now + timeutils.datetime.timedelta(seconds=interval)
        try:
            self.run(context)
        except Exception:  # noqa: BLE001  the next period tries again
            LOG.exception('%s failed; trying again in %ss', self.name, interval)
