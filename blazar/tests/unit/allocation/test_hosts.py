import datetime
import random

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar import exceptions
from blazar.allocation import hosts as H
from blazar.allocation import windows as W

T0 = datetime.datetime(2030, 1, 1)
HOUR = datetime.timedelta(hours=1)


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


def span(a, b):
    return (at(a), at(b))


def select(candidates, busy, window, lo=1, hi=None, **kw):
    return H.select_hosts(candidates, busy, window, lo,
                          lo if hi is None else hi, **kw)


class TestBasics:
    def test_picks_free_hosts_only(self):
        busy = {'a': [span(0, 10)], 'b': [span(20, 30)], 'c': []}
        assert sorted(select('abc', busy, span(5, 25), 1, 3)) == ['c']
        assert sorted(select('abc', busy, span(5, 15), 1, 3)) == ['b', 'c']
        assert sorted(select('abc', busy, span(10, 20), 1, 3)) == [
            'a', 'b', 'c']

    def test_back_to_back(self):
        busy = {'a': [span(0, 10)]}
        assert select(['a'], busy, span(10, 20)) == ['a']
        assert select(['a'], busy, span(-5, 0)) == ['a']

    def test_margin_both_sides(self):
        busy = {'a': [span(10, 20)]}
        for window in (span(20, 25), span(5, 10), span(20.5, 25)):
            with pytest.raises(exceptions.NotEnoughHostsAvailable):
                select(['a'], busy, window, margin=HOUR)
        assert select(['a'], busy, span(21, 25), margin=HOUR) == ['a']
        assert select(['a'], busy, span(0, 9), margin=HOUR) == ['a']

    def test_returns_up_to_max(self):
        hosts = ['h%d' % i for i in range(10)]
        assert len(select(hosts, {}, span(0, 1), 2, 5)) == 5
        assert len(select(hosts, {}, span(0, 1), 2, 50)) == 10

    def test_hosts_absent_from_busy_are_idle(self):
        assert select(['x'], {}, span(0, 1)) == ['x']

    def test_min_zero(self):
        assert select(['a'], {'a': [span(0, 2)]}, span(0, 1), 0, 1) == []

    def test_bad_range(self):
        for lo, hi in ((2, 1), (-1, 1), (0, 0), (1.5, 2), (True, 2)):
            with pytest.raises(exceptions.InvalidRange):
                H.select_hosts(['a'], {}, span(0, 1), lo, hi)

    def test_bad_window(self):
        with pytest.raises(exceptions.InvalidInput):
            select(['a'], {}, span(1, 1))

    def test_not_enough_message(self):
        busy = {'a': [span(0, 10)], 'b': [], 'c': []}
        cands = [H.Host('a', {'vcpus': 8}), H.Host('b', {'vcpus': 8}),
                 H.Host('c', {'vcpus': 2})]
        with pytest.raises(exceptions.NotEnoughHostsAvailable) as info:
            select(cands, busy, span(5, 6), 2, 3,
                   query='[">=", "$vcpus", "4"]', margin=HOUR)
        msg = str(info.value)
        assert info.value.code == 409
        assert 'asked for 2 to 3 host(s)' in msg
        assert '3 reservable host(s), 2 match the properties, 1 of those ' \
            'free from 2030-01-01 05:00:00 to 2030-01-01 06:00:00' in msg
        assert 'cleaning time' in msg

    def test_query_filters(self):
        cands = [H.Host('a', {'gpu': 'true'}), H.Host('b', {}),
                 H.Host('c', {'gpu': 'false'})]
        assert select(cands, {}, span(0, 1), 1, 3,
                      query='["==", "$gpu", true]') == ['a']
        assert sorted(select(cands, {}, span(0, 1), 1, 3,
                             query=['not', ['==', '$gpu', True]])) == [
            'b', 'c']

    def test_malformed_query(self):
        with pytest.raises(exceptions.MalformedRequirements):
            select(['a'], {}, span(0, 1), query='["=>", "$a", 1]')

    def test_empty_busy_interval_ignored(self):
        assert select(['a'], {'a': [span(5, 5)]}, span(4, 6),
                      margin=HOUR) == ['a']


