"""Every API call commits as a whole or refuses as a whole, and no write
waits on the cloud: a refusal changes nothing in the store or in Nova, and
a write answers while Nova is down (the converger catches up afterwards,
blazar/tests/functional/test_convergence.py). Concurrent requests never
over-commit a host. Also the helpers the failure tests share."""
import collections
import concurrent.futures
import re
import time

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.simulator import state as sim_state
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_leases import in_minutes
from blazar.tests.functional.test_leases import wait_for_status

_ID = re.compile(r'[0-9a-f]{8}-[0-9a-f-]{27}|CUSTOM_RESERVATION_[0-9A-F_]+|\d+')


def _kind(request):
    method, path, action = request
    return method, _ID.sub('X', path), action


def _steps(requests):
    """Each Nova call as (kind, how many calls of that kind came before)."""
    seen, steps = {}, []
    for request in requests:
        kind = _kind(request)
        steps.append((kind, seen.get(kind, 0)))
        seen[kind] = seen.get(kind, 0) + 1
    return steps


def _arm(cloud, step, times=1):
    """Make the step fail ``times`` times (None: until cleared)."""
    (method, path, action), skip = step
    pattern = '^%s$' % re.escape(path).replace('X', '[^/]+')
    cloud.inject_fault(method, pattern, status=500, action=action, skip=skip,
                       times=times)


def _record(cloud, operation):
    """The Nova requests an operation makes."""
    cloud.clear_requests()
    operation()
    return list(cloud.requests)


def assert_no_host_lost(api, cloud):
    """Every enrolled host is in the freepool or in the aggregate of a
    reservation being handed over or taken back, or held (its lease
    STARTING, ACTIVE, UPDATING, TERMINATING or DELETING), never in none;
    in two pools only while it moves (then one is the freepool)."""
    # The store first: a reservation it says is handed over may only have
    # given its hosts back by the time Nova is read, never the other way.
    handing = {r['id'] for lease in api.get('/v1/leases').json()['leases']
               if lease['status'] in HANDED for r in lease['reservations']}
    pools = aggregates(cloud)
    for host in api.get('/v1/os-hosts').json()['hosts']:
        name = host['service_name']
        places = [n for n, a in pools.items() if name in a['hosts']]
        assert places, '%s is in no pool' % name
        assert len(places) == 1 or (len(places) == 2 and 'freepool' in places), places
        assert all(p == 'freepool' or p in handing for p in places), places


HANDED = ('STARTING', 'ACTIVE', 'UPDATING', 'TERMINATING', 'DELETING')


def _snapshot(api, cloud):
    return (api.get('/v1/leases').json(), api.get('/v1/os-hosts/allocations').json(),
            {n: (sorted(a['hosts']), a['metadata']) for n, a in aggregates(cloud).items()})


ADMIN = sim_state.ADMIN


def cloud_objects(cloud):
    """What instance reservations make in Nova and Placement."""
    return {
        'flavors': sorted(f['id'] for f in cloud.list_flavors(ADMIN, is_public=None)),
        'groups': sorted(g['id'] for g in cloud.list_server_groups(ADMIN,
                                                                    all_projects=True)),
        'aggregates': {n: (sorted(a['hosts']), a['metadata'])
                       for n, a in aggregates(cloud).items()},
        'classes': sorted(c for c in cloud.placement.list_resource_classes()
                          if c.startswith('CUSTOM_RESERVATION_')),
        'inventories': {p['name']: cloud.placement.get_inventories(p['uuid'])[1]
                        for p in cloud.placement.list_providers()
                        if p['name'].startswith('blazar_')},
    }


def snapshot(api, cloud):
    return (api.get('/v1/leases').json(), api.get('/v1/os-hosts/allocations').json(),
            cloud_objects(cloud))


def without_empty_providers(objects):
    """blazar_<host> providers are kept once made; an empty one is no leftover."""
    return dict(objects, inventories={n: inv for n, inv in objects['inventories'].items()
                                      if inv})




