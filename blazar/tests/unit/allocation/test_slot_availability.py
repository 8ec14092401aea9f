"""Instance-slot availability agrees with slot selection: on random small
calendars, whatever how many / how long / offerings answer is granted by
:func:`slots.select_slots`, and one more (instance, minute, earlier start)
is refused; the calendar is :func:`slots.max_amount` at every instant."""
import datetime

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar import exceptions
from blazar.allocation import hosts as H
from blazar.allocation import slot_availability as SA
from blazar.allocation import slots as S

T0 = datetime.datetime(2030, 1, 1)
MIN = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
SMALL = {'VCPU': 2, 'MEMORY_MB': 2048}
RACK1 = '["==", "$rack", "1"]'


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


def host(hid, vcpus=8, memory=8192, **attrs):
    return H.Host(hid, attrs, (vcpus,), {'VCPU': vcpus, 'MEMORY_MB': memory})


def granted(cands, held, shape, amount, window, margin, affinity, query):
    try:
        S.select_slots(cands, held, shape, amount, window, margin=margin,
                       affinity=affinity, query=query)
    except exceptions.NotEnoughResources:
        return False
    return True


# --- random calendars in integer minutes --------------------------------------

shapes = st.sampled_from([{'VCPU': 1}, {'VCPU': 2, 'MEMORY_MB': 1024},
                          {'VCPU': 3, 'MEMORY_MB': 4096}, {'MEMORY_MB': 3000}])


@st.composite
def calendars(draw):
    """(candidates, holdings): up to four hosts, each with up to four
    holdings of instances (or whole-host holds) in minutes 0-60."""
    cands, held = [], {}
    for hid in range(draw(st.integers(1, 4))):
        vcpus = draw(st.sampled_from([0, 2, 4, 8]))
        cands.append(H.Host(hid, {'rack': str(draw(st.integers(0, 1)))},
                            (vcpus, hid),
                            {'VCPU': vcpus, 'MEMORY_MB': 8192} if vcpus else {}))
        items = []
        for _ in range(draw(st.integers(0, 4))):
            s = draw(st.integers(0, 60))
            e = s + draw(st.integers(1, 30))
            if draw(st.integers(0, 5)) == 0:
                items.append((s, e, None, 1))
            else:
                per = draw(shapes)
                items.append((s, e, per, draw(st.integers(1, 3))))
        held[hid] = items
    return cands, held


margins = st.sampled_from([None, 0, 2, 5])
affinities = st.sampled_from([None, False, True])
queries = st.sampled_from(['', '', RACK1])
SETTINGS = settings(max_examples=250, deadline=None, derandomize=True)


@SETTINGS
@given(calendars(), shapes, st.integers(0, 70), st.integers(1, 30), margins,
       affinities, queries)
def test_how_many_is_granted_and_one_more_refused(cal, shape, start, length,
                                                  margin, affinity, query):
    cands, held = cal
    window = (start, start + length)
    most = S.max_amount(cands, held, shape, window, margin, affinity, query)
    if most:
        assert granted(cands, held, shape, most, window, margin, affinity, query)
    assert not granted(cands, held, shape, most + 1, window, margin, affinity,
                       query)


@SETTINGS
@given(calendars(), shapes, st.integers(1, 6), st.integers(0, 70), margins,
       affinities, queries, st.sampled_from([None, 40, 200]))
def test_latest_end_is_the_last_granted_end(cal, shape, amount, start, margin,
                                            affinity, query, horizon):
    cands, held = cal
    if horizon is not None and horizon <= start:
        horizon = start + 1

    def ok(end):
        return granted(cands, held, shape, amount, (start, end), margin,
                       affinity, query)

    run = SA.latest_end(cands, held, shape, amount, start, margin, affinity,
                        query, horizon=horizon, granularity=1)
    if run is None:
        assert not ok(start + 1)
        return
    if run.end is None:
        assert horizon is None
        assert ok(10_000)
        assert run.amount == S.max_amount(cands, held, shape, (start, 10_000),
                                          margin, affinity, query)
        return
    assert run.end > start and ok(run.end)
    assert run.amount == S.max_amount(cands, held, shape, (start, run.end),
                                      margin, affinity, query)
    if horizon is None or run.end < horizon:
        assert not ok(run.end + 1)
    else:
        assert run.end == horizon


