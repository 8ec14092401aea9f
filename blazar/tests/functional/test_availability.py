"""How many, how long, when, the calendar and usage over HTTP, on each
database: answers agree with what a lease create then accepts, and a tenant
never sees another tenant's leases."""
import datetime
import random
import urllib.parse

import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


def fmt(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


def wire(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')


def parse_wire(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%f')


def base_time(hours_ahead=2):
    """A whole hour some time ahead: calendars are built from there."""
    now = datetime.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
    return now + datetime.timedelta(hours=hours_ahead)


def get(api, path, **params):
    return api.get(path + ('?' + urllib.parse.urlencode(params) if params else ''))


def ok(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()


def create(api, start, end, count, name='l', hyp='', res=''):
    return api.post('/v1/leases', {
        'name': name, 'start_date': fmt(start), 'end_date': fmt(end),
        'reservations': [host_reservation(count, count, hyp, res)], 'events': []})


# --- direct calendars (no HTTP: each random example builds one) -------------

def direct_calendar(hosts, leases, project='proj0'):
    """Hosts and host leases written straight to the store, in one
    transaction under the allocation lock like every writer.

    ``hosts``: list of capability dicts; ``leases``: (start, end, [host
    indexes]). Returns the host ids."""
    ctx = blazar_context.get_admin_context()
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        ids = []
        for index, caps in enumerate(hosts):
            host = db_api.host_create(ctx, {
                'hypervisor_hostname': 'h%d' % index, 'service_name': 'h%d' % index,
                'vcpus': 8, 'memory_mb': 8192, 'local_gb': 100}, caps, 'physical:host')
            ids.append(host['id'])
        for number, (start, end, indexes) in enumerate(leases):
            lease = db_api.lease_create(ctx, {
                'name': 'r%d' % number, 'user_id': 'u', 'project_id': project,
                'start_date': start, 'end_date': end, 'status': 'PENDING'})
            reservation = db_api.reservation_create(ctx, {
                'lease_id': lease['id'], 'resource_type': 'physical:host',
                'status': 'pending'})
            db_api.host_reservation_create(ctx, {
                'reservation_id': reservation['id'], 'min_count': len(indexes),
                'max_count': len(indexes)})
            db_api.allocations_create(ctx, reservation['id'],
                                      [ids[i] for i in indexes], start, end)
    return ids


def forget_lease(lease_id):
    """Undo a create without HTTP (the calendar is as it was before)."""
    ctx = blazar_context.get_admin_context()
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        db_api.lease_destroy(ctx, lease_id)


# --- how many -----------------------------------------------------------------

def test_how_many_is_the_largest_max_a_create_accepts(api):
    enrol(api, 4, rack='1')
    t0 = base_time()
    assert create(api, t0, t0 + 3 * HOUR, 2).status_code == 201
    tenant = api.as_user('alice:proj1')
    answer = ok(get(tenant, '/v1/availability', start_date=fmt(t0 + HOUR),
                    end_date=fmt(t0 + 2 * HOUR)))['availability']
    assert answer == {
        'resource_type': 'physical:host', 'start_date': wire(t0 + HOUR),
        'end_date': wire(t0 + 2 * HOUR), 'hypervisor_properties': '',
        'resource_properties': '', 'reservable': 4, 'matching': 4, 'max': 2,
        'cleaning_time': 0}
    after = ok(get(tenant, '/v1/availability', start_date=fmt(t0 + 3 * HOUR),
                   end_date=fmt(t0 + 4 * HOUR)))['availability']
    assert after['max'] == 4
    # The answer is exactly the boundary of what a create accepts.
    window = (t0 + HOUR, t0 + 2 * HOUR)
    assert create(tenant, *window, 3).status_code == 409
    assert create(tenant, *window, 2).status_code == 201
    # ... and the calendar moved: the cached answer is not reused.
    assert ok(get(tenant, '/v1/availability', start_date=fmt(window[0]),
                  end_date=fmt(window[1])))['availability']['max'] == 0


def test_how_many_with_properties_and_cleaning_time(api, config):
    config.set_override('cleaning_time', 30)
    enrol(api, 2)
    api.put('/v1/os-hosts/compute-2', {'gpu': 'a100'})
    t0 = base_time()
    assert create(api, t0, t0 + HOUR, 1, res='["==", "$gpu", "a100"]').status_code == 201
    answer = ok(get(api, '/v1/availability', start_date=fmt(t0 + HOUR + 20 * MINUTE),
                    end_date=fmt(t0 + 2 * HOUR),
                    resource_properties='["==", "$gpu", "a100"]'))['availability']
    assert (answer['matching'], answer['max'], answer['cleaning_time']) == (1, 0, 30)
    answer = ok(get(api, '/v1/availability', start_date=fmt(t0 + HOUR + 30 * MINUTE),
                    end_date=fmt(t0 + 2 * HOUR),
                    resource_properties='["==", "$gpu", "a100"]'))['availability']
    assert answer['max'] == 1
    assert answer['resource_properties'] == '["==", "$gpu", "a100"]'


# --- how long -----------------------------------------------------------------

def test_how_long_is_the_latest_end_a_create_accepts(api):
    t0 = base_time()
    direct_calendar([{}, {}, {}], [(t0 + 5 * HOUR, t0 + 6 * HOUR, [0]),
                                   (t0 + 8 * HOUR, t0 + 9 * HOUR, [0, 1])])
    tenant = api.as_user('alice:proj1')

    def how_long(count):
        return ok(get(tenant, '/v1/availability/duration', start_date=fmt(t0),
                      count=count))['availability']

    two = how_long(2)
    assert two['end_date'] == wire(t0 + 8 * HOUR)
    assert two['duration'] == 8 * 60 and two['count'] == 2 and two['free'] == 2
    assert how_long(3)['end_date'] == wire(t0 + 5 * HOUR)
    one = how_long(1)
    assert one['end_date'] is None and one['duration'] is None
    assert how_long(4)['end_date'] == wire(t0) and how_long(4)['duration'] == 0
    assert create(tenant, t0, t0 + 8 * HOUR + MINUTE, 2).status_code == 409
    assert create(tenant, t0, t0 + 8 * HOUR, 2).status_code == 201


# --- offerings ----------------------------------------------------------------

def test_offerings_come_with_a_lease_body_a_create_accepts(api):
    enrol(api, 3)
    t0 = base_time()
    assert create(api, t0, t0 + 4 * HOUR, 2).status_code == 201
    tenant = api.as_user('alice:proj1')
    offerings = ok(get(tenant, '/v1/offerings', count=2, duration='2h',
                       earliest_start=fmt(t0), latest_end=fmt(t0 + 10 * HOUR),
                       limit=3, name='mine',
                       hypervisor_properties='[">=", "$vcpus", "4"]'))['offerings']
    assert [(o['start_date'], o['end_date']) for o in offerings] == [
        (wire(t0 + 4 * HOUR), wire(t0 + 6 * HOUR)),
        (wire(t0 + 6 * HOUR), wire(t0 + 8 * HOUR)),
        (wire(t0 + 8 * HOUR), wire(t0 + 10 * HOUR))]
    first = offerings[0]
    assert (first['count'], first['free'], first['duration']) == (2, 3, 120)
    assert first['lease'] == {
        'name': 'mine', 'start_date': fmt(t0 + 4 * HOUR),
        'end_date': fmt(t0 + 6 * HOUR), 'events': [],
        'reservations': [{'resource_type': 'physical:host', 'min': 2, 'max': 2,
                          'hypervisor_properties': '[">=", "$vcpus", "4"]',
                          'resource_properties': ''}]}
    resp = tenant.post('/v1/leases', first['lease'])
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    assert (lease['start_date'], lease['end_date']) == (first['start_date'],
                                                       first['end_date'])
    # Taken: the same body now conflicts, with the API's error body.
    again = tenant.post('/v1/leases', first['lease'])
    assert again.status_code == 409
    assert again.json()['error_message'].startswith('Not enough hosts available')
    later = ok(get(tenant, '/v1/offerings', count=2, duration='2h',
                   earliest_start=fmt(t0), limit=1))['offerings']
    assert later[0]['start_date'] == wire(t0 + 6 * HOUR)


def test_offering_taken_meanwhile_is_a_409(api):
    enrol(api, 2)
    alice, bob = api.as_user('alice:proj1'), api.as_user('bob:proj2')
    offering = ok(get(alice, '/v1/offerings', count=2, duration=90))['offerings'][0]
    start = parse_wire(offering['start_date'])
    assert offering['end_date'] == wire(start + 90 * MINUTE)
    assert start >= datetime.datetime.utcnow() - MINUTE
    taken = bob.post('/v1/leases', lease_with([host_reservation(1, 1)], 'b',
                                              start=90, end=150))
    assert taken.status_code == 201
    resp = alice.post('/v1/leases', offering['lease'])
    assert resp.status_code == 409, resp.text
    assert set(resp.json()) == {'error_code', 'error_message', 'error_name'}


def test_no_offering_when_nothing_fits(api):
    enrol(api, 1)
    assert ok(get(api, '/v1/offerings', count=2, duration='1h'))['offerings'] == []
    t0 = base_time()
    assert ok(get(api, '/v1/offerings', count=1, duration='3h', earliest_start=fmt(t0),
                  latest_end=fmt(t0 + 2 * HOUR)))['offerings'] == []


# --- calendar and privacy -----------------------------------------------------

def test_calendar_for_admins_and_tenants(api):
    hosts = enrol(api, 3)
    t0 = base_time()
    alice, bob = api.as_user('alice:proj1'), api.as_user('bob:proj2')
    resp = alice.post('/v1/leases', {
        'name': 'secret', 'start_date': fmt(t0 + HOUR), 'end_date': fmt(t0 + 3 * HOUR),
        'reservations': [host_reservation(2, 2)], 'events': []})
    assert resp.status_code == 201
    lease = resp.json()['lease']
    frame = {'start_date': fmt(t0), 'end_date': fmt(t0 + 4 * HOUR)}
    admin_view = ok(get(api, '/v1/calendar', **frame))['calendar']
    expected_free = [
        {'start_date': wire(t0), 'end_date': wire(t0 + HOUR), 'free': 3},
        {'start_date': wire(t0 + HOUR), 'end_date': wire(t0 + 3 * HOUR), 'free': 1},
        {'start_date': wire(t0 + 3 * HOUR), 'end_date': wire(t0 + 4 * HOUR), 'free': 3}]
    assert admin_view['free'] == expected_free
    assert admin_view['total'] == 3
    assert sorted(h['id'] for h in admin_view['hosts']) == sorted(hosts)
    busy = [b for h in admin_view['hosts'] for b in h['busy']]
    assert len(busy) == 2
    assert busy[0] == {'start_date': wire(t0 + HOUR), 'end_date': wire(t0 + 3 * HOUR),
                       'reservation_id': lease['reservations'][0]['id'],
                       'lease_id': lease['id'], 'project_id': 'proj1'}
    tenant_view = ok(get(bob, '/v1/calendar', **frame))['calendar']
    assert tenant_view['free'] == expected_free
    assert 'hosts' not in tenant_view
    # Asking for the hosts explicitly: a tenant is refused, an admin may
    # leave them out.
    refused = get(bob, '/v1/calendar', hosts='true', **frame)
    assert refused.status_code == 403
    assert 'blazar:calendar:get_hosts' in refused.json()['error_message']
    brief = ok(get(api, '/v1/calendar', hosts='False', **frame))['calendar']
    assert 'hosts' not in brief and brief['free'] == expected_free
    assert ok(get(api, '/v1/calendar', hosts='yes', **frame))['calendar']['hosts']


def test_a_tenant_never_sees_another_tenants_leases(api):
    enrol(api, 2)
    t0 = base_time()
    alice, bob = api.as_user('alice:proj1'), api.as_user('bob:proj2')
    lease = alice.post('/v1/leases', {
        'name': 'alice-secret', 'start_date': fmt(t0 + HOUR),
        'end_date': fmt(t0 + 3 * HOUR), 'reservations': [host_reservation(1, 1)],
        'events': []}).json()['lease']
    secrets = [lease['id'], lease['reservations'][0]['id'], 'proj1', 'alice-secret',
               'alice']
    frame = {'start_date': fmt(t0), 'end_date': fmt(t0 + 5 * HOUR)}
    answers = [
        get(bob, '/v1/availability', **frame),
        get(bob, '/v1/availability/duration', start_date=fmt(t0), count=1),
        get(bob, '/v1/offerings', count=2, duration='1h', earliest_start=fmt(t0)),
        get(bob, '/v1/calendar', **frame),
        get(bob, '/v1/usage', **frame),
        get(bob, '/v1/usage', project_id='proj1', **frame),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 200, 403]
    for resp in answers:
        for secret in secrets:
            assert secret not in resp.text, (resp.url, secret)
    # The administrator does see them.
    assert lease['id'] in get(api, '/v1/calendar', **frame).text


# --- usage --------------------------------------------------------------------

def test_usage_per_project(api):
    enrol(api, 3)
    sizes = {h['id']: h for h in api.get('/v1/os-hosts').json()['hosts']}
    t0 = base_time()
    alice, bob = api.as_user('alice:proj1'), api.as_user('bob:proj2')
    a = alice.post('/v1/leases', {
        'name': 'a', 'start_date': fmt(t0), 'end_date': fmt(t0 + 2 * HOUR),
        'reservations': [host_reservation(2, 2)], 'events': []})
    b = bob.post('/v1/leases', {
        'name': 'b', 'start_date': fmt(t0 + HOUR), 'end_date': fmt(t0 + 5 * HOUR),
        'reservations': [host_reservation(1, 1)], 'events': []})
    assert (a.status_code, b.status_code) == (201, 201)
    vcpus = {h['vcpus'] for h in sizes.values()}
    memory = {h['memory_mb'] for h in sizes.values()}
    assert len(vcpus) == len(memory) == 1, 'the simulator hosts are alike'
    vcpus, memory = vcpus.pop(), memory.pop()
    frame = {'start_date': fmt(t0 + HOUR), 'end_date': fmt(t0 + 4 * HOUR)}
    own = ok(get(alice, '/v1/usage', **frame))['usage']
    assert own['start_date'] == wire(t0 + HOUR) and own['end_date'] == wire(t0 + 4 * HOUR)
    assert own['projects'] == [{
        'project_id': 'proj1', 'host_hours': 2.0, 'instance_hours': 0.0,
        'vcpu_hours': 2.0 * vcpus, 'memory_mb_hours': 2.0 * memory,
        'disk_gb_hours': own['projects'][0]['disk_gb_hours'], 'floatingip_hours': 0.0,
        'leases': 1, 'reservations': 1}]
    everyone = ok(get(api, '/v1/usage', **frame))['usage']['projects']
    assert [(p['project_id'], p['host_hours']) for p in everyone] == [
        ('proj1', 2.0), ('proj2', 3.0)]
    one = ok(get(api, '/v1/usage', project_id='proj2', **frame))['usage']['projects']
    assert [(p['project_id'], p['host_hours']) for p in one] == [('proj2', 3.0)]
    nobody = ok(get(api, '/v1/usage', project_id='proj9', **frame))['usage']['projects']
    assert nobody[0]['host_hours'] == 0.0 and nobody[0]['leases'] == 0
    assert get(alice, '/v1/usage', project_id='proj2', **frame).status_code == 403
    assert ok(get(alice, '/v1/usage', project_id='proj1', **frame))['usage'] == own


# --- validation ---------------------------------------------------------------

@pytest.mark.parametrize('path, params, words', [
    ('/v1/availability', {}, 'Missing parameter end_date'),
    ('/v1/availability', {'end_date': 'tomorrow'}, 'tomorrow is an invalid date. '
     "Required format: %Y-%m-%d %H:%M (end_date must be"),
    ('/v1/availability', {'end_date': '2099-01-01 10:00', 'colour': 'x'},
     'Unknown parameter(s): colour'),
    ('/v1/availability', {'end_date': '2099-01-01 10:00', 'start_date': '2000-01-01 10:00'},
     'start_date must not be in the past'),
    ('/v1/availability', {'end_date': '2099-01-01 10:00', 'start_date': '2099-01-02 10:00'},
     'End date must be later than start date'),
    ('/v1/availability', {'end_date': '2099-01-01 10:00', 'resource_type': 'virtual:nothing'},
     'virtual:nothing'),
    ('/v1/availability', {'end_date': '2099-01-01 10:00',
                          'hypervisor_properties': '[">=", "$vcpus"'},
     'hypervisor_properties'),
    ('/v1/availability/duration', {}, 'Missing parameter count'),
    ('/v1/availability/duration', {'count': '0'}, 'Invalid count'),
    ('/v1/offerings', {'count': '1'}, 'Missing parameter duration'),
    ('/v1/offerings', {'count': '1', 'duration': '8x'}, 'Invalid duration'),
    ('/v1/offerings', {'count': '1', 'duration': '0'}, 'duration'),
    ('/v1/offerings', {'count': '1', 'duration': '1h', 'limit': '51'}, 'Invalid limit'),
    ('/v1/offerings', {'count': 'two', 'duration': '1h'}, 'Invalid count'),
    ('/v1/offerings', {'count': '1', 'duration': '1h', 'earliest_start': '2099-01-02 10:00',
                       'latest_end': '2099-01-01 10:00'}, 'latest_end must be later'),
    ('/v1/calendar', {'start_date': '2099-01-02 10:00', 'end_date': '2099-01-01 10:00'},
     'End date must be later than start date'),
    ('/v1/calendar', {'hosts': 'maybe'}, 'Invalid hosts'),
    ('/v1/usage', {'start_date': 'yesterday'}, '(start_date must be'),
    ('/v1/usage', {'start_date': 'now'}, '(start_date must be'),
    ('/v1/calendar', {'start_date': '2099-01-01 10:00:30'}, '(start_date has seconds'),
    ('/v1/usage?project_id=a&project_id=b', None, 'project_id is given more than once'),
])
def test_bad_parameters_are_400s_naming_them(api, path, params, words):
    resp = api.get(path) if params is None else get(api, path, **params)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body['error_code'] == 400
    assert words in body['error_message']


def test_write_methods_are_refused(api):
    for path in ('/v1/availability', '/v1/offerings', '/v1/calendar', '/v1/usage'):
        assert api.post(path, {}).status_code == 405


def test_json_suffix(api):
    enrol(api, 1)
    assert api.get('/v1/offerings.json?count=1&duration=1h').status_code == 200


# --- property-based agreement with lease creation ------------------------------

def random_calendar(rng, t0):
    hosts = [({'rack': str(rng.randrange(2))} if rng.random() < 0.7 else {})
             for _ in range(rng.randrange(1, 6))]
    leases = []
    for _ in range(rng.randrange(0, 8)):
        start = t0 + rng.randrange(0, 24 * 4) * 15 * MINUTE
        end = start + rng.randrange(1, 16) * 30 * MINUTE
        free = [i for i in range(len(hosts))
                if all(not (s < end and start < e) or i not in idx
                       for s, e, idx in leases)]
        if free:
            leases.append((start, end, rng.sample(free, rng.randrange(1, len(free) + 1))))
    return hosts, leases


@pytest.mark.parametrize('seed', range(6))
def test_answers_agree_with_creates_on_random_calendars(api, config, seed):
    """On a random calendar, every offering POSTed as is (on a fresh copy)
    gets a 201, the minute before the first one is refused, "how many" is
    the largest count a create accepts and "how long" the latest end."""
    rng = random.Random(seed)
    config.set_override('cleaning_time', rng.choice([0, 0, 15, 30]))
    t0 = base_time()
    hosts, leases = random_calendar(rng, t0)
    direct_calendar(hosts, leases)
    tenant = api.as_user('alice:proj1')
    res = rng.choice(['', '["==", "$rack", "1"]'])
    count = rng.randrange(1, 4)
    duration = rng.randrange(1, 12) * 30
    offerings = ok(get(tenant, '/v1/offerings', count=count, duration=duration,
                       earliest_start=fmt(t0), latest_end=fmt(t0 + 30 * HOUR),
                       resource_properties=res, limit=3))['offerings']
    for offering in offerings:
        resp = tenant.post('/v1/leases', offering['lease'])
        assert resp.status_code == 201, (offering, resp.text)
        forget_lease(resp.json()['lease']['id'])
    if offerings and parse_wire(offerings[0]['start_date']) > t0:
        start = parse_wire(offerings[0]['start_date']) - MINUTE
        assert create(tenant, start, start + duration * MINUTE, count,
                      res=res).status_code == 409
    start = t0 + rng.randrange(0, 24) * 30 * MINUTE
    window = (start, start + rng.randrange(1, 8) * 30 * MINUTE)
    most = ok(get(tenant, '/v1/availability', start_date=fmt(window[0]),
                  end_date=fmt(window[1]), resource_properties=res))['availability']['max']
    assert create(tenant, *window, most + 1, res=res).status_code == 409
    if most:
        resp = create(tenant, *window, most, res=res)
        assert resp.status_code == 201, resp.text
        forget_lease(resp.json()['lease']['id'])
    run = ok(get(tenant, '/v1/availability/duration', start_date=fmt(start),
                 count=count, resource_properties=res))['availability']
    if run['end_date'] is None:
        far = start + datetime.timedelta(days=3650)
        assert create(tenant, start, far, count, res=res).status_code == 201
    elif run['duration']:
        end = parse_wire(run['end_date'])
        assert create(tenant, start, end + MINUTE, count, res=res).status_code == 409
        assert create(tenant, start, end, count, res=res).status_code == 201
    else:
        assert create(tenant, start, start + MINUTE, count, res=res).status_code == 409
