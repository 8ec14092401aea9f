import datetime
from unittest import mock

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar import exceptions
from blazar.allocation import availability as A
from blazar.allocation import hosts as H
from blazar.allocation import slots as S
from blazar.allocation import windows as W

T0 = datetime.datetime(2030, 1, 1)
MIN = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


def span(a, b):
    return (at(a), at(b))


BUSY = {
    'a': [span(0, 10), span(20, 30)],
    'b': [span(5, 15)],
    'c': [],
}


class TestProfile:
    def test_free_count_profile(self):
        assert A.free_count_profile(BUSY, span(0, 40)) == [
            (at(0), 2), (at(5), 1), (at(10), 2), (at(15), 3), (at(20), 2),
            (at(30), 3)]

    def test_with_margin_and_extra_hosts(self):
        prof = A.free_count_profile(BUSY, span(0, 40), margin=HOUR,
                                    hosts=['a', 'b', 'c', 'd'])
        assert prof == [(at(0), 3), (at(4), 2), (at(11), 3), (at(16), 4),
                        (at(19), 3), (at(31), 4)]

    def test_hosts_restricts(self):
        assert A.free_count_profile(BUSY, span(0, 40), hosts=['b']) == [
            (at(0), 1), (at(5), 0), (at(15), 1)]

    def test_overlapping_intervals_of_one_host_count_once(self):
        busy = {'a': [span(0, 10), span(5, 15)], 'b': []}
        assert A.free_count_profile(busy, span(0, 20)) == [
            (at(0), 1), (at(15), 2)]


class TestCounts:
    def test_max_free_count(self):
        assert A.max_free_count(BUSY, span(10, 20)) == 2
        assert A.max_free_count(BUSY, span(15, 20)) == 3
        assert A.max_free_count(BUSY, span(15, 20), HOUR) == 1
        assert A.max_free_count(BUSY, span(15, 20), hosts=['a', 'z']) == 2

    def test_free_hosts_order(self):
        assert A.free_hosts(BUSY, span(10, 20)) == ['a', 'c']


class TestLongestRun:
    def test_run(self):
        assert A.longest_free_run(BUSY, at(10), 2, horizon=at(100)) == A.Run(
            at(20), frozenset({'a', 'c'}))
        assert A.longest_free_run(BUSY, at(10), 1, horizon=at(100)) == A.Run(
            at(100), frozenset({'c'}))
        assert A.longest_free_run(BUSY, at(10), 3, horizon=at(100)) is None
        assert A.longest_free_run(BUSY, at(15), 3, horizon=at(100)) == A.Run(
            at(20), frozenset({'a', 'b', 'c'}))

    def test_margin(self):
        assert A.longest_free_run(BUSY, at(10), 2, HOUR, at(100)) is None
        run = A.longest_free_run(BUSY, at(16), 2, HOUR, at(100))
        assert run == A.Run(at(100), frozenset({'b', 'c'}))
        run = A.longest_free_run(BUSY, at(16), 3, HOUR, at(100))
        assert run == A.Run(at(19), frozenset({'a', 'b', 'c'}))

    def test_horizon_and_granularity(self):
        busy = {'a': [(at(1) + datetime.timedelta(seconds=30), at(2))]}
        run = A.longest_free_run(busy, at(0), 1, horizon=at(5))
        assert run.end == at(1)
        assert A.longest_free_run(busy, at(0), 1, horizon=at(0)) is None
        run = A.longest_free_run(busy, at(0), 1, horizon=at(5),
                                 granularity=None)
        assert run.end == at(1) + datetime.timedelta(seconds=30)

    def test_bad_count(self):
        with pytest.raises(exceptions.InvalidInput):
            A.longest_free_run(BUSY, at(0), 0, horizon=at(5))

    def test_no_horizon(self):
        assert A.longest_free_run(BUSY, at(10), 1) == A.Run(
            None, frozenset({'c'}))
        assert A.longest_free_run(BUSY, at(30), 3) == A.Run(
            None, frozenset({'a', 'b', 'c'}))
        assert A.longest_free_run(BUSY, at(15), 3) == A.Run(
            at(20), frozenset({'a', 'b', 'c'}))
        assert A.longest_free_run(BUSY, at(15), 2) == A.Run(
            None, frozenset({'b', 'c'}))


