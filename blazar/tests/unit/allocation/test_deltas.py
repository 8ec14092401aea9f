"""A loaded calendar merged with the hosts that changed equals the calendar
built from the new data (blazar/allocation/deltas.py)."""
import datetime

from hypothesis import given
from hypothesis import strategies as st

from blazar.allocation import deltas
from blazar.allocation import hosts as host_allocation

T0 = datetime.datetime(2030, 1, 1)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


intervals = st.lists(st.tuples(st.integers(0, 100), st.integers(1, 50)).map(
    lambda p: (at(p[0]), at(p[0] + p[1]))), max_size=4)
# A store: {host id: (reservable, attributes, intervals)}.
stores = st.dictionaries(st.integers(1, 12), st.tuples(
    st.booleans(), st.sampled_from(['a', 'b']), intervals), max_size=10)


def load(store, ids=None):
    """What a full load (or a load of ``ids``) gives."""
    chosen = {i: v for i, v in store.items() if ids is None or i in ids}
    hosts = [host_allocation.Host(id=i, attributes={'rack': rack})
             for i, (reservable, rack, _) in sorted(chosen.items()) if reservable]
    busy = {i: list(spans) for i, (_, _, spans) in chosen.items() if spans}
    return hosts, busy


@given(before=stores, after=stores)
def test_a_merged_calendar_is_a_full_load(before, after):
    hosts, busy = load(before)
    touched = {i for i in set(before) | set(after) if before.get(i) != after.get(i)}
    fresh_hosts, fresh_busy = load(after, touched)
    merged_hosts = deltas.merge_hosts(hosts, touched, fresh_hosts)
    merged_busy = deltas.merge_by_host(busy, touched, fresh_busy)
    assert (merged_hosts, merged_busy) == load(after)
    # The inputs are left as they were (readers may hold them).
    assert (hosts, busy) == load(before)


@given(store=stores, cut=st.integers(0, 160))
def test_trim_is_a_later_load(store, cut):
    _, busy = load(store)
    later = {i: (r, rack, [s for s in spans if s[1] > at(cut)])
             for i, (r, rack, spans) in store.items()}
    assert deltas.trim(busy, at(cut)) == load(later)[1]
