"""Property-based: the managers' incremental calendar equals a full reload.

Random changes through the manager's own code paths (lease create, update
and delete of host and instance reservations; host enrolment, removal,
extra capability change, maintenance, failure and recovery) interleaved
with questions, on each database. After every step the calendar the
providers keep (caught up by deltas, and by the lease writes under the
allocation lock: blazar/plugins/hosts/calendar.py,
blazar/plugins/instances/availability.py) is compared with what a fresh
provider loads in full, and questions are answered the same by both; and
usage's aggregate (blazar/db/api/usage.py) sums the same as the
allocations.
"""
import datetime

from hypothesis import event
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar import context as blazar_context
from blazar import exceptions
from blazar import plugins as plugin_loader
from blazar.db import api as db_api
from blazar.manager import availability
from blazar.manager import leases
from blazar.manager import monitors
from blazar.plugins.hosts import calendar as host_calendar
from blazar.plugins.hosts import health
from blazar.plugins.hosts import inventory
from blazar.simulator import state as sim_state
from blazar.simulator import testing as sim_testing
from blazar.tests import conftest as root_conftest
from blazar.tests.functional.test_availability import base_time
from blazar.tests.functional.test_availability import fmt

SLOT = datetime.timedelta(minutes=30)
MINUTE = datetime.timedelta(minutes=1)
HYPERVISORS = 6
RACKS = ['0', '1', None]
QUERIES = ['', '["==", "$rack", "1"]', '["!=", "$rack", "1"]']
SHAPE = {'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 10}
PLUGINS = ['physical.host.plugin', 'virtual.instance.plugin']


@pytest.fixture
def cloud(config, database):
    with sim_testing.simulated_nova(sim_state.Cloud(hosts=HYPERVISORS, vcpus=8)) as server:
        yield server


slots = st.integers(0, 48)
steps = st.one_of(
    st.tuples(st.just('create'), slots, st.integers(1, 12), st.integers(1, 3),
              st.sampled_from(QUERIES)),
    st.tuples(st.just('instances'), slots, st.integers(1, 12), st.integers(1, 6)),
    st.tuples(st.just('update'), st.integers(0, 20), st.integers(-6, 6),
              st.integers(1, 12)),
    st.tuples(st.just('delete'), st.integers(0, 20)),
    st.tuples(st.just('enrol'), st.integers(0, HYPERVISORS - 1),
              st.sampled_from(RACKS)),
    st.tuples(st.just('remove'), st.integers(0, HYPERVISORS - 1)),
    st.tuples(st.just('rack'), st.integers(0, HYPERVISORS - 1), st.sampled_from(RACKS)),
    st.tuples(st.just('maintenance'), st.integers(0, HYPERVISORS - 1), slots),
    st.tuples(st.just('clear'), st.integers(0, HYPERVISORS - 1)),
    st.tuples(st.just('fail'), st.integers(0, HYPERVISORS - 1), st.booleans()),
    st.tuples(st.just('ask'), slots, st.integers(1, 12), st.integers(1, 3),
              st.sampled_from(QUERIES)),
)

REFUSED = (exceptions.BlazarException,)


class Run:
    """One example: the changes, made through the manager's code."""

    def __init__(self, t0):
        self.t0 = t0
        self.ctx = blazar_context.get_admin_context()
        plugins = plugin_loader.load(PLUGINS)
        self.leases = leases.LeaseService(plugins)
        self.answers = availability.AvailabilityService(plugins)
        self.plugins = plugins
        self.lease_ids = []
        self.hostnames = [h['hypervisor_hostname']
                          for h in inventory.nova.get_client().list_hypervisors()]
        self.health = monitors.HostHealth()

    def at(self, slot):
        return self.t0 + slot * SLOT

    def _host(self, index):
        return db_api.host_get_by_hostname(self.ctx, self.hostnames[index])

    def apply(self, step):
        kind = step[0]
        if kind == 'ask':
            event(kind)
            return step[1:]
        try:
            getattr(self, 'do_' + kind)(*step[1:])
            event(kind + ': done')
        except REFUSED:
            event(kind + ': refused')
        return None

    def do_create(self, start, length, count, query):
        lease = self.leases.create(self.ctx, {
            'name': 'l', 'start_date': fmt(self.at(start)),
            'end_date': fmt(self.at(start + length)),
            'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': count,
                              'hypervisor_properties': '',
                              'resource_properties': query}]})
        self.lease_ids.append(lease['id'])

    def do_instances(self, start, length, amount):
        lease = self.leases.create(self.ctx, {
            'name': 'i', 'start_date': fmt(self.at(start)),
            'end_date': fmt(self.at(start + length)),
            'reservations': [dict(SHAPE, resource_type='virtual:instance',
                                  amount=amount, affinity=None,
                                  resource_properties='')]})
        self.lease_ids.append(lease['id'])

    def do_update(self, which, shift, length):
        if not self.lease_ids:
            return
        lease_id = self.lease_ids[which % len(self.lease_ids)]
        lease = self.leases.get(self.ctx, lease_id)
        start = max(lease['start_date'] + shift * SLOT, self.t0)
        self.leases.update(self.ctx, lease_id, {
            'start_date': fmt(start), 'end_date': fmt(start + length * SLOT)})

    def do_delete(self, which):
        if not self.lease_ids:
            return
        lease_id = self.lease_ids.pop(which % len(self.lease_ids))
        self.leases.delete(self.ctx, lease_id)

    def do_enrol(self, index, rack):
        values = {'name': self.hostnames[index]}
        if rack is not None:
            values['rack'] = rack
        inventory.create_host(self.ctx, values)

    def do_remove(self, index):
        host = self._host(index)
        if host is not None:
            inventory.delete_host(self.ctx, host['id'])

    def do_rack(self, index, rack):
        host = self._host(index)
        if host is not None:
            inventory.update_host(self.ctx, host['id'], {'rack': rack})

    def do_maintenance(self, index, start):
        host = self._host(index)
        if host is not None:
            health.set_maintenance(self.ctx, host['id'], self.at(start), 'drill')

    def do_clear(self, index):
        host = self._host(index)
        if host is not None:
            health.clear_maintenance(self.ctx, host['id'])

    def do_fail(self, index, failed):
        host = self._host(index)
        if host is not None:
            self.health.report(self.ctx, {
                host['service_name']: 'nova-compute is down' if failed else None})

    # --- the comparison ----------------------------------------------------
    def questions(self, service, asked=None):
        props = {'resource_properties': RACK_QUERY}
        window = (fmt(self.at(4)), fmt(self.at(10)))
        if asked is not None:
            start, length, count, query = asked
            props = {'resource_properties': query}
            window = (fmt(self.at(start)), fmt(self.at(start + length)))
        return {
            'how_many': service.how_many(self.ctx, 'physical:host', *window),
            'how_many_rack': service.how_many(self.ctx, 'physical:host', *window,
                                              params=props),
            'how_long': service.how_long(self.ctx, 'physical:host', window[0], 2),
            'offerings': service.offerings(self.ctx, 'physical:host', 2, '2h',
                                           window[0], fmt(self.at(60)), 3),
            'calendar': service.calendar(self.ctx, 'physical:host', window[0],
                                         fmt(self.at(60)), params=props, detail=True),
            'instances': service.how_many(self.ctx, 'virtual:instance', *window,
                                          params=SHAPE),
            'instance_offerings': service.offerings(
                self.ctx, 'virtual:instance', 3, '2h', window[0], fmt(self.at(60)),
                3, params=SHAPE),
        }

    def check(self, asked=None):
        kept = self.answers.provider('physical:host')
        # Fresh plugins: a calendar of their own, loaded in full.
        full = availability.AvailabilityService(plugin_loader.load(PLUGINS))
        fresh = full.provider('physical:host')
        ours, theirs = kept.snapshot(self.ctx), fresh.snapshot(self.ctx)
        assert ours.generation <= theirs.generation
        since = theirs.loaded_at - theirs.margin
        assert ours.candidates == theirs.candidates
        assert _normal(ours.busy, since) == _normal(theirs.busy, since)
        # The instance calendar of one shape, through the same questions.
        assert self.questions(self.answers, asked) == self.questions(full, asked)
        inst = self.answers.provider('virtual:instance')
        request = inst._request(self.ctx, SHAPE)
        ours_i = inst.load(self.ctx, request)
        theirs_i = full.provider('virtual:instance').load(self.ctx, request)
        since = theirs_i.loaded_at - theirs_i.margin
        assert ours_i.candidates == theirs_i.candidates
        assert (_normal(ours_i.busy, since, key=_holding)
                == _normal(theirs_i.busy, since, key=_holding))
        # Usage's aggregate is the allocations' sum, edges to the minute.
        for start, end in ((self.at(-2), self.at(70)), (self.at(3) + MINUTE, self.at(9)),
                           (self.at(0), self.at(1) - MINUTE)):
            assert (db_api.usage_totals(self.ctx, start, end)
                    == db_api.usage_totals_scan(self.ctx, start, end))
        return kept, inst


