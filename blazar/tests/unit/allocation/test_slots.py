import datetime

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar import exceptions
from blazar.allocation import hosts as H
from blazar.allocation import slots as S

T0 = datetime.datetime(2030, 1, 1)
HOUR = datetime.timedelta(hours=1)
CAP = {'VCPU': 16, 'MEMORY_MB': 32768, 'DISK_GB': 500}
SMALL = {'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 20}


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


def span(a, b):
    return (at(a), at(b))


def res(a, b, per=SMALL, count=1):
    return (at(a), at(b), per, count)


def host(hid, capacity=CAP, size=(), **attrs):
    return H.Host(hid, attrs, size, capacity)


class TestFits:
    def test_empty_host(self):
        assert S.fits(CAP, [], SMALL, span(0, 1)) == 8

    def test_limited_by_scarcest_resource(self):
        cap = {'VCPU': 64, 'MEMORY_MB': 8192, 'DISK_GB': 1000}
        assert S.fits(cap, [], SMALL, span(0, 1)) == 2

    def test_missing_resource_class_is_zero(self):
        assert S.fits({'VCPU': 8}, [], SMALL, span(0, 1)) == 0
        assert S.fits({'VCPU': 8}, [], {'VCPU': 2, 'DISK_GB': 0},
                      span(0, 1)) == 4

    def test_counts_each_slot(self):
        items = [res(0, 10, count=3)]
        assert S.fits(CAP, items, SMALL, span(0, 1)) == 5

    def test_peak_not_sum(self):
        # Two reservations that never overlap each other use 3 slots at
        # most at any instant.
        items = [res(0, 5, count=3), res(5, 10, count=2)]
        assert S.fits(CAP, items, SMALL, span(0, 10)) == 5
        items = [res(0, 6, count=3), res(5, 10, count=2)]
        assert S.fits(CAP, items, SMALL, span(0, 10)) == 3

    def test_partial_overlap_counts_only_while_overlapping(self):
        items = [res(0, 5, count=8)]
        assert S.fits(CAP, items, SMALL, span(5, 10)) == 8
        assert S.fits(CAP, items, SMALL, span(4, 10)) == 0

    def test_exclusive_reservation(self):
        items = [(at(0), at(5), None, 1)]
        assert S.fits(CAP, items, SMALL, span(4, 6)) == 0
        assert S.fits(CAP, items, SMALL, span(5, 6)) == 8
        assert S.fits(CAP, items, SMALL, span(5, 6), margin=HOUR) == 0

    def test_margin_extends_every_reservation_after_its_end(self):
        # Capacity 2; X [3,3.5) and Y [4,4.5) one slot each; 2 h cleaning.
        # X's slot is cleaned until 5.5, Y's until 6.5, and they cannot
        # share a slot (Y starts 0.5 h after X ends), so nothing fits at
        # [5,6). Upstream's "widen the window" model would count one.
        cap = {'VCPU': 2}
        one = {'VCPU': 1}
        items = [res(3, 3.5, one), res(4, 4.5, one)]
        margin = 2 * HOUR
        assert S.fits(cap, items, one, span(5, 6), margin) == 0
        assert S.fits(cap, items, one, span(5.5, 7), margin) == 1
        assert S.fits(cap, items, one, span(6.5, 7), margin) == 2
        # Before: the new reservation's own cleaning must end before X.
        assert S.fits(cap, items, one, span(0, 1), margin) == 2
        assert S.fits(cap, items, one, span(0, 1.5), margin) == 1

    def test_float_capacity(self):
        cap = {'VCPU': 16 * 1.5, 'MEMORY_MB': 0.3}
        assert S.fits(cap, [], {'VCPU': 2, 'MEMORY_MB': 0.1}, span(0, 1)) == 3
        assert S.fits({'VCPU': 16 * 1.5}, [], {'VCPU': 2}, span(0, 1)) == 12

    def test_overcommitted_host(self):
        items = [res(0, 10, count=20)]
        assert S.fits(CAP, items, SMALL, span(0, 1)) == 0


class TestSelect:
    def test_bad_inputs(self):
        for amount in (0, -1, 1.5, True):
            with pytest.raises(exceptions.InvalidInput):
                S.select_slots([host('a')], {}, SMALL, amount, span(0, 1))
        with pytest.raises(exceptions.InvalidInput):
            S.select_slots([host('a')], {}, SMALL, 1, span(0, 1),
                           affinity='yes')
        for shape in ({}, {'VCPU': 0}, {'VCPU': -1}, {'VCPU': 'x'}, None):
            with pytest.raises(exceptions.InvalidInput):
                S.select_slots([host('a')], {}, shape, 1, span(0, 1))
        with pytest.raises(exceptions.InvalidInput):
            S.select_slots([host('a')], {}, SMALL, 1, span(1, 0))

    def test_pack_prefers_tightest_single_host(self):
        hosts = [host('big'), host('tight'), host('other')]
        resv = {'tight': [res(0, 10, count=5)], 'other': [res(0, 10,
                                                               count=2)]}
        assert S.select_slots(hosts, resv, SMALL, 3, span(0, 1)) == {
            'tight': 3}
        assert S.select_slots(hosts, resv, SMALL, 4, span(0, 1)) == {
            'other': 4}

    def test_pack_fewest_hosts(self):
        caps = {'a': 2, 'b': 5, 'c': 3, 'd': 1}
        hosts = [host(h, {'VCPU': n}) for h, n in caps.items()]
        got = S.select_slots(hosts, {}, {'VCPU': 1}, 7, span(0, 1))
        assert got == {'b': 5, 'a': 2}
        got = S.select_slots(hosts, {}, {'VCPU': 1}, 9, span(0, 1))
        assert got == {'b': 5, 'c': 3, 'd': 1}

    def test_anti_affinity(self):
        hosts = [host('a'), host('b'), host('c')]
        resv = {'b': [res(0, 10, count=7)]}
        got = S.select_slots(hosts, resv, SMALL, 2, span(0, 1),
                             affinity=False)
        assert got == {'b': 1, 'a': 1}
        with pytest.raises(exceptions.NotEnoughResources) as info:
            S.select_slots(hosts, resv, SMALL, 4, span(0, 1), affinity=False)
        assert 'each on a different host' in str(info.value)

    def test_affinity(self):
        hosts = [host('a'), host('b')]
        resv = {'b': [res(0, 10, count=5)]}
        assert S.select_slots(hosts, resv, SMALL, 3, span(0, 1),
                              affinity=True) == {'b': 3}
        assert S.select_slots(hosts, resv, SMALL, 4, span(0, 1),
                              affinity=True) == {'a': 4}
        with pytest.raises(exceptions.NotEnoughResources) as info:
            S.select_slots(hosts, resv, SMALL, 9, span(0, 1), affinity=True)
        msg = str(info.value)
        assert 'all on one host' in msg
        assert 'at most 8 on one host' in msg

    def test_size_then_id_tiebreak(self):
        hosts = [host('z', size=(1,)), host('b', size=(2,)),
                 host('a', size=(2,))]
        assert S.select_slots(hosts, {}, SMALL, 1, span(0, 1)) == {'z': 1}
        hosts = [host('b'), host('a')]
        assert S.select_slots(hosts, {}, SMALL, 1, span(0, 1)) == {'a': 1}

    def test_query_and_hosts_without_capacity(self):
        hosts = [host('a', gpu='yes'), host('b'), H.Host('c', {'gpu': 'yes'})]
        got = S.select_slots(hosts, {}, SMALL, 2, span(0, 1),
                             query=['==', '$gpu', 'yes'])
        assert got == {'a': 2}

    def test_shortfall_message(self):
        hosts = [host('a'), host('b', gpu='yes')]
        with pytest.raises(exceptions.NotEnoughResources) as info:
            S.select_slots(hosts, {'b': [res(0, 10, count=6)]}, SMALL, 3,
                           span(0, 1), query=['==', '$gpu', 'yes'],
                           margin=HOUR)
        msg = str(info.value)
        assert info.value.code == 409
        assert 'asked for 3 instance(s)' in msg
        assert '2 reservable host(s), 1 match the properties, 1 of those ' \
            'have room, for 2 instance(s) in all' in msg
        assert 'cleaning time' in msg

    def test_update_keeps_current(self):
        hosts = [host('a'), host('b')]
        got = S.select_slots(hosts, {}, SMALL, 3, span(0, 1),
                             current={'b': 2})
        assert got == {'b': 3}
        got = S.select_slots(hosts, {}, SMALL, 2, span(0, 1),
                             current=['b', 'b'], affinity=False)
        assert got == {'b': 1, 'a': 1}

    def test_update_grows_on_current_then_elsewhere(self):
        hosts = [host('a'), host('b'), host('c')]
        resv = {'b': [res(0, 10, count=6)]}
        got = S.select_slots(hosts, resv, SMALL, 5, span(0, 1),
                             current={'b': 1})
        assert got == {'b': 2, 'a': 3}

    def test_update_shrinks(self):
        hosts = [host('a'), host('b')]
        got = S.select_slots(hosts, {}, SMALL, 3, span(0, 1),
                             current={'a': 1, 'b': 4})
        assert got == {'b': 3}
        with pytest.raises(exceptions.NotEnoughResources) as info:
            S.select_slots(hosts, {}, SMALL, 3, span(0, 1),
                           current={'a': 1, 'b': 4}, allow_drop=False)
        assert 'cannot lose slots' in str(info.value)

    def test_update_moves_off_busy_host(self):
        hosts = [host('a'), host('b')]
        resv = {'a': [res(0, 10, count=7)]}
        got = S.select_slots(hosts, resv, SMALL, 2, span(0, 1),
                             current={'a': 2})
        assert got == {'a': 1, 'b': 1}
        with pytest.raises(exceptions.NotEnoughResources):
            S.select_slots(hosts, resv, SMALL, 2, span(0, 1),
                           current={'a': 2}, allow_drop=False)

    def test_update_affinity(self):
        hosts = [host('a'), host('b')]
        assert S.select_slots(hosts, {}, SMALL, 4, span(0, 1), affinity=True,
                              current={'b': 2}) == {'b': 4}
        resv = {'b': [res(0, 10, count=5)]}
        assert S.select_slots(hosts, resv, SMALL, 4, span(0, 1),
                              affinity=True, current={'b': 2}) == {'a': 4}
        with pytest.raises(exceptions.NotEnoughResources):
            S.select_slots(hosts, resv, SMALL, 4, span(0, 1), affinity=True,
                           current={'b': 2}, allow_drop=False)
        assert S.select_slots(hosts, {}, SMALL, 4, span(0, 1), affinity=True,
                              current={'b': 2}, allow_drop=False) == {'b': 4}


class TestMaxAmount:
    def test_max_amount(self):
        hosts = [host('a'), host('b'), host('c', {'VCPU': 0})]
        resv = {'b': [res(0, 10, count=5)]}
        w = span(0, 1)
        assert S.max_amount(hosts, resv, SMALL, w) == 11
        assert S.max_amount(hosts, resv, SMALL, w, affinity=True) == 8
        assert S.max_amount(hosts, resv, SMALL, w, affinity=False) == 2
        assert S.host_slots(hosts, resv, SMALL, w) == {'a': 8, 'b': 3}


# --- property-based ------------------------------------------------------

RCS = ('VCPU', 'MEMORY_MB')
per_instance = st.fixed_dictionaries(
    {rc: st.integers(min_value=0, max_value=3) for rc in RCS})
items = st.lists(st.tuples(st.integers(0, 24), st.integers(1, 8),
                           st.one_of(st.none(), per_instance),
                           st.integers(1, 3)), max_size=5)
shapes = st.fixed_dictionaries(
    {'VCPU': st.integers(1, 3), 'MEMORY_MB': st.integers(0, 2)})
capacities = st.fixed_dictionaries(
    {rc: st.integers(min_value=0, max_value=12) for rc in RCS})


def brute_fits(cap, raw, shape, ws, we, margin):
    """Hour by hour: every reservation holds [s, e + margin)."""
    for s, length, per, _count in raw:
        if per is None and s < we + margin and s + length + margin > ws:
            return 0
    n = 0
    while n < 100:
        for t in range(ws, we + margin):
            for rc, need in shape.items():
                if not need:
                    continue  # a class the shape does not use never blocks
                used = sum(per.get(rc, 0) * count
                           for s, length, per, count in raw
                           if per is not None and
                           s <= t < s + length + margin)
                if used + (n + 1) * need > cap.get(rc, 0):
                    return n
        n += 1
    return n


def to_items(raw):
    return [(at(s), at(s + length), per, count)
            for s, length, per, count in raw]


@settings(max_examples=200, deadline=None)
@given(capacities, items, shapes, st.integers(0, 24), st.integers(1, 6),
       st.integers(0, 3))
def test_fits_brute_force(cap, raw, shape, start, length, margin_h):
    margin = datetime.timedelta(hours=margin_h) if margin_h else None
    got = S.fits(cap, to_items(raw), shape, span(start, start + length),
                 margin)
    assert got == brute_fits(cap, raw, shape, start, start + length,
                             margin_h)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from('abcde'),
                       st.tuples(capacities, items), min_size=1),
       shapes, st.integers(1, 12), st.sampled_from([None, True, False]),
       st.integers(0, 24), st.integers(1, 6))
