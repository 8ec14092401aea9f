"""The manager's availability service on the store: durations, the cached
calendar, a constant number of SQL statements, usage arithmetic."""
import contextlib
import datetime
import threading

import pytest
import sqlalchemy as sa

from blazar import context as blazar_context
from blazar import exceptions
from blazar import plugins as plugin_loader
from blazar import policies
from blazar.db import api as db_api
from blazar.manager import availability

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.parametrize('text, minutes', [
    ('90', 90), (90, 90), ('90m', 90), ('8h', 480), ('2d', 2880), ('1w', 10080),
    ('1d12h', 2160), ('1h30m', 90), ('2d3h4m', 2 * 1440 + 184)])
def test_durations(text, minutes):
    assert availability.parse_duration(text) == datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize('text', ['', '0', '0h', 'h', '8x', '1.5h', '-3', 'd1', None,
                                  True, '1h 30m'])
def test_bad_durations(text):
    with pytest.raises(exceptions.MalformedParameter) as err:
        availability.parse_duration(text)
    assert 'duration' in err.value.message


def test_policy_rules_are_registered():
    names = {rule.name: rule.check_str for rule in policies.list_rules()}
    assert names['blazar:availability:get'] == 'rule:project_reader_or_admin'
    assert names['blazar:offerings:get'] == 'rule:project_reader_or_admin'
    assert names['blazar:calendar:get'] == 'rule:project_reader_or_admin'
    assert names['blazar:calendar:get_hosts'] == 'rule:admin'
    assert names['blazar:usage:get'] == 'rule:project_reader_or_admin'
    assert names['blazar:usage:get_all_projects'] == 'rule:admin'


# --- on the store ---------------------------------------------------------------

T0 = (datetime.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
      + datetime.timedelta(days=2))


def admin():
    return blazar_context.get_admin_context()


def add_hosts(count, offset=0, **size):
    ctx = admin()
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        return [db_api.host_create(ctx, dict({
            'hypervisor_hostname': 'h%d' % (offset + i), 'service_name': 'h%d' % (offset + i),
            'vcpus': 8, 'memory_mb': 4096, 'local_gb': 50}, **size),
            {'rack': str(i % 2)}, 'physical:host')['id'] for i in range(count)]


def add_lease(project, host_ids, start, end, instance=None):
    ctx = admin()
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        lease = db_api.lease_create(ctx, {
            'name': 'l', 'user_id': 'u', 'project_id': project, 'start_date': start,
            'end_date': end, 'status': 'PENDING'})
        res = db_api.reservation_create(ctx, {
            'lease_id': lease['id'], 'status': 'pending',
            'resource_type': 'virtual:instance' if instance else 'physical:host'})
        if instance:
            db_api.instance_reservation_create(ctx, dict(
                reservation_id=res['id'], amount=len(host_ids), **instance))
        else:
            db_api.host_reservation_create(ctx, {
                'reservation_id': res['id'], 'min_count': 1,
                'max_count': len(host_ids)})
        db_api.allocations_create(ctx, res['id'], host_ids, start, end)
    return lease['id']


def _service():
    return availability.AvailabilityService(plugin_loader.load(['physical.host.plugin']))


@pytest.fixture
def service(sqlite_database):
    return _service()


@pytest.fixture
def any_service(database):
    return _service()


@contextlib.contextmanager
def statements():
    seen = []
    me = threading.get_ident()

    def count(conn, cursor, statement, *args):
        # Queries of this thread only (a manager left running by other tests
        # may poll the same engine), and not the transaction control some
        # drivers send, nor the connection liveness ping.
        words = statement.split()
        if threading.get_ident() == me and words[0].upper() in (
                'SELECT', 'INSERT', 'UPDATE', 'DELETE') and words[1:] != ['1']:
            seen.append(statement)
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, 'before_cursor_execute', count)


