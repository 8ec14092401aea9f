"""The store functions behind availability, calendar and usage, on every
backend."""
import datetime

import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.tests.unit.db.test_api import _host
from blazar.tests.unit.db.test_api import _lease

T = datetime.datetime(2030, 1, 1, 10, 0)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def ctx(database):
    return blazar_context.get_admin_context()


def _reservation(ctx, lease_id, host_ids, start, end):
    res = db_api.reservation_create(ctx, {'lease_id': lease_id, 'status': 'pending',
                                          'resource_type': 'physical:host'})
    db_api.allocations_create(ctx, res['id'], host_ids, start, end)
    return res['id']


def test_host_list_flat_is_host_list(ctx):
    _host(ctx, 'h1', gpu='a100', rack='1')
    h2 = _host(ctx, 'h2')
    _host(ctx, 'h3', rack='2')
    db_api.host_update(ctx, h2['id'], {'reservable': False})
    assert db_api.host_list_flat(ctx) == db_api.host_list(ctx)
    assert db_api.host_list_flat(ctx, reservable=True) == db_api.host_list(
        ctx, reservable=True)
    assert [h['hypervisor_hostname'] for h in db_api.host_list_flat(
        ctx, reservable=True)] == ['h1', 'h3']


def test_generation_moves_with_each_locked_transaction(ctx):
    before = db_api.allocation_generation(ctx)
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
    assert db_api.allocation_generation(ctx) == before + 1
    try:
        with db_api.transaction(ctx):
            db_api.allocation_lock(ctx)
            raise RuntimeError('rolled back')
    except RuntimeError:
        pass
    assert db_api.allocation_generation(ctx) == before + 1


def test_calendar_rows_and_usage_totals(ctx):
    h1, h2 = _host(ctx, 'h1')['id'], _host(ctx, 'h2')['id']
    _lease(ctx, 'a', T, T + 2 * HOUR, project='p1')
    _lease(ctx, 'b', T + 3 * HOUR, T + 4 * HOUR, project='p2')
    ra = _reservation(ctx, 'a', [h1, h2], T, T + 2 * HOUR)
    rb = _reservation(ctx, 'b', [h1], T + 3 * HOUR, T + 4 * HOUR)
    rows = db_api.calendar_rows(ctx, T + HOUR, T + 3 * HOUR + datetime.timedelta(minutes=1))
    assert [(r['compute_host_id'], r['reservation_id'], r['lease_id'], r['project_id'])
            for r in rows] == [(h1, ra, 'a', 'p1'), (h1, rb, 'b', 'p2'), (h2, ra, 'a', 'p1')]
    # Half-open: touching intervals are outside.
    assert db_api.calendar_rows(ctx, T + 2 * HOUR, T + 3 * HOUR) == []
    usage = db_api.usage_totals(ctx, T + HOUR, T + 10 * HOUR, project_id='p2')
    assert usage == [{'project_id': 'p2', 'host_seconds': 3600.0,
                      'instance_seconds': 0.0, 'vcpu_seconds': 4 * 3600.0,
                      'memory_mb_seconds': 1024 * 3600.0,
                      'disk_gb_seconds': 10 * 3600.0, 'leases': 1, 'reservations': 1}]
    everyone = db_api.usage_totals(ctx, T + HOUR, T + 10 * HOUR)
    assert [(u['project_id'], u['host_seconds'], u['leases']) for u in everyone] == [
        ('p1', 2 * 3600.0, 1), ('p2', 3600.0, 1)]
    assert db_api.usage_totals(ctx, T + 5 * HOUR, T + 6 * HOUR) == []


def _locked(ctx, change):
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        change()
    return db_api.allocation_generation(ctx)


def test_the_calendar_delta_tells_host_rows_from_allocations(ctx):
    """A lease write changes what holds its hosts, not their rows: a
    manager catching up reloads the hosts' rows only where they changed."""
    h1, h2 = _host(ctx, 'h1')['id'], _host(ctx, 'h2')['id']
    lease = _lease(ctx, 'l1', T, T + 2 * HOUR)
    since = _locked(ctx, lambda: _reservation(ctx, lease['id'], [h1], T, T + HOUR)) + 1
    assert db_api.calendar_delta(ctx, since - 1)[:2] == ({h1}, set())
    _locked(ctx, lambda: _reservation(ctx, lease['id'], [h1, h2], T + HOUR, T + 2 * HOUR))
    _locked(ctx, lambda: db_api.host_update(ctx, h2, {'reservable': False}))
    touched, rows_changed, newest = db_api.calendar_delta(ctx, since)
    assert (touched, rows_changed, newest) == ({h1, h2}, {h2}, since + 1)
