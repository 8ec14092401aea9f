"""Instance reservations under failure and concurrency: Nova or Placement
failing at any step of create, update, start or end leaves nothing half
done, and concurrent requests never over-commit a host."""
import collections
import concurrent.futures

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.simulator import state as sim_state
from blazar.tests.functional.test_atomicity import _arm
from blazar.tests.functional.test_atomicity import _record
from blazar.tests.functional.test_atomicity import _steps
from blazar.tests.functional.test_atomicity import _wait_for_attempt
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_instance_reservations import reserved_inventory
from blazar.tests.functional.test_leases import wait_for_status

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


def _without_empty_providers(objects):
    """blazar_<host> providers are kept once made; an empty one is no leftover."""
    return dict(objects, inventories={n: inv for n, inv in objects['inventories'].items()
                                      if inv})


def test_create_fails_cleanly_at_every_nova_and_placement_step(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    body = lease_with([instance_reservation(3, affinity=False)])
    created = []
    steps = _steps(_record(cloud, lambda: created.append(api.post('/v1/leases', body))))
    assert created[0].status_code == 201, created[0].text
    assert any('placement' in path for (_m, path, _a), _n in steps)
    api.delete('/v1/leases/%s' % created[0].json()['lease']['id'])
    before = snapshot(api, cloud)
    for step in steps:
        _arm(cloud, step)
        resp = api.post('/v1/leases', body)
        cloud.clear_faults()
        assert resp.status_code >= 500, (step, resp.text)
        assert 'error_message' in resp.json()
        assert snapshot(api, cloud) == before, step


def _active(api, amount=2):
    lease = api.post('/v1/leases', lease_with([instance_reservation(amount, affinity=False)],
                                              start='now', end=60)).json()['lease']
    return wait_for_status(api, lease['id'], 'ACTIVE')


def test_growing_an_active_reservation_fails_cleanly_at_every_step(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 4)

    def grow(lease):
        return api.put('/v1/leases/%s' % lease['id'], {'reservations': [
            {'id': lease['reservations'][0]['id'], 'amount': 4}]})

    # Every host gets its blazar_<host> provider once, for good: make them
    # all first, so that the probe makes the calls every try will make.
    api.delete('/v1/leases/%s' % _active(api, 4)['id'])
    probe = _active(api)
    answers = []
    steps = _steps(_record(cloud, lambda: answers.append(grow(probe))))
    assert answers[0].status_code == 200, answers[0].text
    assert sum(reserved_inventory(cloud, probe['reservations'][0]['id']).values()) == 4
    api.delete('/v1/leases/%s' % probe['id'])
    assert steps
    for step in steps:
        lease = _active(api)
        before = snapshot(api, cloud)
        _arm(cloud, step)
        resp = grow(lease)
        cloud.clear_faults()
        assert resp.status_code >= 500, (step, resp.text)
        assert snapshot(api, cloud) == before, step
        api.delete('/v1/leases/%s' % lease['id'])


def test_start_failing_at_any_step_is_undone_and_retried(api, stack, config):
    config.set_override('event_retry_delay', 0.5, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 2)

    def pending():
        return api.post('/v1/leases', lease_with([instance_reservation(2, affinity=False)],
                                                 start=60, end=120)).json()['lease']

    def start_now(lease):
        return api.put('/v1/leases/%s' % lease['id'], {'start_date': 'now'})

    probe = pending()
    steps = _steps(_record(cloud, lambda: (
        start_now(probe), wait_for_status(api, probe['id'], 'ACTIVE'))))
    api.delete('/v1/leases/%s' % probe['id'])
    assert steps
    for step in steps:
        lease = pending()
        _arm(cloud, step)
        assert start_now(lease).status_code == 200
        _wait_for_attempt(api, lease['id'], 'start_lease')
        cloud.clear_faults()
        done = wait_for_status(api, lease['id'], 'ACTIVE', timeout=20)
        res_id = done['reservations'][0]['id']
        # Undone then redone: one unit per slot, not more.
        hosts = aggregates(cloud)[res_id]['hosts']
        assert reserved_inventory(cloud, res_id) == {h: 1 for h in hosts}, step
        assert len(hosts) == 2, step
        api.delete('/v1/leases/%s' % lease['id'])


def test_end_failing_at_any_step_is_retried_until_everything_is_gone(api, stack, config):
    config.set_override('event_retry_delay', 0.5, group='manager')
    cloud = stack.simulator.cloud
    enrol(api, 2)
    before = _without_empty_providers(cloud_objects(cloud))
    probe = _active(api)
    steps = _steps(_record(cloud, lambda: (
        api.put('/v1/leases/%s' % probe['id'], {'end_date': 'now'}),
        wait_for_status(api, probe['id'], 'TERMINATED'))))
    api.delete('/v1/leases/%s' % probe['id'])
    assert steps
    for step in steps:
        lease = _active(api)
        _arm(cloud, step)
        api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
        _wait_for_attempt(api, lease['id'], 'end_lease')
        cloud.clear_faults()
        ended = wait_for_status(api, lease['id'], 'TERMINATED', timeout=20)
        assert ended['reservations'][0]['status'] == 'deleted'
        assert _without_empty_providers(cloud_objects(cloud)) == before, step


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