def _ask_everything(service, ctx):
    window = {'start_date': T0.strftime('%Y-%m-%d %H:%M'),
              'end_date': (T0 + 3 * HOUR).strftime('%Y-%m-%d %H:%M')}
    props = {'resource_properties': '["==", "$rack", "1"]'}
    counts = {}
    for name, ask in (
            ('how_many', lambda: service.how_many(ctx, None, params=props, **window)),
            ('how_long', lambda: service.how_long(ctx, None, window['start_date'], 1,
                                                   props)),
            ('offerings', lambda: service.offerings(ctx, None, 1, '2h',
                                                    window['start_date'], None, 5,
                                                    props)),
            ('calendar', lambda: service.calendar(ctx, None, params=props, detail=True,
                                                  **window)),
            ('tenant_calendar', lambda: service.calendar(ctx, None, params=props,
                                                         **window)),
            ('past_calendar', lambda: service.calendar(ctx, None, '2020-01-01 00:00',
                                                       params=props)),
            ('usage', lambda: service.usage(ctx, **window))):
        service.provider('physical:host').forget()
        with statements() as cold:
            ask()
        with statements() as warm:
            ask()
        counts[name] = (len(cold), len(warm))
    return counts


def _small_calendar():
    """Three hosts, two of them leased: the ids."""
    small = add_hosts(3)
    add_lease('p1', small[:2], T0, T0 + HOUR)
    return small


def _grow_calendar():
    """Forty more hosts, each leased (twenty leases of two): their ids."""
    many = add_hosts(40, offset=3)
    for i in range(0, 40, 2):
        add_lease('p%d' % i, many[i:i + 2], T0 + i * MINUTE, T0 + HOUR + i * MINUTE)
    return many


def test_a_constant_number_of_statements(any_service):
    service = any_service
    ctx = admin()
    _small_calendar()
    few = _ask_everything(service, ctx)
    _grow_calendar()
    assert _ask_everything(service, ctx) == few
    # Cold: generation, hosts, capabilities, allocations; warm: generation.
    assert few['how_many'] == few['how_long'] == few['offerings'] == (4, 1)
    assert few['tenant_calendar'] == (4, 1)
    assert few['calendar'] == few['past_calendar'] == (5, 2)
    # Usage: the floating IPs' totals, then the hosts' and instances'.
    assert few['usage'] == (2, 2)


def _after_a_change(service, ctx, host_ids):
    """Statements of the first question after a lease on ``host_ids``."""
    window = {'start_date': T0.strftime('%Y-%m-%d %H:%M'),
              'end_date': (T0 + 3 * HOUR).strftime('%Y-%m-%d %H:%M')}
    service.how_many(ctx, **window)         # the calendar is loaded
    add_lease('changer', host_ids, T0 + 5 * HOUR, T0 + 6 * HOUR)
    with statements() as seen:
        service.how_many(ctx, **window)
    return seen


def test_a_change_costs_a_constant_number_of_statements(any_service):
    service = any_service
    ctx = admin()
    small = _small_calendar()
    few = _after_a_change(service, ctx, small[:1])
    many = _grow_calendar()
    more = _after_a_change(service, ctx, many[:4])
    # The generation, the hosts changed since and their allocations (a
    # lease changes what holds hosts, not their rows or capabilities):
    # whatever the number of hosts, allocations or of hosts the change
    # touched.
    assert len(few) == len(more) == 3, more
    provider = service.provider('physical:host')
    assert provider.loads == 1


def test_a_change_of_allocations_alone_does_not_reread_the_hosts_rows(any_service):
    """A lease write made the managers re-read the row and capabilities of
    the hosts it held (two statements under the allocation lock, per
    write): only their allocations changed."""
    service = any_service
    ctx = admin()
    small = _small_calendar()
    seen = _after_a_change(service, ctx, small[:1])
    assert not [s for s in seen if 'computehost_extra_capabilities' in s
                or s.startswith('SELECT computehosts.id, computehosts.hypervisor_id')], seen


def test_a_change_of_a_host_s_row_rereads_it(any_service):
    service = any_service
    ctx = admin()
    small = _small_calendar()
    window = {'start_date': (T0 + 2 * HOUR).strftime('%Y-%m-%d %H:%M'),
              'end_date': (T0 + 3 * HOUR).strftime('%Y-%m-%d %H:%M')}
    assert service.how_many(ctx, **window)['max'] == 3
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        db_api.host_update(ctx, small[0], {'reservable': False})
    with statements() as seen:
        assert service.how_many(ctx, **window)['max'] == 2
    # The generation, the hosts changed since, their rows, capabilities and
    # allocations.
    assert len(seen) == 5, seen
    assert service.provider('physical:host').loads == 1


