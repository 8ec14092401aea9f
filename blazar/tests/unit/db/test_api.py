"""The store's functions on every backend."""
import datetime
import re
import threading
import time

import pytest
import sqlalchemy as sa

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.db import models


@pytest.fixture
def ctx(database):
    return blazar_context.get_admin_context()


def _host(ctx, name, **caps):
    return db_api.host_create(ctx, {
        'hypervisor_hostname': name, 'service_name': name, 'vcpus': 4,
        'memory_mb': 1024, 'local_gb': 10}, caps, 'physical:host')


def _lease(ctx, lease_id, start, end, project='p1'):
    return db_api.lease_create(ctx, {
        'id': lease_id, 'name': lease_id, 'project_id': project, 'user_id': 'u',
        'start_date': start, 'end_date': end, 'status': 'PENDING', 'degraded': False})


def test_hosts_with_capabilities(ctx):
    host = _host(ctx, 'h1', gpu='a100')
    assert host['capabilities'] == {'gpu': 'a100'}
    db_api.host_update(ctx, host['id'], {}, {'gpu': 'h100', 'rack': 'r1'}, 'physical:host')
    assert db_api.host_get(ctx, host['id'])['capabilities'] == {'gpu': 'h100', 'rack': 'r1'}
    assert db_api.host_get_by_hostname(ctx, 'h1')['id'] == host['id']
    assert db_api.host_get(ctx, host['id'] + 100) is None
    _host(ctx, 'h2', gpu='a100')
    props = db_api.resource_property_list(ctx, 'physical:host')
    assert props == [{'property': 'gpu', 'private': False, 'values': ['a100', 'h100']},
                     {'property': 'rack', 'private': False, 'values': ['r1']}]
    assert db_api.host_destroy(ctx, host['id'])
    assert [h['hypervisor_hostname'] for h in db_api.host_list(ctx)] == ['h2']


def test_leases_with_events_and_cascade(ctx):
    start = datetime.datetime(2030, 1, 1, 10, 0)
    _lease(ctx, 'l1', start, start + datetime.timedelta(hours=1))
    db_api.event_create(ctx, {'lease_id': 'l1', 'event_type': 'start_lease',
                              'time': start, 'status': 'UNDONE'})
    lease = db_api.lease_get(ctx, 'l1')
    assert lease['start_date'] == start
    assert [e['event_type'] for e in lease['events']] == ['start_lease']
    assert db_api.lease_list(ctx, project_id='p2') == []
    assert [x['id'] for x in db_api.lease_list(ctx)] == ['l1']
    assert db_api.next_event_time(ctx) == start
    assert db_api.events_due(ctx, start - datetime.timedelta(seconds=1)) == []
    assert len(db_api.events_due(ctx, start)) == 1
    db_api.lease_destroy(ctx, 'l1')
    assert db_api.lease_get(ctx, 'l1') is None
    assert db_api.next_event_time(ctx) is None


def test_event_claim_has_one_winner(ctx):
    start = datetime.datetime(2030, 1, 1, 10, 0)
    _lease(ctx, 'l1', start, start + datetime.timedelta(hours=1))
    event = db_api.event_create(ctx, {'lease_id': 'l1', 'event_type': 'start_lease',
                                      'time': start, 'status': 'UNDONE'})
    assert db_api.event_claim(blazar_context.get_admin_context(), event['id'])
    assert not db_api.event_claim(blazar_context.get_admin_context(), event['id'])


def test_an_orderly_stop_releases_the_events_it_runs(ctx):
    """events_release_all (a manager's stop): the actions ``owner`` still
    runs are due again at once; another owner's and applied events stay."""
    start = datetime.datetime(2030, 1, 1, 10, 0)
    until = datetime.datetime(2099, 1, 1)
    _lease(ctx, 'l1', start, start + datetime.timedelta(hours=1))
    mine, theirs, applied = (db_api.event_create(ctx, {
        'lease_id': 'l1', 'event_type': kind, 'time': start, 'status': 'UNDONE'})
        for kind in ('before_end_lease', 'before_start_lease', 'start_lease'))
    assert db_api.event_claim(ctx, mine['id'], owner='m1', until=until)
    assert db_api.event_claim(ctx, theirs['id'], owner='m2', until=until)
    db_api.event_update(ctx, applied['id'], {'status': 'IN_PROGRESS'})
    assert db_api.events_release_all(ctx, 'm1') == 1
    released = db_api.event_get(ctx, mine['id'])
    assert (released['status'], released['claimed_by'], released['claimed_until']) == \
        ('UNDONE', None, None)
    assert db_api.event_get(ctx, theirs['id'])['claimed_by'] == 'm2'
    assert db_api.event_get(ctx, applied['id'])['status'] == 'IN_PROGRESS'
    assert [e['id'] for e in db_api.events_due(ctx, start)] == [mine['id']]


