"""A lease whose start is the minute just gone is made from now.

The Horizon panel fills a blank start date with the minute it sees; the
minute may turn before the request reaches the manager. Time is frozen at
one second past a minute so the case is exact, not a race.
"""
import datetime

from oslo_utils import timeutils
import pytest

from blazar.tests.functional.test_leases import lease_body


@pytest.fixture
def one_second_past_a_minute():
    now = datetime.datetime.utcnow().replace(second=1, microsecond=0)
    timeutils.set_time_override(now)
    yield now.replace(second=0)
    timeutils.clear_time_override()


def _at(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


def test_the_minute_just_gone_starts_now(api, one_second_past_a_minute):
    minute = one_second_past_a_minute
    body = lease_body(start=0, end=0)
    body.update(start_date=_at(minute - datetime.timedelta(minutes=1)),
                end_date=_at(minute + datetime.timedelta(hours=1)))
    resp = api.post('/v1/leases', body)
    assert resp.status_code == 201, resp.text
    assert resp.json()['lease']['start_date'] == minute.strftime('%Y-%m-%dT%H:%M:00.000000')


def test_two_minutes_back_is_still_refused(api, one_second_past_a_minute):
    minute = one_second_past_a_minute
    body = lease_body(start=0, end=0)
    body.update(start_date=_at(minute - datetime.timedelta(minutes=2)),
                end_date=_at(minute + datetime.timedelta(hours=1)))
    resp = api.post('/v1/leases', body)
    assert resp.status_code == 400, resp.text
    assert resp.json()['error_message'] == 'Start date must be later than current date'
    assert api.get('/v1/leases').json()['leases'] == []
