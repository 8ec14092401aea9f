"""Deferred calls (the enforcement filters' on-end hooks among them) run on
a pool of ``[manager] deferred_workers`` threads, never more at once; a
stop waits a bounded time for the calls under way, and the manager's
release hands back whatever it still holds."""
import threading
import time

import sqlalchemy as sa

from blazar import context as blazar_context
from blazar import deferred
from blazar.db import api as db_api

KIND = 'test.blocking'


def test_calls_run_on_a_bounded_pool_and_a_stop_is_bounded(config, sqlite_database):
    config.set_override('deferred_workers', 2, group='manager')
    config.set_override('event_max_wait', 0.1, group='manager')
    release = threading.Event()
    lock = threading.Lock()
    running, most = [], [0]

    @deferred.handler(KIND)
    def blocking(context, payload):
        with lock:
            running.append(payload['n'])
            most[0] = max(most[0], len(running))
        release.wait(30)
        with lock:
            running.remove(payload['n'])

    ctx = blazar_context.get_admin_context()
    for n in range(5):
        deferred.add(ctx, KIND, {'n': n})
    worker = deferred.DeferredWorker()
    worker.start()
    try:
        deadline = time.time() + 10
        while len(running) < 2 and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)     # room for a third, were the pool unbounded
        assert most[0] == 2
        started = time.monotonic()
        worker.stop(timeout=0.5)
        took = time.monotonic() - started
        assert took < 2, took      # not waiting for the blocked calls
        # The two calls cut short still hold their claims; the manager's
        # stop hands them back (blazar/manager/service.py release_claims).
        assert _claimed() == 2
        db_api.intents_release_all(ctx, config.host)
        assert _claimed() == 0
        assert len(db_api.deferred_calls_due(ctx, db_api.utcnow())) == 5
    finally:
        release.set()
        worker.stop(timeout=5)


def _claimed():
    with db_api.get_engine().connect() as conn:
        return conn.scalar(sa.text(
            'SELECT COUNT(*) FROM deferred_calls WHERE claimed_by IS NOT NULL'))


def test_a_change_wakes_the_worker_only_if_it_recorded_a_call(config, sqlite_database):
    """Every lease write woke the deferred worker for a look (three queries)
    though only deletions record calls."""
    worker = deferred.DeferredWorker()
    woken = []
    worker._worker.wake = lambda: woken.append(True)
    worker._step()                          # the worker looked: nothing new
    worker.notice_change()
    assert woken == []
    deferred.add(blazar_context.get_admin_context(), 'test.nothing', {})
    worker.notice_change()
    assert woken == [True]
    worker.wake()                           # an explicit wake always counts
    assert woken == [True, True]