def test_select_respects_capacity_and_affinity(data, shape, amount, affinity,
                                               start, length):
    hosts = [host(h, cap) for h, (cap, _) in data.items()]
    resv = {h: to_items(raw) for h, (_, raw) in data.items()}
    window = span(start, start + length)
    fit = {h: S.fits(cap, resv[h], shape, window)
           for h, (cap, _) in data.items()}
    best = S.max_amount(hosts, resv, shape, window, affinity=affinity)
    try:
        got = S.select_slots(hosts, resv, shape, amount, window,
                             affinity=affinity)
    except exceptions.NotEnoughResources:
        assert best < amount
        return
    assert best >= amount
    assert sum(got.values()) == amount
    assert all(0 < n <= fit[h] for h, n in got.items())
    if affinity is True:
        assert len(got) == 1
    elif affinity is False:
        assert set(got.values()) == {1}
    else:
        # Packing: no fewer hosts could hold the amount.
        top = sorted(fit.values(), reverse=True)
        fewest = next(k for k in range(1, len(top) + 1)
                      if sum(top[:k]) >= amount)
        assert len(got) == fewest


def test_a_holding_ending_at_the_last_date_with_cleaning_time_does_not_overflow():
    import datetime as dt
    last = dt.datetime(9999, 12, 31, 23, 59)
    start = dt.datetime(9999, 12, 1)
    window = (start, last)
    held = [(start, last, {'VCPU': 2}, 1)]
    assert S.fits({'VCPU': 4}, held, {'VCPU': 1}, window,
                      margin=dt.timedelta(hours=1)) == 2