RACK_QUERY = '["==", "$rack", "1"]'


def _holding(entry):
    start, end, per_instance, slots_ = entry
    return (start, end, sorted((per_instance or {}).items()), slots_)


def _normal(by_host, since, key=tuple):
    """Entries ending after ``since`` (what a load at that time keeps), in
    one order."""
    normal = {}
    for host_id, entries in by_host.items():
        kept = sorted(key(e) for e in entries if e[1] > since)
        if kept:
            normal[host_id] = kept
    return normal


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(changes=st.lists(steps, min_size=1, max_size=16),
       enrolled=st.integers(1, HYPERVISORS), cleaning=st.sampled_from([0, 30]),
       trim=st.booleans())
def test_the_kept_calendar_is_a_full_reload(cloud, config, changes, enrolled, cleaning,
                                            trim):
    root_conftest._empty_tables()
    config.set_override('cleaning_time', cleaning)
    run = Run(base_time())
    for index in range(enrolled):
        run.do_enrol(index, RACKS[index % len(RACKS)])
    trim_after = host_calendar.TRIM_AFTER
    if trim:    # every delta also drops what ended and moves the load time
        host_calendar.TRIM_AFTER = datetime.timedelta(0)
    try:
        kept, inst = run.check()
        loads = (kept.loads, inst.loads)
        for step in changes:
            kept, inst = run.check(run.apply(step))
        # Caught up by deltas, never reloaded (the log is not pruned here).
        assert (kept.loads, inst.loads) == loads
    finally:
        host_calendar.TRIM_AFTER = trim_after
