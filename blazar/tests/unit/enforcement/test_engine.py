"""Loading and running the enabled filters."""
import datetime
import time

import pytest

from blazar import context as blazar_context
from blazar import deferred
from blazar import exceptions
from blazar.db import api as db_api
from blazar.enforcement import engine
from blazar.enforcement.filters import base
from blazar.manager import leases
from blazar.tests.unit.enforcement.conftest import lease


class Recorder(base.BaseFilter):
    def __init__(self, name, refuse=False, fail_on_end=False):
        self.name, self.refuses, self.fail_on_end, self.seen = name, refuse, fail_on_end, []

    def check_create(self, context, lease):
        self.seen.append(('create', lease['id']))
        if self.refuses:
            self.refuse('recorder', '%s says no' % self.name)

    def check_update(self, context, current_lease, new_lease):
        self.seen.append(('update', current_lease['end_date'], new_lease['end_date']))

    def on_end(self, context, lease):
        self.seen.append(('end', lease['id']))
        if self.fail_on_end:
            raise RuntimeError('service down')


@pytest.fixture
def installed(monkeypatch):
    """Filters 'installed' under names, as stevedore would find them."""
    available = {}

    class FakeDriverManager:
        def __init__(self, namespace, name, invoke_on_load):
            assert namespace == 'blazar.enforcement.filters' and invoke_on_load
            if name not in available:
                raise RuntimeError('No %r driver found' % name)
            self.driver = available[name]
    monkeypatch.setattr(engine.driver, 'DriverManager', FakeDriverManager)
    return available


def test_the_built_in_filters_are_entry_points(config):
    config.set_override('enabled_filters', ['MaxLeaseDurationFilter', 'ProjectLimitsFilter',
                                            'ExternalServiceFilter'], group='enforcement')
    names = [type(f).__name__ for _name, f in engine.Enforcement().filters()]
    assert names == ['MaxLeaseDurationFilter', 'ProjectLimitsFilter',
                     'ExternalServiceFilter']


def test_an_unknown_filter_stops_the_manager(config):
    config.set_override('enabled_filters', ['NoSuchFilter'], group='enforcement')
    with pytest.raises(engine.FilterConfigurationError, match='NoSuchFilter'):
        leases.LeaseService({})


def test_filters_run_in_order_and_the_first_refusal_wins(config, installed):
    installed.update(a=Recorder('a'), b=Recorder('b', refuse=True), c=Recorder('c'))
    config.set_override('enabled_filters', ['a', 'b', 'c'], group='enforcement')
    enforcement = engine.Enforcement()
    assert enforcement.enabled
    with pytest.raises(exceptions.EnforcementRefused, match='b says no'):
        enforcement.check_create(None, lease())
    assert [installed[n].seen for n in 'abc'] == [[('create', 'L')]] * 2 + [[]]
    config.set_override('enabled_filters', ['c', 'a'], group='enforcement')
    enforcement.check_update(None, lease(1, 2), lease(1, 3))
    assert installed['c'].seen[0][0] == 'update'


def test_on_end_is_a_deferred_call_per_filter_retried_until_it_succeeds(
        config, installed, sqlite_database):
    """Recorded with the end's commit, made after it; a failing filter is
    retried (durably: the call is in the store), the others are done."""
    installed.update(a=Recorder('a', fail_on_end=True), b=Recorder('b'))
    config.set_override('enabled_filters', ['a', 'b'], group='enforcement')
    config.set_override('event_retry_delay', 0.01, group='manager')
    enforcement = engine.Enforcement()
    monkey = {'a': installed['a'], 'b': installed['b']}
    engine._shared = enforcement
    ctx = blazar_context.get_admin_context()
    with db_api.transaction(ctx):
        enforcement.record_on_end(ctx, lease())
    assert [installed[n].seen for n in 'ab'] == [[], []]    # not before the commit
    calls = db_api.deferred_calls_due(ctx, db_api.utcnow())
    deferred.run(ctx, [c['id'] for c in calls])
    assert monkey['a'].seen == monkey['b'].seen == [('end', 'L')]
    (left,) = db_api.deferred_calls_due(ctx, db_api.utcnow() + datetime.timedelta(days=1))
    assert left['payload']['filter'] == 'a'
    assert (left['attempts'], left['last_error']) == (1, 'RuntimeError: service down')
    installed['a'].fail_on_end = False
    time.sleep(0.05)        # its backoff ([manager] event_retry_delay)
    deferred.run(ctx, [left['id']])
    assert installed['a'].seen[-1] == ('end', 'L')
    assert db_api.deferred_calls_due(ctx, db_api.utcnow() + datetime.timedelta(days=1)) == []
    engine._shared = None


def test_nothing_enabled(config):
    enforcement = engine.Enforcement()
    assert not enforcement.enabled and enforcement.filters() == []
    assert not enforcement.has_remote
    enforcement.check_create(None, lease())
