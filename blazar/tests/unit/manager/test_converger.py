"""The converger against a real store, with a plugin that has nothing to do:
what its settlement does when a request changes the lease meanwhile."""
import datetime
import threading
import time

import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.manager import converger as converger_module
from blazar.tests.unit.manager.test_events import _checkouts

T0 = datetime.datetime(2030, 1, 1)


class NothingToDo:
    """A plugin whose cloud already matches: an empty plan."""

    def plan(self, phase, spec, observed):
        return []

    def remember(self, context, reservation_id, observed):
        pass


class Settles:
    def settle_in(self, context, lease_id):
        return []

    def run_after(self, context, lease_id, after):
        pass


@pytest.fixture
def ctx(database):
    return blazar_context.get_admin_context()


def test_a_settlement_and_an_update_of_the_same_lease_never_deadlock(ctx):
    # The settlement of a reservation made ready before its start took the
    # intent's row first, then the lease's (to clear its reason); an update
    # takes the allocation lock, the lease's row, then the intent's: each
    # waited for the other and the update answered 500 (PostgreSQL's
    # deadlock detector, MariaDB's).
    db_api.lease_create(ctx, {
        'id': 'l1', 'name': 'l1', 'project_id': 'p1', 'user_id': 'u', 'start_date': T0,
        'end_date': T0 + datetime.timedelta(hours=1), 'status': 'PENDING',
        'status_reason': 'waiting for Nova', 'degraded': False})
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': []})
    converger = converger_module.Converger({'physical:host': NothingToDo()}, Settles(),
                                           owner='m1')
    holding, failures = threading.Event(), []

    def update():
        request = blazar_context.get_admin_context()
        try:
            with db_api.transaction(request):
                db_api.allocation_lock(request)
                db_api.lease_update(request, 'l1', {'name': 'renamed'})
                holding.set()
                time.sleep(0.5)   # the settlement runs meanwhile
                db_api.intent_set(request, 'r1', 'l1', 'physical:host', 'active')
        except Exception as exc:  # noqa: BLE001  the test reports it
            failures.append(exc)
            holding.set()
    thread = threading.Thread(target=update)
    thread.start()
    holding.wait(10)
    outcome = converger.converge(ctx, 'r1')
    thread.join(30)
    assert failures == []
    intent = db_api.intent_get(ctx, 'r1')
    assert (intent['phase'], intent['generation']) == ('active', 2)
    assert intent['claimed_by'] is None
    if outcome == converger_module.Outcome.CONVERGED:
        # SQLite: the converger's claim waited for the update's write lock
        # and found the new intent.
        assert intent['converged_generation'] == 2
    else:
        assert outcome == converger_module.Outcome.CHANGED
        assert intent['due_at'] is not None and intent['converged_generation'] == 0
    assert db_api.lease_get(ctx, 'l1')['name'] == 'renamed'


class TwoSteps:
    """A plan of two steps, each recording what it made."""

    def plan(self, phase, spec, observed):
        from blazar.plugins.steps import Step

        def make(name):
            return Step(name, 'make ' + name, lambda seen: seen.update({name: 'made'}))
        return [make('first'), make('second')]

    def remember(self, context, reservation_id, observed):
        pass


def test_the_last_step_is_recorded_by_the_converged_commit(ctx, monkeypatch):
    """Each step was recorded in a transaction of its own, the last one
    too, right before the transaction that records the convergence."""
    db_api.lease_create(ctx, {
        'id': 'l2', 'name': 'l2', 'project_id': 'p1', 'user_id': 'u', 'start_date': T0,
        'end_date': T0 + datetime.timedelta(hours=1), 'status': 'PENDING',
        'degraded': False})
    db_api.intent_set(ctx, 'r2', 'l2', 'physical:host', 'reserved', {'hosts': []})
    records = []
    real_record = db_api.intent_record
    monkeypatch.setattr(db_api, 'intent_record',
                        lambda *args: records.append(set(args[4])) or real_record(*args))
    converger = converger_module.Converger({'physical:host': TwoSteps()}, Settles(),
                                           owner='m1')
    assert converger.converge(ctx, 'r2') == converger_module.Outcome.CONVERGED
    assert records == [{'first'}]
    intent = db_api.intent_get(ctx, 'r2')
    assert intent['observed'] == {'first': 'made', 'second': 'made'}
    assert intent['converged_generation'] == intent['generation'] == 1


def test_a_look_that_finds_nothing_due_is_one_transaction(sqlite_database, config):
    # Every commit wakes the converger; each look read what was due and
    # when the next intent comes in two transactions.
    config.set_override('event_max_wait', 30, group='manager')
    ctx = blazar_context.get_admin_context()
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': []},
                      not_before=db_api.utcnow() + datetime.timedelta(seconds=10))
    worker = converger_module.ConvergerWorker(converger=None)
    delay, transactions = _checkouts(worker._step)
    assert 8 < delay <= 10
    assert transactions == 1
