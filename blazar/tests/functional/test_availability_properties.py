"""Property-based agreement between the availability answers and lease
creation, through the manager's own code (no HTTP, no RPC), on each
database: on random calendars, every offering is accepted by a create (on a
fresh copy of the calendar), nothing earlier is, "how many" is the largest
count a create accepts and "how long" the latest end."""
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
from blazar.tests import conftest as root_conftest
from blazar.tests.functional.test_availability import base_time
from blazar.tests.functional.test_availability import direct_calendar
from blazar.tests.functional.test_availability import fmt

MINUTE = datetime.timedelta(minutes=1)
SLOT = 15 * MINUTE
FRAME_SLOTS = 4 * 24            # the calendar spans a day of 15-minute slots
QUERIES = ['', '', '["==", "$rack", "1"]', '["!=", "$rack", "1"]']


@st.composite
def calendars(draw):
    hosts = draw(st.lists(st.sampled_from([{}, {'rack': '0'}, {'rack': '1'}]),
                          min_size=1, max_size=7))
    leases_ = []
    for _ in range(draw(st.integers(0, 10))):
        start = draw(st.integers(0, FRAME_SLOTS))
        length = draw(st.integers(1, 24))
        wanted = draw(st.sets(st.integers(0, len(hosts) - 1), min_size=1))
        # Only hosts free over the lease (a raw calendar may not double book).
        taken = {i for s, e, idx in leases_ if s < start + length and start < e
                 for i in idx}
        idx = sorted(wanted - taken)
        if idx:
            leases_.append((start, start + length, idx))
    return hosts, leases_


@pytest.fixture
def services(database, simulator):
    plugins = plugin_loader.load(['physical.host.plugin'])
    return (leases.LeaseService(plugins),
            availability.AvailabilityService(plugins))


def _reset(config, cleaning, t0, calendar):
    root_conftest._empty_tables()
    config.set_override('cleaning_time', cleaning)
    hosts, raw = calendar
    direct_calendar(hosts, [(t0 + s * SLOT, t0 + e * SLOT, idx) for s, e, idx in raw])


def _accepted(lease_service, ctx, start, end, count, query):
    """Would a create take it? (The calendar is left as it was.)"""
    try:
        lease = lease_service.create(ctx, {
            'name': 'probe', 'start_date': fmt(start), 'end_date': fmt(end),
            'reservations': [{'resource_type': 'physical:host', 'min': count,
                              'max': count, 'hypervisor_properties': '',
                              'resource_properties': query}]})
    except exceptions.NotEnoughHostsAvailable:
        return False
    admin = blazar_context.get_admin_context()
    with db_api.transaction(admin):
        db_api.allocation_lock(admin)
        db_api.lease_destroy(admin, lease['id'])
    return True


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(calendar=calendars(), cleaning=st.sampled_from([0, 15, 60]),
       query=st.sampled_from(QUERIES), count=st.integers(1, 3),
       duration=st.integers(1, 24), limit=st.integers(1, 4))
def test_offerings_are_accepted_and_earliest(services, config, calendar, cleaning,
                                             query, count, duration, limit):
    lease_service, answers = services
    t0 = base_time()
    _reset(config, cleaning, t0, calendar)
    ctx = blazar_context.RequestContext(user_id='alice', project_id='proj1',
                                        roles=['member'])
    length = duration * SLOT
    frame = (t0, t0 + (FRAME_SLOTS + 24) * SLOT)
    found = answers.offerings(ctx, 'physical:host', count, int(length / MINUTE),
                              fmt(frame[0]), fmt(frame[1]), limit,
                              {'resource_properties': query})
    assert len(found) <= limit
    event('offerings: %d' % len(found))
    previous_end = None
    for offering in found:
        start, end = offering['start_date'], offering['end_date']
        assert frame[0] <= start and end <= frame[1] and end - start == length
        assert previous_end is None or start >= previous_end
        previous_end = end
        body = offering['lease']
        assert body['reservations'][0]['resource_properties'] == query
        assert _accepted(lease_service, ctx, start, end, count, query), offering
    if found and found[0]['start_date'] > frame[0]:
        start = found[0]['start_date'] - MINUTE
        assert not _accepted(lease_service, ctx, start, start + length, count, query)
    if not found:
        # Nothing fits anywhere: not even at the frame's ends.
        assert not _accepted(lease_service, ctx, frame[0], frame[0] + length,
                             count, query)
        assert not _accepted(lease_service, ctx, frame[1] - length, frame[1],
                             count, query)


@SETTINGS
@given(calendar=calendars(), cleaning=st.sampled_from([0, 15, 60]),
       query=st.sampled_from(QUERIES), start=st.integers(0, FRAME_SLOTS),
       length=st.integers(1, 24), count=st.integers(1, 3))
def test_how_many_and_how_long_are_the_limits_of_create(
        services, config, calendar, cleaning, query, start, length, count):
    lease_service, answers = services
    t0 = base_time()
    _reset(config, cleaning, t0, calendar)
    ctx = blazar_context.RequestContext(user_id='alice', project_id='proj1',
                                        roles=['member'])
    props = {'resource_properties': query}
    begin, end = t0 + start * SLOT, t0 + (start + length) * SLOT
    most = answers.how_many(ctx, 'physical:host', fmt(begin), fmt(end), props)['max']
    event('how many: %s' % ('0' if not most else '>0'))
    assert not _accepted(lease_service, ctx, begin, end, most + 1, query)
    if most:
        assert _accepted(lease_service, ctx, begin, end, most, query)

    run = answers.how_long(ctx, 'physical:host', fmt(begin), count, props)
    event('how long: %s' % ('unbounded' if run['end_date'] is None else
                            'bounded' if run['duration'] else 'none'))
    if run['end_date'] is None:
        assert _accepted(lease_service, ctx, begin,
                         begin + datetime.timedelta(days=3650), count, query)
    elif run['duration']:
        latest = run['end_date']
        assert _accepted(lease_service, ctx, begin, latest, count, query)
        assert not _accepted(lease_service, ctx, begin, latest + MINUTE, count, query)
    else:
        assert not _accepted(lease_service, ctx, begin, begin + MINUTE, count, query)
