"""The manager's availability service for instance shapes on the store: a
constant number of SQL statements, the per-shape cached calendar, and
dates at the edge of the calendar."""
import datetime

import pytest

from blazar import context as blazar_context
from blazar import plugins as plugin_loader
from blazar.db import api as db_api
from blazar.manager import availability
from blazar.tests.unit.manager.test_availability import statements

HOUR = datetime.timedelta(hours=1)
T0 = (datetime.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
      + datetime.timedelta(days=2))
# Two of these fit on a host of add_hosts (8 vCPUs, 4096 MiB).
SHAPE = {'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 10}
VIRTUAL = 'virtual:instance'


def fmt(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


def admin():
    return blazar_context.get_admin_context()


def add_hosts(count, offset=0):
    ctx = admin()
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        return [db_api.host_create(ctx, {
            'hypervisor_hostname': 'h%d' % (offset + i),
            'service_name': 'h%d' % (offset + i),
            'vcpus': 8, 'memory_mb': 4096, 'local_gb': 50},
            {'rack': str(i % 2)}, 'physical:host')['id'] for i in range(count)]


def add_slots(project, slots, start, end):
    """An instance reservation of SHAPE holding ``slots`` ({host: n})."""
    ctx = admin()
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        lease = db_api.lease_create(ctx, {
            'name': 'l', 'user_id': 'u', 'project_id': project, 'start_date': start,
            'end_date': end, 'status': 'PENDING'})
        res = db_api.reservation_create(ctx, {
            'lease_id': lease['id'], 'status': 'pending', 'resource_type': VIRTUAL})
        db_api.instance_reservation_create(ctx, dict(
            SHAPE, reservation_id=res['id'], amount=sum(slots.values())))
        db_api.reservation_slots_set(ctx, res['id'], slots, start, end)
    return lease['id']


@pytest.fixture
def service(database):
    return availability.AvailabilityService(plugin_loader.load(
        ['physical.host.plugin', 'virtual.instance.plugin']))


def _ask_everything(service, ctx):
    window = {'start_date': fmt(T0), 'end_date': fmt(T0 + 3 * HOUR)}
    params = dict(SHAPE, resource_properties='["==", "$rack", "1"]')
    counts = {}
    for name, ask in (
            ('how_many', lambda: service.how_many(ctx, VIRTUAL, params=params,
                                                  **window)),
            ('how_long', lambda: service.how_long(ctx, VIRTUAL, window['start_date'],
                                                  1, params)),
            ('offerings', lambda: service.offerings(ctx, VIRTUAL, 1, '2h',
                                                    window['start_date'], None, 5,
                                                    params)),
            ('calendar', lambda: service.calendar(ctx, VIRTUAL, params=params,
                                                  detail=True, **window)),
            ('tenant_calendar', lambda: service.calendar(ctx, VIRTUAL, params=params,
                                                         **window)),
            ('past_calendar', lambda: service.calendar(ctx, VIRTUAL,
                                                       '2020-01-01 00:00',
                                                       params=params))):
        service.provider(VIRTUAL).forget()
        with statements() as cold:
            ask()
        with statements() as warm:
            ask()
        counts[name] = (len(cold), len(warm))
    return counts


def test_a_constant_number_of_statements(service):
    ctx = admin()
    small = add_hosts(3)
    add_slots('p1', {small[1]: 2}, T0, T0 + HOUR)
    few = _ask_everything(service, ctx)
    many = add_hosts(40, offset=3)
    for i in range(0, 40, 2):
        add_slots('p%d' % i, {many[i]: 1, many[i + 1]: 2}, T0 + i * HOUR,
                  T0 + (i + 1) * HOUR)
    assert _ask_everything(service, ctx) == few
    # Cold: the generation and capacity.load's queries (hosts,
    # capabilities, inventories, traits, holdings...); warm: the generation.
    load = few['how_many'][0] - 1
    assert load >= 5
    assert few['how_many'] == few['how_long'] == few['offerings'] == (load + 1, 1)
    assert few['tenant_calendar'] == (load + 1, 1)
    # The administrator's detail adds the calendar rows; a past frame
    # loads afresh.
    assert few['calendar'] == (load + 2, 2)
    assert few['past_calendar'] == (2 * load + 1, load + 1)


def _after_a_change(service, ctx, slots):
    """Statements of the first question after a reservation of ``slots``."""
    window = {'start_date': fmt(T0), 'end_date': fmt(T0 + 3 * HOUR)}
    service.how_many(ctx, VIRTUAL, params=SHAPE, **window)     # loaded
    add_slots('changer', slots, T0 + 50 * HOUR, T0 + 51 * HOUR)
    with statements() as seen:
        service.how_many(ctx, VIRTUAL, params=SHAPE, **window)
    return seen


def test_a_change_costs_a_constant_number_of_statements(service):
    ctx = admin()
    small = add_hosts(3)
    add_slots('p1', {small[1]: 2}, T0, T0 + HOUR)
    few = _after_a_change(service, ctx, {small[0]: 1})
    many = add_hosts(40, offset=3)
    for i in range(0, 40, 2):
        add_slots('p%d' % i, {many[i]: 1, many[i + 1]: 2}, T0 + i * HOUR,
                  T0 + (i + 1) * HOUR)
    more = _after_a_change(service, ctx, {h: 1 for h in many[:5]})
    # The generation, the hosts changed since, then capacity.load for those
    # hosts (their rows, capabilities, inventories, traits, holdings).
    assert len(few) == len(more) == 7, more
    assert service.provider(VIRTUAL).loads == 1


def test_the_calendar_is_caught_up_only_when_it_changed(service):
    ctx = admin()
    hosts = add_hosts(2)
    provider = service.provider(VIRTUAL)
    when = {'start_date': fmt(T0), 'end_date': fmt(T0 + HOUR), 'params': SHAPE}
    assert service.how_many(ctx, VIRTUAL, **when)['amount'] == 4
    loads = provider.loads
    assert service.how_many(ctx, VIRTUAL, **when)['amount'] == 4
    assert service.offerings(ctx, VIRTUAL, 1, 60, when['start_date'], params=SHAPE)
    assert provider.loads == loads
    # Another shape is another load, kept beside the first.
    bigger = dict(SHAPE, memory_mb=4096)
    assert service.how_many(ctx, VIRTUAL, **dict(when, params=bigger))['amount'] == 2
    assert service.how_many(ctx, VIRTUAL, **when)['amount'] == 4
    assert provider.loads == loads + 1
    # A change: the hosts it touched are read again for the shape asked.
    caught_up = provider.deltas
    add_slots('p1', {hosts[0]: 1}, T0, T0 + HOUR)
    assert service.how_many(ctx, VIRTUAL, **when)['amount'] == 3
    assert (provider.loads, provider.deltas) == (loads + 1, caught_up + 1)
    assert service.how_many(ctx, VIRTUAL, **dict(when, params=bigger))['amount'] == 1
    assert (provider.loads, provider.deltas) == (loads + 1, caught_up + 2)
    # Another database (engine): never the other one's calendar.
    db_api.reset_facade()
    assert service.how_many(ctx, VIRTUAL, **when)['amount'] == 3
    assert provider.loads == loads + 2


def test_dates_beyond_the_calendar_do_not_overflow(service):
    add_hosts(1)
    ctx = admin()
    assert service.offerings(ctx, VIRTUAL, 1, '9999w', '9990-01-01 00:00',
                             params=SHAPE) == []
    run = service.how_long(ctx, VIRTUAL, '9999-12-31 00:00', 1, SHAPE)
    assert run['end_date'] is None and run['free'] == 2
    assert service.calendar(ctx, VIRTUAL, '9999-12-30 00:00', params=SHAPE)[
        'end_date'] == availability.MAX_DATE


def test_the_provider_answers_in_the_instance_vocabulary(service):
    add_hosts(1)
    ctx = admin()
    run = service.how_long(ctx, VIRTUAL, fmt(T0), 2, SHAPE)
    assert (run['count'], run['amount'], run['end_date'], run['free']) == (
        2, 2, None, 2)
    with pytest.raises(Exception) as err:
        service.how_long(ctx, VIRTUAL, fmt(T0), None, SHAPE)
    assert 'Missing parameter amount' in str(err.value)
    offering = service.offerings(ctx, VIRTUAL, 2, '1h', fmt(T0), None, 1,
                                 dict(SHAPE, affinity='true'))[0]
    assert offering['lease']['reservations'] == [dict(
        SHAPE, resource_type=VIRTUAL, amount=2, affinity=True,
        resource_properties='')]
