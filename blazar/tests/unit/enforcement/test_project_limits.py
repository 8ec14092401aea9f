"""ProjectLimitsFilter with the project's other leases given."""
import pytest

from blazar import exceptions
from blazar.db import api as db_api
from blazar.enforcement.filters import project_limits
from blazar.tests.unit.enforcement.conftest import H
from blazar.tests.unit.enforcement.conftest import lease
from blazar.tests.unit.enforcement.conftest import NOW


def other(start_h, end_h, hosts=1, vcpus=8, memory_mb=1024, lease_id='other'):
    return {'lease_id': lease_id, 'start_date': NOW + start_h * H,
            'end_date': NOW + end_h * H, 'hosts': hosts, 'vcpus': hosts * vcpus,
            'memory_mb': hosts * memory_mb}


@pytest.fixture
def others(monkeypatch, now):
    """The project's other leases, and the queries made for them."""
    rows, queries = [], []

    def project_usage(context, project_id, start, end, exclude_lease_id=None):
        queries.append((project_id, start, end, exclude_lease_id))
        return [r for r in rows if r['end_date'] > start and r['start_date'] < end]
    monkeypatch.setattr(db_api, 'project_usage', project_usage)
    return type('Others', (), {'rows': rows, 'queries': queries})


@pytest.fixture
def check(others):
    return project_limits.ProjectLimitsFilter()


def refused(call, *args):
    with pytest.raises(exceptions.EnforcementRefused) as info:
        call(None, *args)
    return info.value


def test_no_limits_no_query(check, others):
    check.check_create(None, lease(hosts=50))
    assert others.queries == []


def test_concurrent_hosts(check, others, opts):
    opts(max_hosts_per_project=3)
    others.rows.extend([other(0, 5, hosts=2), other(10, 20, hosts=3)])
    check.check_create(None, lease(5, 10, hosts=3))      # back to back on both sides
    check.check_create(None, lease(1, 4, hosts=1))
    error = refused(check.check_create, lease(4, 6, hosts=2))
    assert error.kwargs['rule'] == 'max_hosts_per_project'
    assert error.message == (
        'Project p1 would hold 4 hosts at once, over its limit of 3 hosts '
        '(max_hosts_per_project): its other leases hold 2 hosts at 2030-01-01 16:00 UTC '
        'and this lease adds 2 hosts.')
    (query,) = others.queries[-1:]
    assert query == ('p1', NOW + 4 * H, NOW + 6 * H, 'L')


def test_what_is_over_does_not_count(check, others, opts):
    """Only the moments from now on count for concurrent limits."""
    opts(max_hosts_per_project=2)
    others.rows.append(other(-5, -1, hosts=2))
    check.check_update(None, lease(-3, 1, hosts=1, status='ACTIVE'),
                       lease(-3, 1, hosts=2, status='ACTIVE'))


def test_vcpus_and_memory(check, others, opts):
    opts(max_vcpus_per_project=20, max_memory_mb_per_project=3000)
    others.rows.append(other(0, 10, hosts=1, vcpus=8, memory_mb=1024))
    check.check_create(None, lease(1, 2, hosts=1, vcpus=12, memory_mb=1024))
    error = refused(check.check_create, lease(1, 2, hosts=1, vcpus=16, memory_mb=1024))
    assert error.message == (
        'Project p1 would hold 24 vCPUs at once, over its limit of 20 vCPUs '
        '(max_vcpus_per_project): its other leases hold 8 vCPUs at 2030-01-01 13:00 UTC '
        'and this lease adds 16 vCPUs.')
    error = refused(check.check_create, lease(1, 2, hosts=1, vcpus=1, memory_mb=2048))
    assert error.kwargs['rule'] == 'max_memory_mb_per_project'
    assert 'would hold 3072 MB of memory at once, over its limit of 3000 MB' in error.message


def test_overrides(check, others, opts):
    opts(max_hosts_per_project=1,
         max_hosts_per_project_overrides={'big': '10', 'free': '-1', 'bad': 'x'})
    check.check_create(None, lease(hosts=10, project='big'))
    check.check_create(None, lease(hosts=99, project='free'))
    assert 'limit of 1 host ' in refused(check.check_create,
                                         lease(hosts=2, project='bad')).message
    assert refused(check.check_create, lease(hosts=11, project='big'))
    assert project_limits.limit_for('max_hosts_per_project', 'p1') == 1


def test_host_hours_per_rolling_period(check, others, opts):
    opts(max_host_hours_per_project=10, host_hours_period=24 * 3600)
    others.rows.append(other(-20, -14, hosts=1))   # 6 host-hours, partly a day ago
    check.check_create(None, lease(1, 3, hosts=2))   # 4 more: 10 in 24 hours
    error = refused(check.check_create, lease(1, 4, hosts=2))
    assert error.kwargs['rule'] == 'max_host_hours_per_project'
    assert error.message == (
        'Project p1 would reserve 12 host-hours in the 1 day from 2029-12-31 16:00 to '
        '2030-01-01 16:00 UTC, over its limit of 10 (max_host_hours_per_project): its '
        'other leases hold 6 host-hours in that period and this lease adds 6.')
    # Far enough from the other lease, it fits.
    check.check_create(None, lease(20, 25, hosts=2))
    (project, start, end, exclude) = others.queries[0]
    assert (start, end) == (NOW + 1 * H - 24 * H, NOW + 3 * H + 24 * H)


def test_an_update_may_keep_but_not_worsen_an_excess(check, others, opts):
    opts(max_hosts_per_project=1, max_host_hours_per_project=5)
    current = lease(1, 5, hosts=2)
    check.check_update(None, current, lease(1, 3, hosts=2))
    check.check_update(None, current, lease(2, 4, hosts=2))
    error = refused(check.check_update, current, lease(1, 6, hosts=2))
    assert 'would reserve 10 host-hours' in error.message
    assert 'this lease would hold 10' in error.message
    error = refused(check.check_update, lease(1, 2, hosts=1), lease(1, 2, hosts=2))
    assert error.message.endswith('this lease would hold 2 hosts (it holds 1 host now).')


def test_unchanged_updates_are_not_checked(check, others, opts):
    opts(max_hosts_per_project=1)
    check.check_update(None, lease(hosts=5), lease(hosts=5))
    assert others.queries == []


def test_a_lease_holding_nothing_passes(check, others, opts):
    opts(max_hosts_per_project=0, max_host_hours_per_project=0)
    check.check_create(None, lease(hosts=0))
