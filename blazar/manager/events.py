"""The event loop: lease events when they fall due.

It sleeps until the next due event (or ``[manager] event_max_wait`` at
most) and is woken at once when a lease changes, so events run within
moments of their time instead of on a fixed tick. A start or an end is
applied to the lease's intents in one short transaction (the converger
then makes the cloud follow); a before-start notice or a before-end action
runs on an expiring claim.
"""
import logging

from oslo_config import cfg
from oslo_utils import timeutils

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.manager import status
from blazar.utils import worker

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
# Passes start at least this long apart when commits wake the loop: a busy
# manager makes one pass for the writes of that time, well within the
# promise that events run at most 2 s late.
COALESCE = 0.2
# Events applied to intents; the others are actions run on a claim.
APPLIED = (status.EventType.START, status.EventType.END)


def due_order(event):
    return (event['time'], status.EventType.ORDER.get(event['event_type'], 9))


class EventLoop:

    def __init__(self, leases):
        self.leases = leases
        self._failed = False
        self._worker = worker.Worker('blazar-events', self._step, coalesce=COALESCE)

    def start(self):
        self._worker.start()

    def stop(self, timeout=10):
        self._worker.stop(timeout)

    def wake(self):
        self._worker.wake()

    def pause(self, timeout=10):
        self._worker.pause(timeout)

    def resume(self):
        self._worker.resume()

    def _step(self):
        self._failed = False
        context = blazar_context.get_admin_context()
        with db_api.reading(context):
            due = db_api.events_due(context, timeutils.utcnow())
            if not due:
                # Most wakes (a commit far from any event): when to look
                # next is read in the same transaction.
                return self._seconds_to_next_event(context)
        self._run(context, due)
        if self._failed:
            # The store or the lock may be unavailable a moment.
            return CONF.manager.event_retry_delay
        return self._seconds_to_next_event(context)

    def process_due(self):
        context = blazar_context.get_admin_context()
        self._run(context, db_api.events_due(context, timeutils.utcnow()))

    def _run(self, context, due):
        for event in sorted(due, key=due_order):
            if self._worker.stopping:
                return
            try:
                if event['event_type'] in APPLIED:
                    self.leases.apply_event(context, event)
                else:
                    self.leases.run_action(context, event)
            except Exception:  # noqa: BLE001  the event stays due: tried again
                LOG.exception('Event %s (%s of lease %s) could not run; trying again '
                              'shortly', event['id'], event['event_type'],
                              event['lease_id'])
                self._failed = True

    @staticmethod
    def _seconds_to_next_event(context):
        next_time = db_api.next_event_time(context)
        max_wait = CONF.manager.event_max_wait
        if next_time is None:
            return max_wait
        delay = (next_time - timeutils.utcnow()).total_seconds()
        return min(max(delay, 0.05), max_wait)
