"""A reservation's cloud objects are made ``[manager] prepare_ahead``
seconds before its start, not at the create: a lease made days ahead
holds nothing in Nova or Placement until then, and one moved or deleted
before then costs the cloud no call."""
import datetime
import time

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_atomicity import _record
from blazar.tests.functional.test_atomicity import cloud_objects
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_leases import in_minutes

OWNER = 'alice:proj1'
TWO_DAYS = 2 * 24 * 60


def _create(api, reservations, start=TWO_DAYS, end=TWO_DAYS + 60):
    resp = api.as_user(OWNER).post('/v1/leases', lease_with(reservations, start=start,
                                                            end=end))
    assert resp.status_code == 201, resp.text
    return resp.json()['lease']


def _made(cloud, reservation_id):
    """What the cloud holds of a reservation, by its marks."""
    objects = cloud_objects(cloud)
    return {kind for kind, found in (('aggregate', objects['aggregates']),
                                     ('flavor', objects['flavors']))
            if reservation_id in found}


def _intent(reservation_id):
    return db_api.intent_get(blazar_context.get_admin_context(), reservation_id)


def test_a_lease_made_days_ahead_holds_nothing_in_the_cloud_until_moved_near(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease = _create(api, [host_reservation(1, 1), instance_reservation(1)])
    ids = {r['resource_type']: r['id'] for r in lease['reservations']}
    hosts, instances = ids['physical:host'], ids['virtual:instance']
    settled()
    assert _made(cloud, hosts) == _made(cloud, instances) == set()
    assert _intent(hosts)['touched_at'] is None
    # Moved to start within the hour: its objects are made at once.
    resp = api.as_user(OWNER).put('/v1/leases/%s' % lease['id'], {
        'start_date': in_minutes(30), 'end_date': in_minutes(90)})
    assert resp.status_code == 200, resp.text
    settled()
    assert _made(cloud, hosts) == {'aggregate'}
    assert _made(cloud, instances) == {'aggregate', 'flavor'}
    assert api.get('/v1/leases/%s' % lease['id']).json()['lease']['status'] == 'PENDING'


def test_deleting_a_lease_before_its_objects_are_made_calls_no_cloud(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease = _create(api, [host_reservation(1, 1), instance_reservation(1)])
    settled()

    def delete():
        assert api.as_user(OWNER).delete('/v1/leases/%s' % lease['id']).status_code == 204
        settled()
    assert _record(cloud, delete) == []
    assert api.get('/v1/leases/%s' % lease['id']).status_code == 404
    assert all(_intent(r['id']) is None for r in lease['reservations'])


def test_a_lease_made_near_its_start_is_prepared_at_once(api, stack):
    cloud = stack.simulator.cloud
    enrol(api)
    lease = _create(api, [host_reservation(1, 1)], start=30, end=90)
    settled()
    assert _made(cloud, lease['reservations'][0]['id']) == {'aggregate'}


def test_objects_are_made_when_the_start_comes_within_prepare_ahead(api, stack, config):
    cloud = stack.simulator.cloud
    enrol(api)
    now = datetime.datetime.utcnow()
    start = now.replace(second=0, microsecond=0) + datetime.timedelta(minutes=3)
    # The objects are due 3 s from now.
    ready = now + datetime.timedelta(seconds=3)
    config.set_override('prepare_ahead', int((start - ready).total_seconds()),
                        group='manager')
    body = dict(lease_with([host_reservation(1, 1)], end=60),
                start_date=start.strftime('%Y-%m-%d %H:%M'))
    resp = api.as_user(OWNER).post('/v1/leases', body)
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    reservation_id = lease['reservations'][0]['id']
    while reservation_id not in aggregates(cloud):
        assert datetime.datetime.utcnow() < ready + datetime.timedelta(seconds=15), \
            'the aggregate was not made when its time came'
        time.sleep(0.05)
    made = datetime.datetime.utcnow()
    # Not before its time (a second of slack for the stored due time's
    # whole seconds on MariaDB).
    assert made >= ready - datetime.timedelta(seconds=1)
    settled()
    assert api.get('/v1/leases/%s' % lease['id']).json()['lease']['status'] == 'PENDING'


def test_deleting_a_prepared_lease_reads_its_aggregate_twice_not_three_times(api, stack):
    """Removing a prepared reservation's aggregate read it once to look for
    hosts left in it, once to find it, and once more inside the delete."""
    cloud = stack.simulator.cloud
    enrol(api)
    lease = _create(api, [host_reservation(1, 1)], start=30, end=90)
    reservation_id = lease['reservations'][0]['id']
    settled()
    assert _made(cloud, reservation_id) == {'aggregate'}
    aggregate_id = db_api.reservation_get(blazar_context.get_admin_context(),
                                          reservation_id)['host_reservation']['aggregate_id']

    def delete():
        assert api.as_user(OWNER).delete('/v1/leases/%s' % lease['id']).status_code == 204
        settled()
    requests = [' '.join(map(str, r[:2])) for r in _record(cloud, delete)]
    assert requests == ['GET /os-aggregates/%s' % aggregate_id] * 2 + [
        'DELETE /os-aggregates/%s' % aggregate_id], requests
    assert _made(cloud, reservation_id) == set()