def test_a_refused_create_changes_nothing_in_the_store_or_nova(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 2)
    settled()
    before = _snapshot(api, cloud)
    cloud.clear_requests()
    resp = api.post('/v1/leases', lease_with([host_reservation(3, 3)]))
    assert resp.status_code == 409, resp.text
    settled()
    assert _snapshot(api, cloud) == before
    assert [r for r in cloud.requests if r[0] != 'GET'] == []


def test_writes_answer_while_nova_is_down_and_the_cloud_follows(api, stack, config):
    """No write waits on the cloud: with every Nova and Placement call
    failing, creates, updates and deletes answer at once; once Nova is
    back, the cloud holds exactly what the store says."""
    config.set_override('event_retry_delay', 0.05, group='manager')
    config.set_override('event_retry_max_delay', 0.2, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 3)
    settled()
    cloud.inject_fault('*', r'.', status=503, times=None)
    pending = api.post('/v1/leases', lease_with([host_reservation(1, 1)], start=60,
                                                end=120))
    assert pending.status_code == 201, pending.text
    active = api.post('/v1/leases', lease_with([host_reservation(1, 1)], start='now',
                                               end=60))
    assert active.status_code == 201, active.text
    doomed = api.post('/v1/leases', lease_with([instance_reservation(1)], start=200,
                                               end=260)).json()['lease']
    assert api.delete('/v1/leases/%s' % doomed['id']).status_code == 204
    moved = api.put('/v1/leases/%s' % pending.json()['lease']['id'],
                    {'end_date': in_minutes(150)})
    assert moved.status_code == 200, moved.text
    time.sleep(0.5)
    lease = api.get('/v1/leases/%s' % active.json()['lease']['id']).json()['lease']
    assert lease['status'] == 'STARTING' and 'failed' in lease['status_reason']
    cloud.clear_faults()
    settled()
    wait_for_status(api, lease['id'], 'ACTIVE')
    pools = aggregates(cloud)
    assert set(pools) == {'freepool', pending.json()['lease']['reservations'][0]['id'],
                          lease['reservations'][0]['id']}
    assert_no_host_lost(api, cloud)
    assert without_empty_providers(cloud_objects(cloud))['flavors'] == []


def _fire(api, bodies):
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        futures = [pool.submit(api.as_user('user%d:proj%d' % (i, i)).post,
                               '/v1/leases', body) for i, body in enumerate(bodies)]
        return [f.result() for f in futures]


def test_concurrent_instance_and_host_requests_never_over_commit(api, stack):
    """4 hosts of 8 vCPUs: 4-vCPU instances have 8 slots in all; host
    reservations compete for the same hosts."""
    enrol(api, 4)
    bodies = [lease_with([instance_reservation(1, vcpus=4, memory_mb=512, disk_gb=1)],
                         'i%d' % i) for i in range(16)]
    bodies += [lease_with([{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                            'hypervisor_properties': '', 'resource_properties': ''}],
                          'h%d' % i) for i in range(4)]
    answers = _fire(api, bodies)
    codes = collections.Counter(r.status_code for r in answers)
    assert set(codes) <= {201, 409}, [r.text for r in answers]
    ctx = blazar_context.get_admin_context()
    used = collections.Counter()
    whole = set()
    for resp in answers:
        if resp.status_code != 201:
            continue
        reservation = resp.json()['lease']['reservations'][0]
        held = db_api.reservation_slots(ctx, reservation['id'])
        if reservation['resource_type'] == 'physical:host':
            whole |= set(held)
        else:
            for host_id, n in held.items():
                used[host_id] += n * 4
    assert all(v <= 8 for v in used.values()), used
    assert not whole & set(used), (whole, used)
    # Every host is fully used one way or the other: 2 slots or whole.
    assert len(whole) * 2 + sum(used.values()) // 4 == 8
    assert codes[201] == len(whole) + sum(used.values()) // 4
