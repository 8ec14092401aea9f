"""The cached calendar as lease writes read it under the allocation lock
(blazar/plugins/hosts/calendar.py, plugin.select_hosts); the property test
blazar/tests/functional/test_availability_cache.py checks the cache itself
against full loads after random writes."""
import datetime

from blazar.allocation import hosts as host_allocation
from blazar.plugins.hosts import plugin

T0 = datetime.datetime(2030, 1, 1)
HOUR = datetime.timedelta(hours=1)


def _at(hours):
    return T0 + hours * HOUR


def _alloc(host_id, start, end):
    return {'compute_host_id': host_id, 'start_date': _at(start), 'end_date': _at(end)}


def test_cached_busy_intervals_read_as_a_fresh_load_would():
    cached = {1: [(_at(-3), _at(-1)), (_at(2), _at(5))],
              2: [(_at(-2), _at(4))],
              3: [(_at(-5), _at(-4))]}
    busy = plugin._BusyAsLoaded(cached, _at(0), [_alloc(2, -2, 4)])
    # Ended before the cut: gone; the reservation's own interval: gone.
    assert busy.get(1) == [(_at(2), _at(5))]
    assert busy.get(2) == []
    assert busy.get(3) == []
    assert busy.get(4) == ()
    assert cached[1] == [(_at(-3), _at(-1)), (_at(2), _at(5))]   # left as it was


def test_an_active_reservation_keeps_a_host_another_held_before_it_healed_in():
    """The reservation holds host 2 from its healing (hour -1) on; another
    one held host 2 until then. A fresh load reads neither (the other
    ended, this one is excluded): the cached calendar must answer the
    same, not refuse the update."""
    hosts = [host_allocation.Host(id=i, attributes={}, size=(1, 1, 1)) for i in (1, 2)]
    cached = {2: [(_at(-5), _at(-1)), (_at(-1), _at(3))]}
    busy = plugin._BusyAsLoaded(cached, _at(0), [_alloc(2, -1, 3)])
    chosen = host_allocation.select_hosts(hosts, busy, (_at(-6), _at(6)), 1, 1,
                                          current=[2], allow_drop=False, now=_at(0))
    assert chosen == [2]
