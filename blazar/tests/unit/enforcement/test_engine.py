"""Loading and running the enabled filters."""
import logging

import pytest

from blazar import exceptions
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


def test_on_end_runs_in_the_background_and_swallows_errors(config, installed, caplog):
    installed.update(a=Recorder('a', fail_on_end=True), b=Recorder('b'))
    config.set_override('enabled_filters', ['a', 'b'], group='enforcement')
    enforcement = engine.Enforcement()
    with caplog.at_level(logging.ERROR):
        enforcement.on_end(None, lease())
        enforcement.wait_for_on_end(5)
    assert installed['a'].seen == installed['b'].seen == [('end', 'L')]
    assert 'Enforcement filter a failed at the end of lease L' in caplog.text


def test_nothing_enabled(config):
    enforcement = engine.Enforcement()
    assert not enforcement.enabled and enforcement.filters() == []
    enforcement.on_end(None, lease())
    enforcement.check_create(None, lease())
