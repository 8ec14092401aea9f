"""The event loop runs events on time, each once, ends before starts."""
import datetime
import threading

from oslo_utils import timeutils
import sqlalchemy as sa

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.manager import events


class Recorder:
    """Stands in for the lease service: records what it is asked to apply
    (a start or an end) or run (an action)."""

    def __init__(self):
        self.runs = []
        self.ran = threading.Event()

    def apply_event(self, context, event):
        if not db_api.event_claim(context, event['id']):
            return False
        self.runs.append((event['event_type'], event['lease_id'], timeutils.utcnow()))
        db_api.event_update(context, event['id'], {'status': 'DONE'})
        self.ran.set()
        return True

    run_action = apply_event


def _lease_with_event(ctx, lease_id, event_type, when):
    db_api.lease_create(ctx, {'id': lease_id, 'name': lease_id, 'status': 'PENDING',
                              'start_date': when, 'end_date': when, 'degraded': False})
    return db_api.event_create(ctx, {'lease_id': lease_id, 'event_type': event_type,
                                     'time': when, 'status': 'UNDONE', 'attempts': 0})


def test_due_order_runs_ends_before_starts_at_the_same_moment():
    t = datetime.datetime(2030, 1, 1, 10, 0)
    evs = [{'time': t, 'event_type': 'start_lease'}, {'time': t, 'event_type': 'end_lease'},
           {'time': t, 'event_type': 'before_end_lease'},
           {'time': t - datetime.timedelta(minutes=1), 'event_type': 'start_lease'}]
    ordered = [(e['time'].minute, e['event_type']) for e in sorted(evs, key=events.due_order)]
    assert ordered == [(59, 'start_lease'), (0, 'before_end_lease'), (0, 'end_lease'),
                       (0, 'start_lease')]


def test_an_event_runs_within_two_seconds_of_its_time(sqlite_database, config):
    config.set_override('event_max_wait', 30, group='manager')
    ctx = blazar_context.get_admin_context()
    recorder = Recorder()
    loop = events.EventLoop(recorder)
    loop.start()
    try:
        due = timeutils.utcnow() + datetime.timedelta(seconds=1.5)
        _lease_with_event(ctx, 'l1', 'start_lease', due)
        loop.wake()   # what a lease change does
        assert recorder.ran.wait(10)
        (_, _, ran_at), = recorder.runs
        assert due <= ran_at <= due + datetime.timedelta(seconds=2)
    finally:
        loop.stop()


def test_a_retry_waits_for_its_backoff(sqlite_database):
    ctx = blazar_context.get_admin_context()
    past = timeutils.utcnow() - datetime.timedelta(seconds=5)
    event = _lease_with_event(ctx, 'l1', 'start_lease', past)
    db_api.event_update(ctx, event['id'], {
        'next_attempt': timeutils.utcnow() + datetime.timedelta(minutes=5)})
    recorder = Recorder()
    events.EventLoop(recorder).process_due()
    assert recorder.runs == []
    db_api.event_update(ctx, event['id'], {'next_attempt': past})
    events.EventLoop(recorder).process_due()
    assert [r[0] for r in recorder.runs] == ['start_lease']


def test_two_loops_run_each_event_once(sqlite_database):
    ctx = blazar_context.get_admin_context()
    past = timeutils.utcnow() - datetime.timedelta(seconds=1)
    for index in range(5):
        _lease_with_event(ctx, 'l%d' % index, 'start_lease', past)
    recorder = Recorder()
    loops = [events.EventLoop(recorder) for _ in range(2)]
    threads = [threading.Thread(target=loop.process_due) for loop in loops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(r[1] for r in recorder.runs) == ['l0', 'l1', 'l2', 'l3', 'l4']


def test_an_event_that_cannot_be_applied_stays_due_and_the_loop_goes_on(
        sqlite_database, config):
    """A start that cannot be applied now (the store refusing a moment) is
    tried again shortly, never given up on; the other events still run."""
    config.set_override('event_retry_delay', 0.5, group='manager')
    ctx = blazar_context.get_admin_context()
    past = timeutils.utcnow() - datetime.timedelta(seconds=1)
    bad = _lease_with_event(ctx, 'l1', 'start_lease', past)
    _lease_with_event(ctx, 'l2', 'start_lease', past)
    recorder = Recorder()

    class FailingOnce(Recorder):
        def apply_event(self, context, event):
            if event['lease_id'] == 'l1':
                raise RuntimeError('boom')
            return recorder.apply_event(context, event)

    loop = events.EventLoop(FailingOnce())
    assert loop._step() == 0.5
    assert db_api.event_get(ctx, bad['id'])['status'] == 'UNDONE'
    assert [r[1] for r in recorder.runs] == ['l2']


def _checkouts(run):
    """How many times ``run()`` takes a connection from the pool: one per
    transaction."""
    taken = []
    engine = db_api.get_engine()

    def count(*args):
        taken.append(1)
    sa.event.listen(engine, 'checkout', count)
    try:
        result = run()
    finally:
        sa.event.remove(engine, 'checkout', count)
    return result, len(taken)


def test_a_look_that_finds_nothing_due_is_one_transaction(sqlite_database, config):
    # Every commit wakes the loop; each look read what was due and when the
    # next event comes in two transactions.
    config.set_override('event_max_wait', 30, group='manager')
    ctx = blazar_context.get_admin_context()
    _lease_with_event(ctx, 'l1', 'start_lease',
                      timeutils.utcnow() + datetime.timedelta(seconds=10))
    delay, transactions = _checkouts(events.EventLoop(Recorder())._step)
    assert 8 < delay <= 10
    assert transactions == 1
