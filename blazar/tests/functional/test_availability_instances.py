"""How many, how long, when and the calendar for instance shapes
(virtual:instance, flavor:instance) over HTTP, on each database: answers
agree with what a lease create then accepts, an offering POSTed as it is
reserves it, and a tenant never sees another tenant's leases."""
import datetime
import random

import pytest

from blazar.tests.functional.test_availability import base_time
from blazar.tests.functional.test_availability import fmt
from blazar.tests.functional.test_availability import forget_lease
from blazar.tests.functional.test_availability import get
from blazar.tests.functional.test_availability import ok
from blazar.tests.functional.test_availability import parse_wire
from blazar.tests.functional.test_availability import wire
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
# Four of these fit on a simulated host (8 vCPUs).
SHAPE = {'resource_type': 'virtual:instance', 'vcpus': 2, 'memory_mb': 1024,
         'disk_gb': 10}


def reservation(amount, affinity=None, **shape):
    return dict(SHAPE, amount=amount, affinity=affinity, resource_properties='',
                **shape)


def create(api, start, end, amount, name='l', **extra):
    return api.post('/v1/leases', {
        'name': name, 'start_date': fmt(start), 'end_date': fmt(end),
        'reservations': [reservation(amount, **extra)], 'events': []})


def query(**extra):
    return dict(SHAPE, **extra)


# --- how many -----------------------------------------------------------------

def test_how_many_is_the_largest_amount_a_create_accepts(api):
    enrol(api, 2)
    t0 = base_time()
    assert create(api, t0, t0 + 3 * HOUR, 3).status_code == 201
    tenant = api.as_user('alice:proj1')
    window = (t0 + HOUR, t0 + 2 * HOUR)
    frame = {'start_date': fmt(window[0]), 'end_date': fmt(window[1])}
    answer = ok(get(tenant, '/v1/availability', **query(), **frame))['availability']
    assert answer == {
        'resource_type': 'virtual:instance', 'start_date': wire(window[0]),
        'end_date': wire(window[1]), 'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 10,
        'affinity': None, 'resource_properties': '', 'cleaning_time': 0,
        'reservable': 2, 'matching': 2, 'amount': 5}
    # The three are packed on one host: one slot left there, four on the other.
    together = ok(get(tenant, '/v1/availability', **query(affinity='true'),
                      **frame))['availability']
    assert (together['affinity'], together['amount']) == (True, 4)
    apart = ok(get(tenant, '/v1/availability', **query(affinity='false'),
                   **frame))['availability']
    assert (apart['affinity'], apart['amount']) == (False, 2)
    # Exactly the boundary of what a create accepts.
    assert create(tenant, *window, 5, affinity=True).status_code == 409
    assert create(tenant, *window, 3, affinity=False).status_code == 409
    assert create(tenant, *window, 6).status_code == 409
    resp = create(tenant, *window, 5)
    assert resp.status_code == 201, resp.text
    assert ok(get(tenant, '/v1/availability', **query(),
                  **frame))['availability']['amount'] == 0


def test_host_reservations_take_whole_hosts_from_the_count(api):
    enrol(api, 2)
    t0 = base_time()
    assert api.post('/v1/leases', {
        'name': 'h', 'start_date': fmt(t0), 'end_date': fmt(t0 + HOUR),
        'reservations': [host_reservation(1, 1)], 'events': []}).status_code == 201
    answer = ok(get(api, '/v1/availability', start_date=fmt(t0),
                    end_date=fmt(t0 + 2 * HOUR), **query()))['availability']
    assert answer['amount'] == 4


# --- how long -----------------------------------------------------------------