@SETTINGS
@given(calendars(), shapes, st.integers(1, 6), st.integers(1, 25),
       st.integers(0, 40), st.integers(20, 110), margins, affinities, queries,
       st.integers(1, 4))
def test_offerings_are_granted_and_earliest(cal, shape, amount, duration, f0,
                                            length, margin, affinity, query, k):
    cands, held = cal
    frame = (f0, f0 + length)

    def ok(t):
        return granted(cands, held, shape, amount, (t, t + duration), margin,
                       affinity, query)

    found = SA.find_windows(cands, held, shape, amount, duration, frame, k=k,
                            margin=margin, affinity=affinity, query=query,
                            granularity=1)
    # Brute force: the greedy earliest non-overlapping starts, minute by
    # minute.
    expected = []
    for t in range(frame[0], frame[1] - duration + 1):
        if len(expected) == k:
            break
        if (not expected or t >= expected[-1] + duration) and ok(t):
            expected.append(t)
    assert [w.start for w in found] == expected
    for w in found:
        assert w.end == w.start + duration
        assert w.amount == S.max_amount(cands, held, shape, (w.start, w.end),
                                        margin, affinity, query) >= amount
        assert ok(w.start)
        # One more instance than the window offers is refused.
        assert not granted(cands, held, shape, w.amount + 1, (w.start, w.end),
                           margin, affinity, query)
    if found and found[0].start > frame[0]:
        assert not ok(found[0].start - 1)


@SETTINGS
@given(calendars(), shapes, st.integers(0, 60), st.integers(1, 50), margins,
       affinities, queries)
def test_profile_is_max_amount_at_each_instant(cal, shape, f0, length, margin,
                                               affinity, query):
    cands, held = cal
    frame = (f0, f0 + length)
    prof = SA.free_slot_profile(cands, held, shape, frame, margin, affinity,
                                query, granularity=1)
    assert prof[0][0] == frame[0]
    assert all(a[0] < b[0] and a[1] != b[1] for a, b in zip(prof, prof[1:], strict=False))
    for t in range(*frame):
        level = [n for s, n in prof if s <= t][-1]
        assert level == S.max_amount(cands, held, shape, (t, t + 1), margin,
                                     affinity, query)


# --- examples on datetimes ------------------------------------------------------

CANDS = [host('a', rack='1'), host('b', rack='0')]     # 4 SMALL slots each


def test_latest_end_on_datetimes():
    held = {'a': [(at(2), at(3), SMALL, 3)], 'b': [(at(5), at(6), None, 1)]}
    # Eight slots until a's holding, five until b is taken whole.
    assert SA.latest_end(CANDS, held, SMALL, 8, at(0)) == SA.SlotRun(at(2), 8)
    assert SA.latest_end(CANDS, held, SMALL, 5, at(0)) == SA.SlotRun(at(5), 5)
    # a keeps one slot after its holding, whatever the end.
    assert SA.latest_end(CANDS, held, SMALL, 4, at(0)) == SA.SlotRun(at(5), 5)
    assert SA.latest_end(CANDS, held, SMALL, 1, at(0)) == SA.SlotRun(None, 1)
    assert SA.latest_end(CANDS, held, SMALL, 1, at(0),
                         horizon=at(9)) == SA.SlotRun(at(9), 1)
    assert SA.latest_end(CANDS, held, SMALL, 9, at(0)) is None
    # Cleaning time: a's holding is kept clear 30 minutes before.
    assert SA.latest_end(CANDS, held, SMALL, 8, at(0), margin=30 * MIN) \
        == SA.SlotRun(at(1.5), 8)
    # All on one host, each on a different host, and a property query.
    assert SA.latest_end(CANDS, held, SMALL, 4, at(0), affinity=True) \
        == SA.SlotRun(at(5), 4)
    assert SA.latest_end(CANDS, held, SMALL, 2, at(0), affinity=False) \
        == SA.SlotRun(at(5), 2)
    assert SA.latest_end(CANDS, held, SMALL, 2, at(0), query=RACK1) \
        == SA.SlotRun(at(2), 4)
    assert SA.latest_end(CANDS, held, SMALL, 1, at(3), query=RACK1) \
        == SA.SlotRun(None, 4)