class TestPolicy:
    def test_best_fit_in_time(self):
        busy = {
            'idle': [],
            'snug': [span(0, 10), span(12, 20)],      # gaps 0 and 0
            'loose': [span(0, 5), span(20, 30)],      # gaps 5 and 8
            'open_after': [span(0, 10)],              # one unbounded side
        }
        order = select(list(busy), busy, span(10, 12), 4, 4)
        assert order == ['snug', 'loose', 'open_after', 'idle']

    def test_best_fit_counts_margin(self):
        busy = {'a': [span(0, 8)], 'b': [span(0, 9)]}
        # With a 1 h margin, b's gap before 10:00 is 0, a's is 1 h.
        assert select('ab', busy, span(10, 12), 1, 1, margin=HOUR) == ['b']

    def test_now_bounds_the_past(self):
        busy = {'past': [span(-100, -50)], 'idle': [],
                'recent': [span(0, 3)]}
        # Without now, 'idle' has an unbounded past; with now every host's
        # past is bounded by now, so 'idle' and 'past' tie on time (3 h
        # before the window) and the id decides.
        assert select(list(busy), busy, span(5, 6), 3, 3) == [
            'recent', 'past', 'idle']
        assert select(list(busy), busy, span(5, 6), 3, 3, now=at(2)) == [
            'recent', 'idle', 'past']

    def test_smaller_hosts_first(self):
        cands = [H.Host('big', size=(64,)), H.Host('small', size=(8,)),
                 H.Host('mid', size=(32,))]
        assert select(cands, {}, span(0, 1), 3, 3) == ['small', 'mid', 'big']
        assert select(cands, {}, span(0, 1), 1, 1) == ['small']

    def test_time_fit_beats_size(self):
        cands = [H.Host('big', size=(64,)), H.Host('small', size=(8,))]
        busy = {'big': [span(1, 2)]}
        assert select(cands, busy, span(0, 1), 1, 1) == ['big']

    def test_id_tiebreak_and_input_order_irrelevant(self):
        hosts = ['h%02d' % i for i in range(20)]
        shuffled = hosts[:]
        random.Random(1).shuffle(shuffled)
        assert select(shuffled, {}, span(0, 1), 5, 5) == hosts[:5]

    def test_randomize_is_seeded(self):
        hosts = ['h%02d' % i for i in range(50)]
        a = select(hosts, {}, span(0, 1), 5, 5, rng=random.Random(7))
        b = select(list(reversed(hosts)), {}, span(0, 1), 5, 5,
                   rng=random.Random(7))
        c = select(hosts, {}, span(0, 1), 5, 5, rng=random.Random(8))
        assert a == b
        assert a != c
        assert a != hosts[:5]

    def test_randomize_keeps_best_fit(self):
        busy = {'snug': [span(0, 1), span(2, 3)]}
        hosts = ['snug'] + ['h%02d' % i for i in range(30)]
        for seed in range(5):
            assert select(hosts, busy, span(1, 2), 1, 1,
                          rng=random.Random(seed)) == ['snug']