def test_how_long_is_the_latest_end_a_create_accepts(api):
    enrol(api, 1)
    t0 = base_time()
    assert create(api, t0 + 2 * HOUR, t0 + 3 * HOUR, 3).status_code == 201
    tenant = api.as_user('alice:proj1')

    def how_long(amount, **extra):
        return ok(get(tenant, '/v1/availability/duration', start_date=fmt(t0),
                      amount=amount, **query(**extra)))['availability']

    two = how_long(2)
    assert (two['end_date'], two['duration'], two['amount'], two['count'],
            two['free']) == (wire(t0 + 2 * HOUR), 120, 2, 2, 4)
    one = how_long(1)
    assert one['end_date'] is None and one['duration'] is None and one['free'] == 1
    none = how_long(5)
    assert (none['end_date'], none['duration'], none['free']) == (wire(t0), 0, 0)
    # count is a synonym.
    assert ok(get(tenant, '/v1/availability/duration', start_date=fmt(t0),
                  count=2, **query()))['availability']['end_date'] == two['end_date']
    assert create(tenant, t0, t0 + 2 * HOUR + MINUTE, 2).status_code == 409
    assert create(tenant, t0, t0 + 2 * HOUR, 2).status_code == 201


# --- offerings ----------------------------------------------------------------

def test_offerings_come_with_a_lease_body_a_create_accepts(api):
    enrol(api, 2)
    t0 = base_time()
    assert create(api, t0, t0 + 4 * HOUR, 6).status_code == 201
    tenant = api.as_user('alice:proj1')
    offerings = ok(get(tenant, '/v1/offerings', amount=5, duration='2h',
                       earliest_start=fmt(t0), latest_end=fmt(t0 + 10 * HOUR),
                       limit=3, name='mine', **query()))['offerings']
    assert [(o['start_date'], o['end_date'], o['free']) for o in offerings] == [
        (wire(t0 + 4 * HOUR), wire(t0 + 6 * HOUR), 8),
        (wire(t0 + 6 * HOUR), wire(t0 + 8 * HOUR), 8),
        (wire(t0 + 8 * HOUR), wire(t0 + 10 * HOUR), 8)]
    first = offerings[0]
    assert (first['amount'], first['count'], first['duration']) == (5, 5, 120)
    assert first['lease'] == {
        'name': 'mine', 'start_date': fmt(t0 + 4 * HOUR),
        'end_date': fmt(t0 + 6 * HOUR), 'events': [],
        'reservations': [{'resource_type': 'virtual:instance', 'vcpus': 2,
                          'memory_mb': 1024, 'disk_gb': 10, 'amount': 5,
                          'affinity': None, 'resource_properties': ''}]}
    resp = tenant.post('/v1/leases', first['lease'])
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    assert (lease['start_date'], lease['end_date']) == (first['start_date'],
                                                       first['end_date'])
    assert lease['reservations'][0]['amount'] == 5
    # Two fit beside the first lease at once; the taken window conflicts.
    now = ok(get(tenant, '/v1/offerings', amount=2, duration='1h',
                 earliest_start=fmt(t0), limit=1, **query()))['offerings']
    assert (now[0]['start_date'], now[0]['free']) == (wire(t0), 2)
    again = tenant.post('/v1/leases', first['lease'])
    assert again.status_code == 409, again.text
    assert 'instance' in again.json()['error_message']