def test_transaction_is_all_or_nothing(ctx):
    start = datetime.datetime(2030, 1, 1, 10, 0)
    with pytest.raises(RuntimeError):
        with db_api.transaction(ctx):
            _lease(ctx, 'l1', start, start + datetime.timedelta(hours=1))
            _host(ctx, 'h1')
            raise RuntimeError('boom')
    assert db_api.lease_get(ctx, 'l1') is None
    assert db_api.host_list(ctx) == []


def test_allocation_lock_serialises_writers(database):
    """A second transaction waits for the lock holder to commit, then sees
    what it wrote."""
    holder_ctx = blazar_context.get_admin_context()
    seen = {}
    locked = threading.Event()

    def second():
        ctx = blazar_context.get_admin_context()
        locked.wait(5)
        began = time.monotonic()
        with db_api.transaction(ctx):
            db_api.allocation_lock(ctx)
            seen['waited'] = time.monotonic() - began
            seen['hosts'] = [h['hypervisor_hostname'] for h in db_api.host_list(ctx)]

    thread = threading.Thread(target=second)
    thread.start()
    with db_api.transaction(holder_ctx):
        db_api.allocation_lock(holder_ctx)
        locked.set()
        time.sleep(0.5)
        _host(holder_ctx, 'h1')
    thread.join(10)
    assert seen['hosts'] == ['h1']
    assert seen['waited'] >= 0.3


def test_settling_an_intent_never_overwrites_a_change_committed_meanwhile(ctx):
    # A reservation made ready before its start settles without the
    # allocation lock while its start event changes the intent to active:
    # read without a row lock, the settlement wrote ``due_at = None`` over
    # the new generation and the lease stayed STARTING for ever.
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': []})
    assert db_api.intent_claim(ctx, 'r1', 'converger', datetime.datetime(2100, 1, 1))
    settled = []
    changer = blazar_context.get_admin_context()

    def settle():
        settled.append(db_api.intent_converged(
            blazar_context.get_admin_context(), 'r1', 'converger', 1))

    with db_api.transaction(changer):
        assert db_api.intent_set(changer, 'r1', 'l1', 'physical:host', 'active')
        thread = threading.Thread(target=settle)
        thread.start()
        time.sleep(0.5)  # the settlement reads (and waits) before the commit
    thread.join(30)
    assert settled == [False]
    intent = db_api.intent_get(ctx, 'r1')
    assert intent['generation'] == 2 and intent['phase'] == 'active'
    assert intent['due_at'] is not None
    assert intent['converged_generation'] == 0


def _tables_read(ctx, read):
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith('SELECT'):
            seen.append(re.search(r'\bFROM\s+(\S+)', statement).group(1).strip('`"'))
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        result = read()
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)
    return result, seen


def test_a_lease_is_read_in_two_statements(ctx):
    """A lease read (several per write, two of them under the allocation
    lock) took four statements: the lease, its reservations, their plugin
    rows and its events. The events join the lease, and the plugin rows
    the reservations."""
    now = datetime.datetime(2030, 1, 1)
    _lease(ctx, 'l1', now, now + datetime.timedelta(hours=1))
    for hours, event_type in ((1, 'end_lease'), (0, 'start_lease')):
        db_api.event_create(ctx, {'lease_id': 'l1', 'event_type': event_type,
                                  'time': now + datetime.timedelta(hours=hours),
                                  'status': 'UNDONE'})
    res = db_api.reservation_create(ctx, {
        'lease_id': 'l1', 'resource_type': 'physical:host', 'status': 'pending',
        'missing_resources': False, 'resources_changed': False})
    db_api.host_reservation_create(ctx, {
        'reservation_id': res['id'], 'min_count': 1, 'max_count': 1,
        'hypervisor_properties': '', 'resource_properties': '', 'before_end': 'default'})
    db_api.reservation_create(ctx, {
        'lease_id': 'l1', 'resource_type': 'vendor:thing', 'status': 'pending',
        'missing_resources': False, 'resources_changed': False})
    lease, tables = _tables_read(ctx, lambda: db_api.lease_get(ctx, 'l1'))
    assert tables == ['leases', 'reservations']
    assert [e['event_type'] for e in lease['events']] == ['start_lease', 'end_lease']
    by_type = {r['resource_type']: r for r in lease['reservations']}
    host, other = by_type['physical:host'], by_type['vendor:thing']
    assert host['id'] == res['id'] and host['host_reservation']['max_count'] == 1
    assert host['instance_reservation'] is None
    assert host['floatingip_reservation'] is None
    assert other['resource_type'] == 'vendor:thing'
    assert other['host_reservation'] is None and other['instance_reservation'] is None
    assert db_api.lease_get(ctx, 'nope') is None


