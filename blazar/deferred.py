"""Calls deferred past a commit, that must happen even across a restart.

A change that needs a call outside the store once it is committed (tell
the enforcement filters a lease is over, put an enrolled host in the
freepool) records it in the same transaction (``add``); it is made after
the commit, at once by the caller if it likes (``run``) and otherwise by
the manager's background worker, and retried with backoff until it
succeeds. Handlers are registered by kind (``handler``) by their owners
and must be idempotent: a call may run twice if a manager dies after it.
"""
import logging
import threading
import time

from futurist import ThreadPoolExecutor
from oslo_config import cfg
from oslo_utils import timeutils

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.utils import worker

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
_HANDLERS = {}
# Set when this process records a call: a change that recorded none gives
# the worker nothing to look for (calls of other managers are found by
# their own worker, or by the periodic look).
_recorded = threading.Event()


def handler(kind):
    """Register ``func(context, payload)`` for calls of ``kind``."""
    def register(func):
        _HANDLERS[kind] = func
        return func
    return register


def add(context, kind, payload):
    """Record a call inside the caller's transaction; returns its id."""
    _recorded.set()
    return db_api.deferred_call_add(context, kind, payload)


def _until():
    return timeutils.utcnow() + timeutils.datetime.timedelta(
        seconds=CONF.manager.event_claim_timeout)


def _delay(attempts):
    return min(CONF.manager.event_retry_delay * 2 ** attempts,
               CONF.manager.event_retry_max_delay)


def run_one(context, call, owner=None):
    """Claim and make one call; True if it succeeded."""
    owner = owner or CONF.host
    if not db_api.deferred_call_claim(context, call['id'], owner, _until()):
        return False
    func = _HANDLERS.get(call['kind'])
    try:
        if func is None:
            raise LookupError('no handler for %s calls in this process' % call['kind'])
        func(blazar_context.RequestContext.from_dict(call['payload'].get('context') or {})
             if call['payload'].get('context') else context, call['payload'])
    except Exception as exc:  # noqa: BLE001  retried until it succeeds
        error = getattr(exc, 'message', None) or '%s: %s' % (type(exc).__name__, exc)
        retry_at = timeutils.utcnow() + timeutils.datetime.timedelta(
            seconds=_delay(call['attempts']))
        LOG.warning('Deferred %s call %s failed (attempt %d), retrying at %s: %s',
                    call['kind'], call['id'], call['attempts'] + 1, retry_at, error)
        db_api.deferred_call_failed(context, call['id'], error, retry_at)
        return False
    db_api.deferred_call_done(context, call['id'])
    return True


def run(context, call_ids):
    """Make the given calls now, in this thread (those still due)."""
    for call in db_api.deferred_calls_due(context, timeutils.utcnow(), ids=call_ids):
        run_one(context, call)


class DeferredWorker:
    """Makes due calls on a bounded pool (``[manager] deferred_workers``)."""

    def __init__(self):
        self._context = blazar_context.get_admin_context()
        self._pool = None
        self._busy = set()
        self._lock = threading.Lock()
        self._paused = False
        self._worker = worker.Worker('blazar-deferred', self._step)

    def start(self):
        self._pool = ThreadPoolExecutor(max_workers=CONF.manager.deferred_workers)
        self._worker.start()

    def stop(self, timeout=10):
        self._worker.stop(timeout)
        if self._pool is not None:
            # Work under way finishes, within ``timeout`` (None: unbounded).
            self._pool.shutdown(wait=False)
            deadline = None if timeout is None else time.monotonic() + timeout
            while self._busy and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.02)

    def wake(self):
        self._worker.wake()

    def notice_change(self):
        """A change committed: look for calls if it may have recorded one."""
        if _recorded.is_set():
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
        _recorded.clear()
        for call in db_api.deferred_calls_due(self._context, timeutils.utcnow()):
            with self._lock:
                if call['id'] in self._busy or self._worker.stopping or self._paused:
                    continue
                self._busy.add(call['id'])
            self._pool.submit(self._run, call)
        next_time = db_api.next_deferred_call_due(self._context)
        wait = CONF.manager.event_max_wait
        if next_time is not None:
            wait = min(wait, (next_time - timeutils.utcnow()).total_seconds())
        return max(wait, 0.05)

    def _run(self, call):
        try:
            run_one(blazar_context.get_admin_context(), call)
        finally:
            with self._lock:
                self._busy.discard(call['id'])
            self.wake()