class TestFindWindows:
    def test_earliest(self):
        got = A.find_windows(BUSY, 2, 5 * HOUR, span(0, 40), k=3)
        assert [(w.start, w.end, w.hosts) for w in got] == [
            (at(0), at(5), {'b', 'c'}), (at(10), at(15), {'a', 'c'}),
            (at(15), at(20), {'a', 'b', 'c'})]
        got = A.find_windows(BUSY, 3, 5 * HOUR, span(0, 40), k=3)
        assert [w.start for w in got] == [at(15), at(30), at(35)]

    def test_overlapping(self):
        got = A.find_windows(BUSY, 2, 5 * HOUR, span(0, 40), k=3,
                             overlapping=True)
        assert [w.start for w in got] == [at(0), at(10), at(15)]
        got = A.find_windows(BUSY, 1, 5 * HOUR, span(0, 40), k=4,
                             overlapping=True)
        assert [w.start for w in got] == [at(0), at(10), at(15), at(30)]

    def test_margin(self):
        got = A.find_windows(BUSY, 2, 3 * HOUR, span(0, 40), k=2,
                             margin=HOUR)
        assert [(w.start, w.hosts) for w in got] == [
            (at(0), {'b', 'c'}), (at(11), {'a', 'c'})]

    def test_frame_limits(self):
        assert A.find_windows(BUSY, 3, 5 * HOUR, span(30, 34)) == []
        got = A.find_windows(BUSY, 3, 4 * HOUR, span(30, 34))
        assert [(w.start, w.end) for w in got] == [span(30, 34)]

    def test_minute_grid(self):
        busy = {'a': [(at(0), at(1) + datetime.timedelta(seconds=10))]}
        got = A.find_windows(busy, 1, HOUR, span(0, 5))
        assert got[0].start == at(1) + MIN
        got = A.find_windows(busy, 1, HOUR, span(0, 5), granularity=None)
        assert got[0].start == at(1) + datetime.timedelta(seconds=10)
        frame = (at(2) + datetime.timedelta(seconds=1), at(5))
        assert A.find_windows(busy, 1, HOUR, frame)[0].start == at(2) + MIN

    def test_none_when_impossible(self):
        assert A.find_windows(BUSY, 4, HOUR, span(0, 40)) == []
        assert A.find_windows({}, 1, HOUR, span(0, 40)) == []

    def test_bad_input(self):
        with pytest.raises(exceptions.InvalidInput):
            A.find_windows(BUSY, 0, HOUR, span(0, 4))
        with pytest.raises(exceptions.InvalidInput):
            A.find_windows(BUSY, 1, HOUR, span(0, 4), k=0)
        with pytest.raises(exceptions.InvalidInput):
            A.find_windows(BUSY, 1, HOUR * 0, span(0, 4))

    @pytest.mark.parametrize('share,least', [(0.125, 64), (0, 0), (0, 1)])
    def test_every_sweep(self, share, least):
        busy = {'a': [span(0, 10), span(15, 20)],   # exact fit at [10, 15)
                'b': [span(0, 10), span(16, 20)],
                'c': [span(0, 12)]}
        with mock.patch.multiple(A, _HEAP_SHARE=share, _HEAP_MIN=least):
            got = A.find_windows(busy, 2, 5 * HOUR, span(0, 40), k=3)
            assert [(w.start, w.hosts) for w in got] == [
                (at(10), {'a', 'b'}), (at(20), {'a', 'b', 'c'}),
                (at(25), {'a', 'b', 'c'})]
            got = A.find_windows(busy, 2, 5 * HOUR, span(0, 40), k=3,
                                 overlapping=True)
            # 12:00 is a candidate (c frees up) but b's run ended at 11:00.
            assert [(w.start, w.hosts) for w in got] == [
                (at(10), {'a', 'b'}), (at(20), {'a', 'b', 'c'})]
            got = A.find_windows(BUSY, 2, 5 * HOUR, span(0, 40), k=3)
            assert [w.start for w in got] == [at(0), at(10), at(15)]
            assert A.find_windows(busy, 3, 30 * HOUR, span(0, 40)) == []

    def test_max_amount_reexported(self):
        assert A.max_amount is S.max_amount


# --- property-based ------------------------------------------------------

HOSTS = ['h%d' % i for i in range(5)]
SEC = datetime.timedelta(seconds=1)


def when(minutes, seconds=0):
    return T0 + datetime.timedelta(minutes=minutes, seconds=seconds)


# Times in minutes, some with a 30 s offset to exercise the minute grid.
instants = st.tuples(st.integers(0, 90), st.sampled_from([0, 0, 0, 30]))
calendars = st.dictionaries(
    st.sampled_from(HOSTS),
    st.lists(st.tuples(instants, st.integers(1, 40)).map(
        lambda p: (when(*p[0]), when(*p[0]) + p[1] * MIN)), max_size=4),
    max_size=5)
margins = st.sampled_from([None, 0, 1, 5]).map(
    lambda m: None if m is None else m * MIN)


def free_for(busy, window, margin):
    """Independent brute force: widen every busy interval, test overlap."""
    return sorted(h for h in HOSTS
                  if not any(W.overlaps(W.widen(b, margin), window)
                             for b in busy.get(h, ()) if b[0] < b[1]))