def test_destroying_a_lease_takes_its_rows_in_one_statement(ctx):
    """The ORM deleted a lease row by row (each event, reservation and plugin
    row, after reading them) under the allocation lock; the foreign keys'
    cascades now do it, and nothing of the lease is left."""
    start = datetime.datetime(2030, 1, 1, 10, 0)
    host = _host(ctx, 'h1')
    _lease(ctx, 'l1', start, start + datetime.timedelta(hours=1))
    _lease(ctx, 'l2', start, start + datetime.timedelta(hours=1))
    for lease_id in ('l1', 'l2'):
        db_api.event_create(ctx, {'lease_id': lease_id, 'event_type': 'start_lease',
                                  'time': start, 'status': 'UNDONE'})
        res = db_api.reservation_create(ctx, {
            'lease_id': lease_id, 'resource_type': 'physical:host', 'status': 'pending',
            'missing_resources': False, 'resources_changed': False})
        db_api.host_reservation_create(ctx, {
            'reservation_id': res['id'], 'min_count': 1, 'max_count': 1,
            'hypervisor_properties': '', 'resource_properties': '',
            'before_end': 'default'})
        db_api.allocations_create(ctx, res['id'], [host['id']], start,
                                  start + datetime.timedelta(hours=1))
    statements = []
    engine = db_api.get_engine()

    def record(conn, cursor, statement, *args):
        # (SQLite's write lock, taken first by every transaction, is no work.)
        if statement.lstrip().upper().startswith(('SELECT', 'DELETE', 'UPDATE')) \
                and 'WHERE 1 = 0' not in statement:
            statements.append(statement)
    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        assert db_api.lease_destroy(ctx, 'l1') is True
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)
    # The delete, and the record of the calendar change (an INSERT ... SELECT).
    assert [text.split()[0].upper() for text in statements] == ['DELETE'], statements
    assert db_api.lease_destroy(ctx, 'l1') is False
    with engine.connect() as conn:
        left = {table: conn.scalar(sa.text('SELECT count(*) FROM %s' % table))
                for table in ('events', 'reservations', 'computehost_reservations',
                              'computehost_allocations', 'usage_spans')}
    assert left == {'events': 1, 'reservations': 1, 'computehost_reservations': 1,
                    'computehost_allocations': 1, 'usage_spans': 1}  # l2's, untouched
    assert db_api.lease_get(ctx, 'l2')['reservations'][0]['host_reservation']


def test_an_update_asks_for_no_keys_unless_the_session_holds_such_objects(ctx):
    """On MariaDB every UPDATE through the session was preceded by a SELECT
    of the matched keys (to bring held objects up to date), even when the
    session held none: one more round trip, often under the lock."""
    from blazar.db import models
    start = datetime.datetime(2030, 1, 1, 10, 0)
    _lease(ctx, 'l1', start, start + datetime.timedelta(hours=1))
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.split()[0].upper() in ('SELECT', 'UPDATE') and \
                'WHERE 1 = 0' not in statement:
            seen.append(statement.split()[0].upper())
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        db_api.lease_update(ctx, 'l1', {'name': 'renamed'})
        assert seen == ['UPDATE']
        with db_api.transaction(ctx) as session:
            held = session.get(models.Lease, 'l1')
            session.execute(sa.update(models.Lease).where(models.Lease.id == 'l1')
                            .values(name='again'))
            assert held.name == 'again'     # a held object is still synchronised
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)
    assert db_api.lease_get(ctx, 'l1')['name'] == 'again'


def test_a_claim_returns_the_intent_it_took_and_nothing_when_taken(ctx):
    # A convergence read the intent in a transaction of its own after the
    # claim's: one round of the store more per converged intent.
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']})
    until = datetime.datetime(2100, 1, 1)
    claimed = db_api.intent_claim(ctx, 'r1', 'converger', until)
    assert (claimed['claimed_by'], claimed['claimed_until']) == ('converger', until)
    assert (claimed['phase'], claimed['spec']) == ('reserved', {'hosts': ['h1']})
    assert db_api.intent_claim(ctx, 'r1', 'another', until) is None