def test_the_calendar_is_caught_up_only_when_it_changed(service):
    ctx = admin()
    hosts = add_hosts(2)
    provider = service.provider('physical:host')
    when = {'start_date': T0.strftime('%Y-%m-%d %H:%M'),
            'end_date': (T0 + HOUR).strftime('%Y-%m-%d %H:%M')}
    assert service.how_many(ctx, **when)['max'] == 2
    loads, caught_up = provider.loads, provider.deltas
    assert service.how_many(ctx, **when)['max'] == 2
    assert service.offerings(ctx, None, 1, 60, when['start_date'])
    assert (provider.loads, provider.deltas) == (loads, caught_up)
    # A change: the hosts it touched are read again, not the calendar.
    add_lease('p1', hosts[:1], T0, T0 + HOUR)
    assert service.how_many(ctx, **when)['max'] == 1
    assert (provider.loads, provider.deltas) == (loads, caught_up + 1)
    # A transaction that takes the lock and changes nothing still moves
    # the generation: a delta, same answer.
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
    assert service.how_many(ctx, **when)['max'] == 1
    assert (provider.loads, provider.deltas) == (loads, caught_up + 2)
    # Another database (engine): never the other one's calendar.
    db_api.reset_facade()
    assert service.how_many(ctx, **when)['max'] == 1
    assert provider.loads == loads + 1


def test_a_pruned_change_log_reloads_in_full(service):
    ctx = admin()
    hosts = add_hosts(2)
    provider = service.provider('physical:host')
    when = {'start_date': T0.strftime('%Y-%m-%d %H:%M'),
            'end_date': (T0 + HOUR).strftime('%Y-%m-%d %H:%M')}
    assert service.how_many(ctx, **when)['max'] == 2
    loads = provider.loads
    add_lease('p1', hosts[:1], T0, T0 + HOUR)
    for _ in range(3):
        with db_api.transaction(ctx):
            db_api.allocation_lock(ctx)
    assert db_api.calendar_changes_prune(ctx, keep=1) > 0
    assert service.how_many(ctx, **when)['max'] == 1
    assert provider.loads == loads + 1
    # Held at the newest generation, a later prune costs nothing.
    assert db_api.calendar_changes_prune(ctx, keep=1) == 0
    add_lease('p2', hosts[1:], T0, T0 + HOUR)
    assert service.how_many(ctx, **when)['max'] == 0
    assert provider.loads == loads + 1


def test_usage_counts_hosts_and_instances(service):
    ctx = admin()
    big = add_hosts(2, vcpus=16, memory_mb=65536, local_gb=1000)
    add_lease('p1', big, T0, T0 + 2 * HOUR)
    add_lease('p2', big[:1], T0 + 2 * HOUR, T0 + 4 * HOUR,
              instance={'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 10})
    frame = {'start_date': (T0 + HOUR).strftime('%Y-%m-%d %H:%M'),
             'end_date': (T0 + 3 * HOUR + 30 * MINUTE).strftime('%Y-%m-%d %H:%M')}
    usage = service.usage(ctx, **frame)
    assert usage['start_date'] == T0 + HOUR
    assert usage['projects'] == [
        {'project_id': 'p1', 'host_hours': 2.0, 'instance_hours': 0.0,
         'vcpu_hours': 32.0, 'memory_mb_hours': 131072.0, 'disk_gb_hours': 2000.0,
         'floatingip_hours': 0.0, 'leases': 1, 'reservations': 1},
        {'project_id': 'p2', 'host_hours': 0.0, 'instance_hours': 1.5,
         'vcpu_hours': 3.0, 'memory_mb_hours': 1536.0, 'disk_gb_hours': 15.0,
         'floatingip_hours': 0.0, 'leases': 1, 'reservations': 1}]
    only = service.usage(ctx, project_id='p2', **frame)['projects']
    assert [p['project_id'] for p in only] == ['p2']
    default = service.usage(ctx)
    assert default['end_date'] - default['start_date'] == datetime.timedelta(days=30)


def test_unsupported_resource_type(service):
    with pytest.raises(exceptions.UnsupportedResourceType):
        service.how_many(admin(), 'virtual:instance', 'now', '2099-01-01 00:00')


def test_dates_beyond_the_calendar_do_not_overflow(service):
    add_hosts(1)
    ctx = admin()
    found = service.offerings(ctx, None, 1, '9999w', '9990-01-01 00:00')
    assert found == []
    run = service.how_long(ctx, None, '9999-12-31 00:00', 1)
    assert run['end_date'] is None
    assert service.calendar(ctx, None, '9999-12-30 00:00')['end_date'] == \
        availability.MAX_DATE
