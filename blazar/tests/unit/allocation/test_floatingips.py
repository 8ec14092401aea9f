"""The pure choice of floating IPs (blazar/allocation/floatingips.py)."""
import pytest

from blazar import exceptions
from blazar.allocation import floatingips as fips

A = [fips.Address('f%d' % i, '172.24.4.%d' % (100 + i)) for i in range(5)]


def test_picks_amount_never_used_first():
    busy = {'f0': [(0, 5)]}
    assert fips.select_floatingips(A, busy, (10, 20), 2) == ['f1', 'f2']


def test_required_addresses_come_first():
    chosen = fips.select_floatingips(A, {}, (10, 20), 2, required=['172.24.4.104'])
    assert chosen == ['f4', 'f0']


def test_busy_address_is_not_double_booked():
    busy = {a.id: [(5, 15)] for a in A[:4]}
    assert fips.select_floatingips(A, busy, (10, 20), 1) == ['f4']
    with pytest.raises(exceptions.NotEnoughFloatingIPAvailable) as err:
        fips.select_floatingips(A, busy, (10, 20), 2, network_id='net')
    assert 'asked for 2 floating IP(s) of network net' in err.value.message
    assert '5 reservable address(es) registered, 1 of those free' in err.value.message


def test_cleaning_time_is_a_margin_on_both_sides():
    busy = {a.id: [(0, 10)] for a in A}
    assert len(fips.select_floatingips(A, busy, (10, 20), 5)) == 5
    with pytest.raises(exceptions.NotEnoughFloatingIPAvailable):
        fips.select_floatingips(A, busy, (10, 20), 1, margin=1)


def test_required_taken_or_unknown_is_named():
    busy = {'f0': [(10, 20)]}
    with pytest.raises(exceptions.NotEnoughFloatingIPAvailable) as err:
        fips.select_floatingips(A, busy, (10, 20), 2,
                                required=['172.24.4.100', '10.0.0.1'])
    assert '172.24.4.100 is taken' in err.value.message
    assert '10.0.0.1 is not registered as reservable' in err.value.message


def test_more_required_than_amount_is_refused():
    with pytest.raises(exceptions.InvalidInput):
        fips.select_floatingips(A, {}, (10, 20), 1, required=['172.24.4.100',
                                                             '172.24.4.101'])


def test_update_keeps_current_and_grows():
    chosen = fips.select_floatingips(A, {}, (10, 20), 3, current=['f3'],
                                     allow_drop=False)
    assert chosen[0] == 'f3' and len(chosen) == 3


def test_active_cannot_shrink_or_lose():
    with pytest.raises(exceptions.NotEnoughFloatingIPAvailable):
        fips.select_floatingips(A, {}, (10, 20), 1, current=['f1', 'f2'],
                                allow_drop=False)
    busy = {'f1': [(15, 25)]}
    with pytest.raises(exceptions.NotEnoughFloatingIPAvailable) as err:
        fips.select_floatingips(A, busy, (10, 30), 2, current=['f1', 'f2'],
                                allow_drop=False)
    assert '172.24.4.101' in err.value.message


def test_pending_may_shrink_and_move():
    busy = {'f1': [(15, 25)]}
    chosen = fips.select_floatingips(A, busy, (10, 30), 1, current=['f1', 'f2'])
    assert chosen == ['f2']