def _due(ctx, reservation_id):
    return db_api.intent_get(ctx, reservation_id)['due_at']


def test_a_reserved_intent_is_due_at_its_not_before_and_follows_a_moved_start(ctx):
    # Lease dates are whole minutes, and so is what they set.
    now = db_api.utcnow().replace(second=0, microsecond=0)
    later = now + datetime.timedelta(days=2)
    assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved',
                             {'hosts': ['h1']}, not_before=later)
    assert _due(ctx, 'r1') == later
    assert 'r1' not in db_api.intents_due(ctx, now + datetime.timedelta(days=1))
    assert db_api.intents_unsettled(ctx) == 0
    sooner = now + datetime.timedelta(hours=1)
    # Its start moved: nothing else changed, yet it is due sooner.
    assert not db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved',
                                 {'hosts': ['h1']}, not_before=sooner)
    assert _due(ctx, 'r1') == sooner
    # A not_before already past: due now.
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']},
                      not_before=now - datetime.timedelta(hours=1))
    assert _due(ctx, 'r1') <= db_api.utcnow()
    assert db_api.intents_unsettled(ctx) == 1


def test_an_untouched_reserved_intent_made_absent_is_dropped(ctx):
    later = db_api.utcnow() + datetime.timedelta(days=2)
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']},
                      not_before=later)
    assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'absent')
    assert db_api.intent_get(ctx, 'r1') is None


def _unread_spec():
    raise AssertionError('the spec was read')


def test_an_untouched_intent_made_absent_is_dropped_without_reading_its_spec(ctx):
    later = db_api.utcnow() + datetime.timedelta(days=2)
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']},
                      not_before=later)
    assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'absent', _unread_spec)
    assert db_api.intent_get(ctx, 'r1') is None


def test_a_spec_function_is_called_when_the_spec_is_written(ctx):
    assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved',
                             lambda: {'hosts': ['h1']})
    assert not db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved',
                                 lambda: {'hosts': ['h1']})
    assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved',
                             lambda: {'hosts': ['h2']})
    assert db_api.intent_get(ctx, 'r1')['spec'] == {'hosts': ['h2']}


def test_an_intent_the_transaction_holds_is_made_absent_through_its_row(ctx):
    """Dropped by a statement while the session held its row, the ORM would
    later write a row that is gone."""
    later = db_api.utcnow() + datetime.timedelta(days=2)
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']},
                      not_before=later)
    with db_api.transaction(ctx) as session:
        held = session.get(models.CloudIntent, 'r1')
        assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'absent')
        assert held not in session
    assert db_api.intent_get(ctx, 'r1') is None


def test_a_claimed_intent_is_touched_and_kept_until_its_absence_converges(ctx):
    # A manager that claimed it may have made its objects (and died before
    # recording them): its absence goes through the converger.
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']})
    until = datetime.datetime(2100, 1, 1)
    assert db_api.intent_claim(ctx, 'r1', 'converger', until)['touched_at'] is not None
    db_api.intent_release(ctx, 'r1', 'converger')
    later = db_api.utcnow() + datetime.timedelta(days=2)
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h2']},
                      not_before=later)
    assert _due(ctx, 'r1') <= db_api.utcnow()
    assert db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'absent')
    assert db_api.intent_get(ctx, 'r1')['phase'] == 'absent'


def test_an_adopted_intent_is_touched_from_the_start(ctx):
    # Made before intents existed: the cloud may hold its objects already.
    later = db_api.utcnow() + datetime.timedelta(days=2)
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'reserved', {'hosts': ['h1']},
                      not_before=later, touched=True)
    assert _due(ctx, 'r1') <= db_api.utcnow()
    db_api.intent_set(ctx, 'r1', 'l1', 'physical:host', 'absent')
    assert db_api.intent_get(ctx, 'r1')['phase'] == 'absent'


def test_the_lock_hands_back_its_generation_without_another_statement(ctx):
    # Every create asked the database for the generation it had just bumped.
    before = db_api.allocation_generation(ctx)
    for expected in (before + 1, before + 2):
        with db_api.transaction(ctx):
            _generation, read = _tables_read(ctx, lambda: (
                db_api.allocation_lock(ctx), db_api.allocation_generation(ctx))[1])
            assert _generation == expected
            assert 'allocation_locks' not in read
        assert db_api.allocation_generation(ctx) == expected