# (_HEAP_SHARE, _HEAP_MIN): default lazy heaps, sorted only, and heaps
# giving up after two pops (restart on sorted lists).
SWEEPS = st.sampled_from([(0.125, 64), (0, 0), (0, 2)])


@settings(max_examples=200, deadline=None)
@given(calendars, st.integers(1, 4), st.integers(1, 30), st.integers(0, 20),
       st.integers(40, 140), st.sampled_from([0, 20]), margins,
       st.integers(1, 4), SWEEPS)
def test_find_windows_brute(busy, count, duration, f0, f1, frame_sec, margin,
                            k, sweep):
    frame = (when(f0, frame_sec), when(f1))
    d = duration * MIN
    with mock.patch.multiple(A, _HEAP_SHARE=sweep[0], _HEAP_MIN=sweep[1]):
        got = A.find_windows(busy, count, d, frame, k=k, margin=margin,
                             hosts=HOSTS)
    grid = []
    t = W.ceil_to(frame[0], MIN)
    while t + d <= frame[1]:
        grid.append(t)
        t += MIN
    feasible = [t for t in grid
                if len(free_for(busy, (t, t + d), margin)) >= count]
    # Greedy non-overlapping earliest windows, minute by minute.
    expected = []
    for t in feasible:
        if len(expected) == k:
            break
        if not expected or t >= expected[-1] + d:
            expected.append(t)
    assert [w.start for w in got] == expected
    for w in got:
        assert w.end - w.start == d
        assert sorted(w.hosts) == free_for(busy, (w.start, w.end), margin)
        # The selector accepts the window with exactly those hosts.
        chosen = H.select_hosts(HOSTS, busy, (w.start, w.end), count, count,
                                margin=margin)
        assert set(chosen) <= w.hosts


@settings(max_examples=100, deadline=None)
@given(calendars, st.integers(1, 3), st.integers(1, 30), margins, SWEEPS)
def test_find_windows_overlapping_candidates(busy, count, duration, margin,
                                             sweep):
    frame = (when(0), when(150))
    d = duration * MIN
    with mock.patch.multiple(A, _HEAP_SHARE=sweep[0], _HEAP_MIN=sweep[1]):
        got = A.find_windows(busy, count, d, frame, k=50, margin=margin,
                             hosts=HOSTS, overlapping=True)
    # Candidates: the frame start and every instant a host becomes free for
    # at least the duration.
    candidates = sorted({frame[0]} | {
        W.ceil_to(a, MIN)
        for ivs in busy.values()
        for a, b in W.free_periods([W.widen(iv, margin) for iv in ivs
                                    if iv[0] < iv[1]], frame)
        if W.ceil_to(a, MIN) + d <= b})
    expected = [t for t in candidates
                if len(free_for(busy, (t, t + d), margin)) >= count]
    assert [w.start for w in got] == expected


@settings(max_examples=150, deadline=None)
@given(calendars, instants, st.integers(1, 4), st.integers(30, 200),
       margins)
def test_longest_free_run_brute(busy, start, count, horizon_min, margin):
    start = when(*start)
    horizon = when(horizon_min)
    run = A.longest_free_run(busy, start, count, margin, horizon,
                             hosts=HOSTS)
    ends = []
    t = W.floor_to(horizon, MIN)
    while t > start:
        ends.append(t)
        t -= MIN
    best = next((e for e in ends
                 if len(free_for(busy, (start, e), margin)) >= count), None)
    if best is None:
        assert run is None
        return
    assert run.end == best
    assert sorted(run.hosts) == free_for(busy, (start, best), margin)
    H.select_hosts(HOSTS, busy, (start, run.end), count, count,
                   margin=margin)


@settings(max_examples=150, deadline=None)
@given(calendars, margins, st.integers(0, 60), st.integers(1, 60))
def test_profile_and_count_brute(busy, margin, f0, length):
    frame = (when(f0), when(f0 + length))
    prof = A.free_count_profile(busy, frame, margin, hosts=HOSTS)
    assert prof[0][0] == frame[0]
    assert all(a[0] < b[0] and a[1] != b[1] for a, b in zip(prof, prof[1:], strict=False))
    assert all(frame[0] <= t < frame[1] for t, _ in prof)
    # Check at every half minute (busy times have 30 s offsets).
    t = frame[0]
    while t < frame[1]:
        level = [lv for s, lv in prof if s <= t][-1]
        assert level == len(free_for(busy, (t, t + 30 * SEC), margin))
        t += 30 * SEC
    # A window's free count never exceeds the profile's minimum over it.
    window = frame
    n = A.max_free_count(busy, window, margin, hosts=HOSTS)
    assert n == len(free_for(busy, window, margin))
    assert n <= min(lv for s, lv in prof)
