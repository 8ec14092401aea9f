"""The usage arithmetic behind the project limits."""
import datetime

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar.enforcement import usage

T0 = datetime.datetime(2030, 1, 1)
H = datetime.timedelta(hours=1)


def use(start_h, end_h, hosts=0, vcpus=0, memory_mb=0):
    return {'start_date': T0 + start_h * H, 'end_date': T0 + end_h * H,
            'hosts': hosts, 'vcpus': vcpus, 'memory_mb': memory_mb}


def test_peak_of_overlapping_uses():
    uses = [use(0, 10, hosts=2), use(5, 15, hosts=3), use(12, 20, hosts=1)]
    assert usage.peak(uses, 'hosts', T0, T0 + 20 * H) == (5, T0 + 5 * H)
    assert usage.peak(uses, 'hosts', T0 + 10 * H, T0 + 20 * H) == (4, T0 + 12 * H)
    assert usage.peak(uses, 'hosts', T0 + 20 * H, T0 + 30 * H) == (0, T0 + 20 * H)
    assert usage.peak([], 'vcpus', T0, T0 + H) == (0, T0)


def test_back_to_back_uses_do_not_overlap():
    uses = [use(0, 5, hosts=2), use(5, 10, hosts=2)]
    assert usage.peak(uses, 'hosts', T0, T0 + 10 * H) == (2, T0)


def test_amount_hours_clips_to_the_window():
    uses = [use(0, 10, hosts=2), use(5, 15, hosts=1)]
    assert usage.amount_hours(uses, 'hosts', T0 + 5 * H, T0 + 10 * H) == 15
    assert usage.amount_hours(uses, 'hosts', T0 - 5 * H, T0 + 30 * H) == 30


def test_busiest_period_prefers_the_latest_of_equally_busy_ones():
    lease = use(100, 102, hosts=2)
    others = [use(10, 11, hosts=2), use(500, 600, hosts=1)]
    start, total = usage.busiest_period(others + [lease], 200 * H, lease['start_date'],
                                        lease['end_date'])
    assert total == 6
    assert start == T0 + 10 * H


def _brute_force(uses, period, lease_start, lease_end):
    best = 0
    start = lease_start - period + usage.MINUTE
    while start < lease_end:
        best = max(best, usage.amount_hours(uses, 'hosts', start, start + period))
        start += usage.MINUTE
    return best


interval = st.tuples(st.integers(0, 48), st.integers(1, 24), st.integers(1, 4))


@settings(max_examples=60, deadline=None)
@given(st.lists(interval, max_size=5), interval, st.integers(1, 12))
def test_busiest_period_is_the_maximum_over_all_periods(others, lease, period_h):
    uses = [use(s, s + d, hosts=n) for s, d, n in others]
    mine = use(lease[0], lease[0] + lease[1], hosts=lease[2])
    period = period_h * H
    _start, total = usage.busiest_period(uses + [mine], period, mine['start_date'],
                                         mine['end_date'])
    # Whole-minute edges: trying every minute finds the true maximum.
    assert total == pytest.approx(_brute_force(uses + [mine], period, mine['start_date'],
                                               mine['end_date']))


def test_reservation_usage_of_hosts_and_instances():
    hosts = {'resource_type': 'physical:host', 'allocations': [
        {'id': '1', 'vcpus': 8, 'memory_mb': 1024}, {'id': '2', 'vcpus': 16,
                                                     'memory_mb': 2048}]}
    assert usage.reservation_usage(hosts) == {'hosts': 2, 'vcpus': 24, 'memory_mb': 3072,
                                              'floatingips': 0}
    instances = {'resource_type': 'virtual:instance', 'amount': 3, 'vcpus': 2,
                 'memory_mb': 4096, 'allocations': [{'id': '1'}] * 3}
    assert usage.reservation_usage(instances) == {'hosts': 0, 'vcpus': 6,
                                                  'memory_mb': 12288, 'floatingips': 0}
    fips = {'resource_type': 'virtual:floatingip', 'amount': 2,
            'allocations': [{'id': 'f1'}, {'id': 'f2'}]}
    assert usage.reservation_usage(fips) == {'hosts': 0, 'vcpus': 0, 'memory_mb': 0,
                                             'floatingips': 2}
    assert usage.reservation_usage({'resource_type': 'other'}) == usage.empty()
    lease = {'reservations': [dict(hosts, usage=usage.reservation_usage(hosts)),
                              instances, fips]}
    assert usage.lease_usage(lease) == {'hosts': 2, 'vcpus': 30, 'memory_mb': 15360,
                                        'floatingips': 2}


@pytest.mark.parametrize('seconds, text', [
    (0, '0 seconds'), (1, '1 second'), (59, '59 seconds'), (60, '1 minute'),
    (3600, '1 hour'), (3660, '1 hour 1 minute'), (86400, '1 day'),
    (2 * 86400 + 7200 + 5, '2 days 2 hours 5 seconds'), (-90, '1 minute 30 seconds'),
])
def test_format_duration(seconds, text):
    assert usage.format_duration(seconds) == text


def test_format_amount():
    assert [usage.format_amount(v) for v in (12, 12.0, 12.5, 0.25, 1 / 3)] == [
        '12', '12', '12.5', '0.25', '0.33']