class TestUpdate:
    def test_keeps_current_hosts(self):
        hosts = ['a', 'b', 'c', 'd']
        assert select(hosts, {}, span(0, 1), 2, 2, current=['c', 'd']) == [
            'c', 'd']

    def test_replaces_busy_host(self):
        busy = {'c': [span(0, 1)]}
        got = select('abcd', busy, span(0, 1), 2, 2, current=['c', 'd'])
        assert got == ['d', 'a']

    def test_drops_host_no_longer_matching(self):
        cands = [H.Host('a', {'az': 'x'}), H.Host('b', {'az': 'y'}),
                 H.Host('c', {'az': 'x'})]
        got = select(cands, {}, span(0, 1), 2, 2, current=['a', 'b'],
                     query=['==', '$az', 'x'])
        assert got == ['a', 'c']

    def test_shrinks_to_max_keeping_best(self):
        busy = {'a': [span(1, 2)]}
        got = select('abc', busy, span(0, 1), 1, 1, current=['c', 'a'])
        assert got == ['a']

    def test_grows_to_max(self):
        got = select('abcd', {}, span(0, 1), 1, 3, current=['d'])
        assert got == ['d', 'a', 'b']

    def test_active_cannot_drop(self):
        busy = {'c': [span(0, 1)]}
        with pytest.raises(exceptions.NotEnoughHostsAvailable) as info:
            select('abcd', busy, span(0, 1), 2, 2, current=['c', 'd'],
                   allow_drop=False)
        assert 'c is not free' in str(info.value)
        with pytest.raises(exceptions.NotEnoughHostsAvailable) as info:
            select('abcd', {}, span(0, 1), 1, 1, current=['c', 'd'],
                   allow_drop=False)
        assert 'exceeds the maximum' in str(info.value)
        with pytest.raises(exceptions.NotEnoughHostsAvailable) as info:
            select('ab', {}, span(0, 1), 1, 1, current=['z'],
                   allow_drop=False)
        assert 'no longer reservable' in str(info.value)
        # Growing is fine.
        assert select('abcd', {}, span(0, 1), 3, 3, current=['c', 'd'],
                      allow_drop=False) == ['c', 'd', 'a']

    def test_shortfall_mentions_kept(self):
        busy = {'a': [span(0, 1)], 'b': [span(0, 1)]}
        with pytest.raises(exceptions.NotEnoughHostsAvailable) as info:
            select('abc', busy, span(0, 1), 2, 2, current=['a', 'c'])
        assert '1 of the 2 host(s) already allocated can be kept' in str(
            info.value)


class TestFreeHosts:
    def test_free_hosts(self):
        busy = {'a': [span(0, 1)], 'b': []}
        assert H.free_hosts(busy, ['a', 'b', 'c'], span(0, 1)) == ['b', 'c']
        assert H.free_hosts(busy, ['a', 'b'], span(1.5, 3), HOUR) == ['b']
        assert H.free_hosts(busy, ['a', 'b'], span(2, 3), HOUR) == ['a', 'b']


# --- property-based ------------------------------------------------------

hours = st.integers(min_value=0, max_value=48)
calendars = st.dictionaries(
    st.sampled_from(['h%d' % i for i in range(8)]),
    st.lists(st.tuples(hours, st.integers(min_value=1, max_value=12)).map(
        lambda p: span(p[0], p[0] + p[1])), max_size=5),
    max_size=8)


@settings(max_examples=200, deadline=None)
@given(calendars, hours, st.integers(min_value=1, max_value=10),
       st.integers(min_value=0, max_value=4), st.integers(0, 3),
       st.integers(0, 3), st.lists(st.sampled_from(
           ['h%d' % i for i in range(8)]), max_size=4), st.booleans())
def test_selection_never_returns_busy_host(busy, start, length, margin_h, lo,
                                           extra, current, seeded):
    hosts = ['h%d' % i for i in range(8)]
    window = span(start, start + length)
    margin = datetime.timedelta(hours=margin_h) if margin_h else None
    free = [h for h in hosts if all(
        not W.overlaps(W.widen(b, margin), window) for b in busy.get(h, ()))]
    hi = max(lo + extra, 1)
    rng = random.Random(3) if seeded else None
    try:
        got = H.select_hosts(hosts, busy, window, lo, hi, margin=margin,
                             current=current, rng=rng)
    except exceptions.NotEnoughHostsAvailable:
        assert len(free) < lo
        return
    assert len(got) == len(set(got)) == min(hi, len(free))
    assert set(got) <= set(free)
    kept = [h for h in dict.fromkeys(current) if h in free]
    assert set(kept[:hi]) <= set(got) or len(kept) > hi
    assert len(set(got) & set(kept)) == min(len(kept), hi)
