import datetime

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from blazar.allocation import windows as W

T0 = datetime.datetime(2030, 1, 1)
MIN = datetime.timedelta(minutes=1)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def span(a, b):
    return (at(a), at(b))


# Small calendars in whole minutes; brute force walks every minute.
minute = st.integers(min_value=0, max_value=60)
interval = st.tuples(minute, minute)
FAST = settings(max_examples=150, deadline=None)


class TestOverlaps:
    def test_half_open(self):
        assert not W.overlaps(span(0, 10), span(10, 20))
        assert not W.overlaps(span(10, 20), span(0, 10))
        assert W.overlaps(span(0, 11), span(10, 20))
        assert W.overlaps(span(0, 30), span(10, 20))
        assert W.overlaps(span(10, 20), span(0, 30))

    def test_empty_never_overlaps(self):
        assert not W.overlaps(span(5, 5), span(0, 10))
        assert not W.overlaps(span(0, 10), span(7, 3))

    @FAST
    @given(interval, interval)
    def test_symmetric_and_brute(self, a, b):
        brute = any(a[0] <= t < a[1] and b[0] <= t < b[1] for t in range(61))
        assert W.overlaps(a, b) == W.overlaps(b, a) == brute


class TestWiden:
    def test_widen(self):
        m = datetime.timedelta(minutes=30)
        assert W.widen(span(60, 120), m) == span(30, 150)
        assert W.widen(span(60, 120), None) == span(60, 120)


class TestMerge:
    def test_merge(self):
        assert W.merge([(4, 5), (1, 3), (2, 4), (7, 7), (8, 9)]) == [
            (1, 5), (8, 9)]
        assert W.merge([]) == []
        assert W.merge([(3, 1)]) == []

    def test_touching_are_joined(self):
        assert W.merge([span(0, 10), span(10, 20)]) == [span(0, 20)]

    def test_contained(self):
        assert W.merge([(0, 10), (2, 3), (4, 12)]) == [(0, 12)]

    @FAST
    @given(st.lists(interval, max_size=8))
    def test_same_points_sorted_disjoint(self, ivs):
        merged = W.merge(ivs)
        covered = {t for s, e in ivs for t in range(s, e)}
        assert {t for s, e in merged for t in range(s, e)} == covered
        for (s1, e1), (s2, e2) in zip(merged, merged[1:], strict=False):
            assert s1 < e1 < s2 < e2


class TestFreePeriods:
    def test_basic(self):
        busy = [span(10, 20), span(15, 30), span(40, 50)]
        assert W.free_periods(busy, span(0, 60)) == [
            span(0, 10), span(30, 40), span(50, 60)]

    def test_clipped_by_frame(self):
        busy = [span(0, 20), span(50, 70)]
        assert W.free_periods(busy, span(10, 60)) == [span(20, 50)]
        assert W.free_periods(busy, span(5, 15)) == []
        assert W.free_periods([], span(5, 15)) == [span(5, 15)]

    def test_back_to_back_leaves_nothing(self):
        busy = [span(0, 10), span(10, 20)]
        assert W.free_periods(busy, span(0, 20)) == []

    @FAST
    @given(st.lists(interval, max_size=8), interval)
    def test_partition_of_frame(self, busy, frame):
        fs, fe = frame
        free = W.free_periods(busy, frame)
        free_pts = [t for s, e in free for t in range(s, e)]
        busy_pts = {t for s, e in busy for t in range(s, e)}
        frame_pts = set(range(fs, fe))
        assert len(free_pts) == len(set(free_pts))  # disjoint
        assert set(free_pts) == frame_pts - busy_pts
        assert set(free_pts) | (busy_pts & frame_pts) == frame_pts
        for s, e in free:
            assert fs <= s < e <= fe


class TestIsFree:
    def test_back_to_back_is_free(self):
        busy = [span(0, 60)]
        assert W.is_free(busy, span(60, 120))
        assert W.is_free(busy, span(-60, 0))
        assert not W.is_free(busy, span(59, 120))

    def test_margin_symmetric(self):
        m = datetime.timedelta(minutes=15)
        busy = [span(100, 200)]
        assert not W.is_free(busy, span(200, 300), m)
        assert not W.is_free(busy, span(0, 100), m)
        assert W.is_free(busy, span(215, 300), m)
        assert W.is_free(busy, span(0, 85), m)
        assert not W.is_free(busy, span(214, 300), m)
        assert not W.is_free(busy, span(0, 86), m)

    def test_empty_intervals_ignored(self):
        m = datetime.timedelta(minutes=15)
        assert W.is_free([span(50, 50)], span(40, 60), m)
        assert W.is_free([span(50, 40)], span(40, 60), m)

    @FAST
    @given(st.lists(interval, max_size=6), interval,
           st.integers(min_value=0, max_value=5))
    def test_brute_and_scan(self, busy, window, margin):
        if not window[0] < window[1]:
            window = (window[1], window[0] + 1) if window[0] == window[1] \
                else (window[1], window[0])
        # Brute force: widen each busy interval by the margin on both sides.
        blocked = {t for s, e in busy if s < e
                   for t in range(s - margin, e + margin)}
        brute = not any(window[0] <= t < window[1] for t in blocked)
        assert W.is_free(busy, window, margin) == brute
        free, prev_end, next_start = W.scan(busy, window, margin)
        assert free == brute
        if free:
            before = [e for s, e in busy if s < e and e <= window[0] - margin]
            after = [s for s, e in busy if s < e and s >= window[1] + margin]
            assert prev_end == (max(before) if before else None)
            assert next_start == (min(after) if after else None)