def test_find_windows_on_datetimes():
    held = {'a': [(at(1), at(3), SMALL, 4)], 'b': [(at(2), at(4), SMALL, 2)]}
    found = SA.find_windows(CANDS, held, SMALL, 6, 2 * HOUR, (at(0), at(12)),
                            k=3)
    # From 3 h: a is free again and b keeps two slots.
    assert found == [SA.SlotWindow(at(3), at(5), 6),
                     SA.SlotWindow(at(5), at(7), 8),
                     SA.SlotWindow(at(7), at(9), 8)]
    # With 15 minutes of cleaning the first window starts 15 minutes later.
    found = SA.find_windows(CANDS, held, SMALL, 6, 2 * HOUR, (at(0), at(12)),
                            margin=15 * MIN)
    assert found == [SA.SlotWindow(at(3.25), at(5.25), 6)]
    found = SA.find_windows(CANDS, held, SMALL, 7, 2 * HOUR, (at(0), at(12)))
    assert found == [SA.SlotWindow(at(4), at(6), 8)]
    # Starts are rounded up to the minute.
    found = SA.find_windows(CANDS, {}, SMALL, 1, HOUR,
                            (at(0) + datetime.timedelta(seconds=10), at(3)))
    assert found[0].start == at(0) + MIN
    assert SA.find_windows(CANDS, held, SMALL, 9, HOUR, (at(0), at(12))) == []
    assert SA.find_windows(CANDS, {}, SMALL, 1, 4 * HOUR, (at(0), at(3))) == []


def test_profile_on_datetimes():
    held = {'a': [(at(1), at(3), SMALL, 4)], 'b': [(at(2), at(4), None, 1)]}
    assert SA.free_slot_profile(CANDS, held, SMALL, (at(0), at(6))) == [
        (at(0), 8), (at(1), 4), (at(2), 0), (at(3), 4), (at(4), 8)]
    assert SA.free_slot_profile(CANDS, held, SMALL, (at(0), at(6)),
                                affinity=False) == [
        (at(0), 2), (at(1), 1), (at(2), 0), (at(3), 1), (at(4), 2)]


@pytest.mark.parametrize('call', [
    lambda: SA.latest_end(CANDS, {}, SMALL, 0, at(0)),
    lambda: SA.latest_end(CANDS, {}, {}, 1, at(0)),
    lambda: SA.find_windows(CANDS, {}, SMALL, 1, 0 * HOUR, (at(0), at(1))),
    lambda: SA.find_windows(CANDS, {}, SMALL, 1, HOUR, (at(0), at(1)),
                            affinity='yes'),
    lambda: SA.free_slot_profile(CANDS, {}, SMALL, (at(0), at(1)),
                                 granularity=None),
])
def test_bad_input(call):
    with pytest.raises(exceptions.InvalidInput):
        call()


def test_a_holding_ending_at_the_largest_date_does_not_overflow():
    end_of_time = datetime.datetime(9999, 12, 31, 23, 59)
    far = datetime.datetime(9999, 12, 31, 20, 0)
    held = {'a': [(far, end_of_time, SMALL, 1)]}
    margin = 30 * MIN
    frame = (datetime.datetime(9999, 12, 30), far - HOUR)
    assert SA.find_windows(CANDS, held, SMALL, 8, HOUR, frame, margin=margin)[0] \
        == SA.SlotWindow(frame[0], frame[0] + HOUR, 8)
    assert SA.free_slot_profile(CANDS, held, SMALL, frame, margin) == [(frame[0], 8)]
    # (Up to a horizon before it: slots.fits itself adds the margin to the
    # end of a holding it meets.)
    assert SA.latest_end(CANDS, held, SMALL, 8, frame[0], margin,
                         horizon=frame[1]) == SA.SlotRun(frame[1], 8)
