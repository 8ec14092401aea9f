"""The store's enforcement queries on every backend: right rows, and one
statement each whatever the number of leases."""
import contextlib
import datetime

import pytest
import sqlalchemy as sa

from blazar import context as blazar_context
from blazar.db import api as db_api

T0 = datetime.datetime(2030, 1, 1)
H = datetime.timedelta(hours=1)


@pytest.fixture
def ctx(database):
    return blazar_context.get_admin_context()


@contextlib.contextmanager
def statements():
    seen = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(('BEGIN', 'SAVEPOINT', 'RELEASE')):
            seen.append(statement)
    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, 'before_cursor_execute', count)


def _hosts(ctx, count):
    return [db_api.host_create(ctx, {
        'hypervisor_hostname': 'h%d' % i, 'service_name': 'h%d' % i, 'vcpus': 4 * (i + 1),
        'memory_mb': 1024 * (i + 1), 'local_gb': 10}, {}, 'physical:host')['id']
        for i in range(count)]


def _lease(ctx, lease_id, project, start_h, end_h, host_ids=(), instance=None):
    start, end = T0 + start_h * H, T0 + end_h * H
    db_api.lease_create(ctx, {'id': lease_id, 'name': lease_id, 'project_id': project,
                              'user_id': 'u', 'start_date': start, 'end_date': end,
                              'status': 'PENDING', 'degraded': False})
    res = db_api.reservation_create(ctx, {
        'lease_id': lease_id, 'status': 'pending',
        'resource_type': 'virtual:instance' if instance else 'physical:host'})
    if instance:
        with db_api.transaction(ctx) as session:
            from blazar.db import models
            session.add(models.InstanceReservation(reservation_id=res['id'],
                                                   disk_gb=1, **instance))
    db_api.allocations_create(ctx, res['id'], list(host_ids), start, end)
    return res['id']


def test_project_usage(ctx):
    h = _hosts(ctx, 3)
    _lease(ctx, 'a', 'p1', 0, 10, [h[0], h[1]])
    _lease(ctx, 'b', 'p1', 5, 15, [h[2]])
    _lease(ctx, 'c', 'p2', 0, 10, [h[2]])
    _lease(ctx, 'old', 'p1', -20, -10, [h[0]])
    _lease(ctx, 'vm', 'p1', 0, 4, [h[0], h[0], h[1]],
           instance={'vcpus': 2, 'memory_mb': 512, 'amount': 3})
    with statements() as seen:
        rows = db_api.project_usage(ctx, 'p1', T0, T0 + 20 * H)
    assert len(seen) == 1
    got = sorted((r['lease_id'], r['hosts'], r['vcpus'], r['memory_mb']) for r in rows)
    assert got == [('a', 2, 12, 3072), ('b', 1, 12, 3072), ('vm', 0, 6, 1536)]
    assert {r['lease_id']: (r['start_date'], r['end_date']) for r in rows}['b'] == (
        T0 + 5 * H, T0 + 15 * H)
    # Half-open windows; excluded lease; other project.
    assert [r['lease_id'] for r in db_api.project_usage(ctx, 'p1', T0 + 10 * H,
                                                        T0 + 11 * H)] == ['b']
    assert [r['lease_id'] for r in db_api.project_usage(
        ctx, 'p1', T0 + 5 * H, T0 + 6 * H, exclude_lease_id='a')] == ['b']
    assert [r['lease_id'] for r in db_api.project_usage(ctx, 'p2', T0, T0 + 20 * H)] == [
        'c']
    assert db_api.project_usage(ctx, 'p3', T0, T0 + 20 * H) == []


def test_one_statement_whatever_the_number_of_leases(ctx):
    h = _hosts(ctx, 4)
    for i in range(30):
        _lease(ctx, 'l%d' % i, 'p1', i, i + 2, [h[i % 4]])
    with statements() as seen:
        rows = db_api.project_usage(ctx, 'p1', T0, T0 + 100 * H)
    assert len(rows) == 30 and len(seen) == 1
    with statements() as seen:
        rows = db_api.lease_allocated_hosts(ctx, 'l3')
    assert len(seen) == 1


def test_lease_allocated_hosts(ctx):
    h = _hosts(ctx, 2)
    res_id = _lease(ctx, 'a', 'p1', 0, 10, [h[1], h[0]])
    rows = db_api.lease_allocated_hosts(ctx, 'a')
    assert [(r['reservation_id'], r['compute_host_id'], r['vcpus'], r['memory_mb'],
             r['hypervisor_hostname']) for r in rows] == [
        (res_id, h[1], 8, 2048, 'h1'), (res_id, h[0], 4, 1024, 'h0')]
    assert db_api.lease_allocated_hosts(ctx, 'nope') == []
