"""Usage's aggregate (blazar/db/api/usage.py): the usage spans sum exactly
what the allocations do, through every change that moves them, and
revision 0010 fills them from the allocations already there, on every
backend."""
import datetime

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.db import migration
from blazar.tests.unit.manager.test_availability import add_hosts
from blazar.tests.unit.manager.test_availability import add_lease

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)
T0 = datetime.datetime(2031, 3, 4, 10, 0)
SHAPE = {'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 10}


def ctx():
    return blazar_context.get_admin_context()


# Windows that cut spans at their edges (to the minute), hold them whole,
# or miss them.
WINDOWS = [(T0 - 5 * HOUR, T0 + 50 * HOUR), (T0 + 7 * MINUTE, T0 + 2 * HOUR + 13 * MINUTE),
           (T0 + HOUR + MINUTE, T0 + HOUR + 2 * MINUTE), (T0 - 2 * HOUR, T0),
           (T0 + 20 * HOUR, T0 + 21 * HOUR)]


def agree(project_id=None):
    for start, end in WINDOWS:
        spans = db_api.usage_totals(ctx(), start, end, project_id)
        scan = db_api.usage_totals_scan(ctx(), start, end, project_id)
        assert spans == scan, (start, end)
    return db_api.usage_totals(ctx(), *WINDOWS[0], project_id)


def locked(fn):
    context = ctx()
    with db_api.transaction(context):
        db_api.allocation_lock(context)
        return fn(context)


def test_spans_follow_every_change_of_the_allocations(database):
    hosts = add_hosts(4)
    first = add_lease('p1', hosts[:2], T0, T0 + 3 * HOUR)
    add_lease('p2', hosts[2:], T0 + HOUR, T0 + 2 * HOUR,
              instance=SHAPE)
    before = agree()
    assert [p['project_id'] for p in before] == ['p1', 'p2']
    reservation = db_api.lease_get(ctx(), first)['reservations'][0]

    def move(context):
        db_api.allocations_set_window(context, reservation['id'], T0 + HOUR,
                                      T0 + 5 * HOUR + 30 * MINUTE)
        # Healing: one host replaced from a later start.
        db_api.allocations_delete(context, reservation['id'], [hosts[0]])
        db_api.allocations_create(context, reservation['id'], [hosts[3]],
                                  T0 + 2 * HOUR + 7 * MINUTE, T0 + 5 * HOUR + 30 * MINUTE)
    locked(move)
    agree()

    # A host's size weighs the host reservations holding it.
    locked(lambda c: db_api.host_update(c, hosts[1], {'vcpus': 64}))
    assert agree('p1')[0]['vcpu_seconds'] > before[0]['vcpu_seconds']
    # An instance reservation's shape weighs its slots.
    inst = db_api.lease_get(ctx(), add_lease('p3', hosts[:1], T0, T0 + HOUR,
                                             instance=SHAPE))
    row = inst['reservations'][0]['instance_reservation']
    locked(lambda c: db_api.instance_reservation_update(c, row['id'], {'vcpus': 4}))
    agree()

    # A host removed takes its (past) allocations with it.
    locked(lambda c: db_api.host_destroy(c, hosts[0]))
    agree()
    # A lease deleted takes its spans (on delete cascade).
    locked(lambda c: db_api.lease_destroy(c, first))
    after = agree()
    assert 'p1' not in [p['project_id'] for p in after]


def test_usage_is_one_statement_whatever_the_allocations(database):
    from blazar.tests.unit.manager.test_availability import statements
    hosts = add_hosts(3)
    add_lease('p1', hosts[:1], T0, T0 + HOUR)
    with statements() as few:
        db_api.usage_totals(ctx(), *WINDOWS[0])
    more = add_hosts(30, offset=3)
    for i in range(0, 30, 3):
        add_lease('p%d' % i, more[i:i + 3], T0 + i * MINUTE, T0 + HOUR)
    with statements() as many:
        db_api.usage_totals(ctx(), *WINDOWS[0])
    assert len(few) == len(many) == 1


def test_revision_0010_fills_the_spans_from_the_allocations(database):
    hosts = add_hosts(3)
    add_lease('p1', hosts[:2], T0, T0 + 3 * HOUR)
    add_lease('p2', hosts[2:], T0 + HOUR, T0 + 2 * HOUR, instance=SHAPE)
    expected = agree()
    migration.downgrade('0009')
    migration.upgrade('head')
    assert agree() == expected