def brute_profile(items, fs, fe):
    return [sum(a for s, e, a in items if s <= t < e) for t in range(fs, fe)]


def expand(profile, fs, fe):
    out = []
    for i, (t, level) in enumerate(profile):
        end = profile[i + 1][0] if i + 1 < len(profile) else fe
        out.extend([level] * (end - t))
    return out


item = st.tuples(minute, minute, st.integers(min_value=-3, max_value=5))


class TestUsage:
    def test_profile(self):
        items = [(0, 10, 2), (5, 15, 1), (20, 30, 4)]
        assert W.usage_profile(items, (0, 40)) == [
            (0, 2), (5, 3), (10, 1), (15, 0), (20, 4), (30, 0)]
        assert W.usage_profile(items, (7, 12)) == [(7, 3), (10, 1)]
        assert W.usage_profile([], (0, 5)) == [(0, 0)]
        assert W.usage_profile(items, (5, 5)) == []

    def test_profile_datetimes(self):
        items = [(at(0), at(10), 1), (at(10), at(20), 1)]
        assert W.usage_profile(items, span(0, 30)) == [(at(0), 1),
                                                       (at(20), 0)]

    def test_peak(self):
        items = [(0, 10, 2), (5, 15, 1), (10, 12, 5)]
        assert W.peak(items, (0, 20)) == 6
        assert W.peak(items, (0, 10)) == 3
        assert W.peak(items, (12, 20)) == 1
        assert W.peak(items, (15, 20)) == 0
        # Back to back does not add up.
        assert W.peak([(0, 10, 1), (10, 20, 1)], (0, 20)) == 1

    def test_partial_overlap_counts_only_inside(self):
        items = [(0, 10, 4), (8, 20, 4)]
        assert W.peak(items, (10, 20)) == 4
        assert W.peak(items, (0, 8)) == 4
        assert W.peak(items, (5, 9)) == 8

    @FAST
    @given(st.lists(item, max_size=8), interval)
    def test_brute(self, items, frame):
        fs, fe = frame
        if not fs < fe:
            assert W.usage_profile(items, frame) == []
            return
        brute = brute_profile(items, fs, fe)
        profile = W.usage_profile(items, frame)
        assert profile[0][0] == fs
        assert expand(profile, fs, fe) == brute
        assert all(a[1] != b[1] for a, b in zip(profile, profile[1:], strict=False))
        positive = [(s, e, a) for s, e, a in items if a > 0]
        assert W.peak(positive, frame) == max(
            brute_profile(positive, fs, fe))

    @FAST
    @given(st.lists(st.tuples(minute, minute,
                              st.integers(min_value=1, max_value=4)),
                    max_size=8), interval)
    def test_peak_datetimes(self, items, window):
        ws, we = sorted(window)
        if ws == we:
            we += 1
        dt_items = [(at(s), at(e), a) for s, e, a in items]
        assert W.peak(dt_items, span(ws, we)) == max(
            brute_profile(items, ws, we))


class TestRounding:
    def test_ceil_floor_datetime(self):
        t = datetime.datetime(2030, 1, 1, 10, 5, 30)
        assert W.ceil_to(t, MIN) == datetime.datetime(2030, 1, 1, 10, 6)
        assert W.floor_to(t, MIN) == datetime.datetime(2030, 1, 1, 10, 5)
        assert W.ceil_to(at(3), MIN) == at(3)
        assert W.floor_to(at(3), MIN) == at(3)
        assert W.ceil_to(t, None) == t
        hour = datetime.timedelta(hours=1)
        assert W.ceil_to(t, hour) == datetime.datetime(2030, 1, 1, 11)

    def test_ints(self):
        assert W.ceil_to(7, 5) == 10
        assert W.floor_to(7, 5) == 5
        assert W.ceil_to(10, 5) == 10


def test_merge_accepts_generators():
    assert W.merge(iter([(1, 2), (2, 3)])) == [(1, 3)]
