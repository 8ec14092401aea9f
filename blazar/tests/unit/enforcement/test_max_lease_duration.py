"""MaxLeaseDurationFilter: duration, extension window, extension reach."""
import pytest

from blazar import exceptions
from blazar.enforcement.filters import max_lease_duration
from blazar.tests.unit.enforcement.conftest import lease

HOUR, DAY = 3600, 86400


@pytest.fixture
def check(now):
    return max_lease_duration.MaxLeaseDurationFilter()


def refusal(call, *args):
    with pytest.raises(exceptions.EnforcementRefused) as info:
        call(None, *args)
    assert info.value.code == 403
    return info.value


def test_no_limit_by_default(check):
    check.check_create(None, lease(1, 24 * 365))
    check.check_update(None, lease(1, 2), lease(1, 24 * 365))


def test_create_longer_than_the_maximum(check, opts):
    opts(max_lease_duration=DAY)
    check.check_create(None, lease(1, 25))
    error = refusal(check.check_create, lease(1, 27))
    assert error.message == ('Lease duration of 1 day 2 hours exceeds the maximum of '
                             '1 day (max_lease_duration) by 2 hours.')
    assert error.kwargs['rule'] == 'max_lease_duration'


def test_exempt_projects(check, opts):
    opts(max_lease_duration=DAY, extension_window=HOUR,
         max_lease_duration_exempt_project_ids=['vip'])
    check.check_create(None, lease(1, 100, project='vip'))
    check.check_update(None, lease(-1, 10, project='vip', status='ACTIVE'),
                       lease(-1, 1000, project='vip', status='ACTIVE'))


def test_update_of_a_pending_lease_checks_its_duration(check, opts):
    opts(max_lease_duration=DAY)
    current = lease(1, 20)
    check.check_update(None, current, lease(5, 29))
    error = refusal(check.check_update, current, lease(1, 26))
    assert 'by 1 hour' in error.message
    # Unchanged dates (a rename, or a limit lowered since) are never refused.
    check.check_update(None, lease(1, 48), lease(1, 48))


def test_extension_window(check, opts):
    opts(extension_window=2 * HOUR)
    current = lease(-5, 3, status='ACTIVE')
    error = refusal(check.check_update, current, lease(-5, 10, status='ACTIVE'))
    assert error.kwargs['rule'] == 'extension_window'
    assert error.message == ('An active lease can be prolonged only in the last 2 hours '
                             'before its end (extension_window); this lease ends in 3 '
                             'hours, so retry in 1 hour (from 2030-01-01 13:00 UTC).')
    # Shortening it is always fine, and inside the window so is prolonging.
    check.check_update(None, current, lease(-5, 1, status='ACTIVE'))
    check.check_update(None, lease(-5, 2, status='ACTIVE'), lease(-5, 100, status='ACTIVE'))


def test_an_active_lease_may_end_at_most_the_maximum_from_now(check, opts):
    opts(max_lease_duration=DAY)
    current = lease(-20, 1, status='ACTIVE')
    # 45 hours long in all, but it ends within a day of now: allowed.
    check.check_update(None, current, lease(-20, 24, status='ACTIVE'))
    error = refusal(check.check_update, current, lease(-20, 30, status='ACTIVE'))
    assert error.message == ('An active lease can be prolonged to end at most 1 day '
                             'from now (max_lease_duration); the requested end date '
                             '2030-01-02 18:00 UTC is 6 hours beyond that.')


def test_window_and_reach_together(check, opts):
    opts(max_lease_duration=DAY, extension_window=2 * HOUR)
    current = lease(-20, 1, status='ACTIVE')
    check.check_update(None, current, lease(-20, 24, status='ACTIVE'))
    assert refusal(check.check_update, current,
                   lease(-20, 25, status='ACTIVE')).kwargs['rule'] == 'max_lease_duration'
    assert refusal(check.check_update, lease(-20, 3, status='ACTIVE'),
                   lease(-20, 4, status='ACTIVE')).kwargs['rule'] == 'extension_window'


def test_on_end_does_nothing(check, opts):
    opts(max_lease_duration=1)
    check.on_end(None, lease(1, 100))