def test_flavor_offerings_and_how_many(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    flavor = cloud.create_flavor('m1.half', ram=4096, vcpus=4, disk=20)
    t0 = base_time()
    tenant = api.as_user('alice:proj1')
    asked = {'resource_type': 'flavor:instance', 'flavor_id': flavor['id']}
    answer = ok(get(tenant, '/v1/availability', start_date=fmt(t0),
                    end_date=fmt(t0 + HOUR), **asked))['availability']
    assert (answer['flavor_id'], answer['amount'], answer['vcpus'],
            answer['memory_mb'], answer['disk_gb']) == (flavor['id'], 4, 4, 4096, 20)
    offering = ok(get(tenant, '/v1/offerings', amount=3, duration='1h',
                      earliest_start=fmt(t0), **asked))['offerings'][0]
    assert offering['lease']['reservations'] == [{
        'resource_type': 'flavor:instance', 'flavor_id': flavor['id'], 'amount': 3,
        'affinity': None, 'resource_properties': ''}]
    resp = tenant.post('/v1/leases', offering['lease'])
    assert resp.status_code == 201, resp.text
    assert ok(get(tenant, '/v1/availability', start_date=offering['lease']['start_date'],
                  end_date=offering['lease']['end_date'],
                  **asked))['availability']['amount'] == 1
    # A flavor the project cannot use is refused as a create refuses it.
    private = cloud.create_flavor('secret', ram=512, vcpus=1, disk=1, is_public=False)
    # (An id with URL syntax is an unknown flavor too, not a listing.)
    for flavor_id in ('nope', private['id'], '?x=1&y'):
        resp = get(tenant, '/v1/availability', end_date=fmt(t0),
                   resource_type='flavor:instance', flavor_id=flavor_id)
        assert resp.status_code == 400, resp.text
        assert flavor_id in resp.json()['error_message']


# --- calendar and privacy -----------------------------------------------------

def test_calendar_and_privacy(api):
    hosts = enrol(api, 2)
    t0 = base_time()
    alice, bob = api.as_user('alice:proj1'), api.as_user('bob:proj2')
    resp = create(alice, t0 + HOUR, t0 + 3 * HOUR, 4, name='alice-secret')
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    secrets = [lease['id'], lease['reservations'][0]['id'], 'proj1', 'alice-secret',
               'alice']
    frame = {'start_date': fmt(t0), 'end_date': fmt(t0 + 4 * HOUR)}
    expected = [
        {'start_date': wire(t0), 'end_date': wire(t0 + HOUR), 'free': 8},
        {'start_date': wire(t0 + HOUR), 'end_date': wire(t0 + 3 * HOUR), 'free': 4},
        {'start_date': wire(t0 + 3 * HOUR), 'end_date': wire(t0 + 4 * HOUR),
         'free': 8}]
    tenant_view = ok(get(bob, '/v1/calendar', **query(), **frame))['calendar']
    assert tenant_view['free'] == expected
    assert (tenant_view['total'], tenant_view['vcpus']) == (8, 2)
    assert 'hosts' not in tenant_view
    assert get(bob, '/v1/calendar', hosts='true', **query(), **frame).status_code == 403
    apart = ok(get(bob, '/v1/calendar', **query(affinity='false'), **frame))['calendar']
    # The four are packed on one host: one host with room meanwhile.
    assert [s['free'] for s in apart['free']] == [2, 1, 2]
    answers = [
        get(bob, '/v1/availability', **query(), **frame),
        get(bob, '/v1/availability/duration', start_date=fmt(t0), amount=6, **query()),
        get(bob, '/v1/offerings', amount=6, duration='1h', earliest_start=fmt(t0),
            **query()),
        get(bob, '/v1/calendar', **query(), **frame),
    ]
    assert [r.status_code for r in answers] == [200] * 4
    for resp in answers:
        for secret in secrets:
            assert secret not in resp.text, (resp.url, secret)
    admin_view = ok(get(api, '/v1/calendar', **query(), **frame))['calendar']
    assert admin_view['free'] == expected
    assert sorted(h['id'] for h in admin_view['hosts']) == sorted(hosts)
    busy = [b for h in admin_view['hosts'] for b in h['busy']]
    assert busy == [{'start_date': wire(t0 + HOUR), 'end_date': wire(t0 + 3 * HOUR),
                     'reservation_id': lease['reservations'][0]['id'],
                     'lease_id': lease['id'], 'project_id': 'proj1',
                     'resource_type': 'virtual:instance', 'slots': 4}]
    assert {h['slots'] for h in admin_view['hosts']} == {4}


# --- validation ---------------------------------------------------------------

@pytest.mark.parametrize('params, words', [
    (dict(SHAPE, vcpus='0'), 'vcpus'),
    (dict(SHAPE, affinity='maybe'), 'Invalid affinity'),
    (dict(SHAPE, colour='red'), 'Unknown parameter(s): colour'),
    (dict(SHAPE, hypervisor_properties='[">=", "$vcpus", "4"]'),
     'hypervisor_properties'),
    ({'resource_type': 'virtual:instance', 'vcpus': '2', 'disk_gb': '1'},
     'memory_mb'),
    ({'resource_type': 'flavor:instance'}, 'flavor_id'),
    ({'vcpus': '2'}, 'physical:host: vcpus'),
])
def test_bad_descriptions_are_400s_naming_them(api, params, words):
    resp = get(api, '/v1/availability', end_date='2099-01-01 10:00', **params)
    assert resp.status_code == 400, resp.text
    assert words in resp.json()['error_message']


def test_amount_is_required_once(api):
    resp = get(api, '/v1/availability/duration', **SHAPE)
    assert resp.status_code == 400
    assert 'Missing parameter amount' in resp.json()['error_message']
    resp = get(api, '/v1/offerings', duration='1h', count=1, amount=1, **SHAPE)
    assert resp.status_code == 400
    assert 'count or amount' in resp.json()['error_message']


# --- agreement with creates on random calendars --------------------------------

def random_leases(rng, api, t0):
    """A few instance and host leases in the next day, made through the API
    (whatever is refused is simply not there)."""
    for number in range(rng.randrange(1, 6)):
        start = t0 + rng.randrange(0, 24) * 30 * MINUTE
        end = start + rng.randrange(1, 8) * 30 * MINUTE
        if rng.random() < 0.2:
            api.post('/v1/leases', {
                'name': 'h%d' % number, 'start_date': fmt(start), 'end_date': fmt(end),
                'reservations': [host_reservation(1, 1)], 'events': []})
        else:
            create(api, start, end, rng.randrange(1, 6), name='i%d' % number,
                   affinity=rng.choice([None, True, False]),
                   vcpus=rng.choice([1, 2, 3]))


@pytest.mark.parametrize('seed', range(3))
def test_answers_agree_with_creates_on_random_calendars(api, config, seed):
    rng = random.Random(seed)
    config.set_override('cleaning_time', rng.choice([0, 15]))
    enrol(api, 3)
    t0 = base_time()
    random_leases(rng, api, t0)
    tenant = api.as_user('alice:proj1')
    asked = query(affinity=rng.choice(['none', 'true', 'false']))
    affinity = {'none': None, 'true': True, 'false': False}[asked['affinity']]
    amount = rng.randrange(1, 7)
    duration = rng.randrange(1, 8) * 30
    offerings = ok(get(tenant, '/v1/offerings', amount=amount, duration=duration,
                       earliest_start=fmt(t0), latest_end=fmt(t0 + 30 * HOUR),
                       limit=3, **asked))['offerings']
    for offering in offerings:
        resp = tenant.post('/v1/leases', offering['lease'])
        assert resp.status_code == 201, (offering, resp.text)
        forget_lease(resp.json()['lease']['id'])
    if offerings and parse_wire(offerings[0]['start_date']) > t0:
        start = parse_wire(offerings[0]['start_date']) - MINUTE
        assert create(tenant, start, start + duration * MINUTE, amount,
                      affinity=affinity).status_code == 409
    start = t0 + rng.randrange(0, 24) * 30 * MINUTE
    window = (start, start + rng.randrange(1, 8) * 30 * MINUTE)
    most = ok(get(tenant, '/v1/availability', start_date=fmt(window[0]),
                  end_date=fmt(window[1]), **asked))['availability']['amount']
    assert create(tenant, *window, most + 1, affinity=affinity).status_code == 409
    if most:
        resp = create(tenant, *window, most, affinity=affinity)
        assert resp.status_code == 201, resp.text
        forget_lease(resp.json()['lease']['id'])
    run = ok(get(tenant, '/v1/availability/duration', start_date=fmt(start),
                 amount=amount, **asked))['availability']
    if run['end_date'] is None:
        far = start + datetime.timedelta(days=3650)
        assert create(tenant, start, far, amount, affinity=affinity).status_code == 201
    elif run['duration']:
        end = parse_wire(run['end_date'])
        assert create(tenant, start, end + MINUTE, amount,
                      affinity=affinity).status_code == 409
        assert create(tenant, start, end, amount, affinity=affinity).status_code == 201
    else:
        assert create(tenant, start, start + MINUTE, amount,
                      affinity=affinity).status_code == 409
