"""The simulated Placement's HTTP API, through a real keystoneauth Adapter."""
import uuid

import pytest
import requests

from blazar.clients import placement as placement_client
from blazar.conf import CONF
from blazar.simulator import state
from blazar.simulator import testing
from blazar.simulator.testing import placement_adapter_for

RC = 'CUSTOM_RESERVATION_X'


@pytest.fixture
def api(sim):
    return placement_adapter_for(sim)


def new_uuid():
    return str(uuid.uuid4())


def error_of(resp):
    [error] = resp.json()['errors']
    return error


def create(api, name, parent=None, **extra):
    body = dict({'name': name}, **extra)
    if parent:
        body['parent_provider_uuid'] = parent
    resp = api.post('/resource_providers', json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def root_of(api, hostname):
    [rp] = api.get('/resource_providers?name=%s' % hostname).json()[
        'resource_providers']
    return rp


def put_inventory(api, rp, inventories, generation=None):
    if generation is None:
        generation = api.get('/resource_providers/%s' % rp).json()[
            'generation']
    return api.put('/resource_providers/%s/inventories' % rp, json={
        'resource_provider_generation': generation,
        'inventories': inventories})


# --- versions, auth, errors --------------------------------------------------
def test_root_document_needs_no_token(sim):
    resp = requests.get(sim.placement_url)
    assert resp.status_code == 200
    [version] = resp.json()['versions']
    assert (version['min_version'], version['max_version']) == ('1.0', '1.39')


def test_microversion_is_negotiated_and_echoed(sim):
    for asked, answered in [('1.39', '1.39'), ('1.14', '1.14'),
                            ('latest', '1.39'), (None, '1.0')]:
        api = placement_adapter_for(sim, version=asked)
        resp = api.get('/resource_providers')
        assert resp.status_code == 200
        assert resp.headers['OpenStack-API-Version'] == ('placement '
                                                         + answered)
        assert 'openstack-api-version' in resp.headers['Vary']
    resp = placement_adapter_for(sim, version='1.40').get('/traits')
    assert resp.status_code == 406
    assert 'Unacceptable version header: 1.40' in error_of(resp)['detail']
    resp = requests.get(sim.placement_url + '/traits', headers={
        'X-Auth-Token': 'admin', 'OpenStack-API-Version': 'placement one'})
    assert resp.status_code == 400


def test_placement_is_admin_only(sim):
    resp = placement_adapter_for(sim, token='alice:projA').get(
        '/resource_providers')
    assert resp.status_code == 403
    assert error_of(resp)['detail'] == ('Policy does not allow placement:'
                                        'resource_providers:list to be '
                                        'performed.')
    resp = requests.get(sim.placement_url + '/resource_providers')
    assert resp.status_code == 401
    # a plain 'admin' token, as the real-Placement test stack uses
    assert placement_adapter_for(sim, token='admin').get(
        '/resource_providers').status_code == 200


def test_error_body_shape(api):
    rp = new_uuid()
    resp = api.get('/resource_providers/%s' % rp)
    assert resp.status_code == 404
    error = error_of(resp)
    assert set(error) == {'status', 'title', 'detail', 'request_id', 'code'}
    assert (error['status'], error['title'], error['code']) == (
        404, 'Not Found', 'placement.undefined_code')
    assert rp in error['detail']
    assert error['request_id'] == resp.headers['x-openstack-request-id']
    old = placement_adapter_for(api_sim(api), version='1.22').get(
        '/resource_providers/%s' % rp)
    assert 'code' not in error_of(old)
    assert api.get('/nowhere').status_code == 404
    assert api.patch('/resource_providers').status_code == 405


def api_sim(api):
    """The server object an adapter points at (for other microversions)."""
    url = api.session.auth.endpoint
    return type('S', (), {'placement_url': url})


def test_routes_follow_microversions(sim):
    old = placement_adapter_for(sim, version='1.5')
    assert old.get('/traits').status_code == 404
    assert old.get('/resource_classes').status_code == 200
    assert old.put('/resource_classes/CUSTOM_A').status_code == 405


def test_unknown_query_parameters_are_refused(api):
    resp = api.get('/resource_providers?colour=red')
    assert resp.status_code == 400
    assert 'colour' in error_of(resp)['detail']


# --- resource providers ------------------------------------------------------
def test_hypervisors_are_root_providers(cloud, api):
    providers = api.get('/resource_providers').json()['resource_providers']
    hyps = cloud.list_hypervisors()
    assert [(p['uuid'], p['name']) for p in providers] == [
        (h['id'], h['hypervisor_hostname']) for h in hyps]
    root = providers[0]
    assert root['parent_provider_uuid'] is None
    assert root['root_provider_uuid'] == root['uuid']
    assert {link['rel'] for link in root['links']} == {
        'self', 'inventories', 'usages', 'aggregates', 'traits',
        'allocations'}
    inventories = api.get('/resource_providers/%s/inventories'
                          % root['uuid']).json()
    assert inventories['inventories'] == {
        'VCPU': {'total': 8, 'reserved': 0, 'min_unit': 1, 'max_unit': 8,
                 'step_size': 1, 'allocation_ratio': 1.0},
        'MEMORY_MB': {'total': 8192, 'reserved': 0, 'min_unit': 1,
                      'max_unit': 8192, 'step_size': 1,
                      'allocation_ratio': 1.0},
        'DISK_GB': {'total': 100, 'reserved': 0, 'min_unit': 1,
                    'max_unit': 100, 'step_size': 1,
                    'allocation_ratio': 1.0}}
    assert inventories['resource_provider_generation'] == root['generation']
    assert api.get('/resource_providers/%s/traits' % root['uuid']).json()[
        'traits'] == ['COMPUTE_NODE']


def test_provider_tree(api):
    root = root_of(api, 'compute-1')
    child = create(api, 'blazar_compute-1', parent=root['uuid'])
    assert child['parent_provider_uuid'] == root['uuid']
    assert child['root_provider_uuid'] == root['uuid']
    assert child['generation'] == 0
    grandchild = create(api, 'gc', parent=child['uuid'])
    assert grandchild['root_provider_uuid'] == root['uuid']
    tree = api.get('/resource_providers?in_tree=%s' % child['uuid']).json()
    assert [p['name'] for p in tree['resource_providers']] == [
        'compute-1', 'blazar_compute-1', 'gc']
    assert api.get('/resource_providers?in_tree=%s' % new_uuid()).json() == {
        'resource_providers': []}
    # parents go last
    resp = api.delete('/resource_providers/%s' % root['uuid'])
    assert resp.status_code == 409
    assert error_of(resp)['code'] == \
        'placement.resource_provider.cannot_delete_parent'
    assert api.delete('/resource_providers/%s'
                      % grandchild['uuid']).status_code == 204
    assert api.get('/resource_providers/%s'
                   % grandchild['uuid']).status_code == 404


def test_create_provider_errors_and_old_microversions(sim, api):
    resp = api.post('/resource_providers', json={'name': 'compute-1'})
    assert resp.status_code == 409
    assert error_of(resp)['code'] == 'placement.duplicate_name'
    resp = api.post('/resource_providers', json={
        'name': 'x', 'parent_provider_uuid': new_uuid()})
    assert resp.status_code == 400
    assert 'parent provider UUID cannot be found' in error_of(resp)['detail']
    assert api.post('/resource_providers', json={}).status_code == 400
    assert api.post('/resource_providers', json={
        'name': 'x', 'colour': 'red'}).status_code == 400
    assert api.post('/resource_providers', data='{"name": "x"}', headers={
        'Content-Type': 'text/plain'}).status_code == 415
    old = placement_adapter_for(sim, version='1.19')
    resp = old.post('/resource_providers', json={'name': 'old'})
    assert resp.status_code == 201 and not resp.content
    assert '/placement/resource_providers/' in resp.headers['Location']
    rp = new_uuid()
    resp = old.post('/resource_providers', json={'name': 'fixed', 'uuid': rp})
    assert api.get('/resource_providers/%s' % rp).json()['name'] == 'fixed'


def test_update_provider(api):
    rp = create(api, 'a')
    resp = api.put('/resource_providers/%s' % rp['uuid'], json={'name': 'b'})
    assert resp.status_code == 200 and resp.json()['name'] == 'b'
    other = create(api, 'c')
    resp = api.put('/resource_providers/%s' % rp['uuid'], json={
        'name': 'b', 'parent_provider_uuid': other['uuid']})
    assert resp.json()['root_provider_uuid'] == other['uuid']
    resp = api.put('/resource_providers/%s' % rp['uuid'], json={
        'name': 'b', 'parent_provider_uuid': None})       # 1.37: un-parent
    assert resp.json()['root_provider_uuid'] == rp['uuid']


def test_list_filters(cloud, api):
    root = root_of(api, 'compute-2')
    child = create(api, 'blazar_compute-2', parent=root['uuid'])
    api.put('/resource_classes/%s' % RC)
    assert put_inventory(api, child['uuid'], {RC: {'total': 1}}
                         ).status_code == 200

    def names(query):
        resp = api.get('/resource_providers?' + query)
        assert resp.status_code == 200, resp.text
        return [p['name'] for p in resp.json()['resource_providers']]
    assert names('name=compute-3') == ['compute-3']
    assert names('uuid=%s' % root['uuid']) == ['compute-2']
    assert names('resources=%s:1' % RC) == ['blazar_compute-2']
    assert names('resources=VCPU:8,MEMORY_MB:8192') == [
        'compute-1', 'compute-2', 'compute-3']
    assert names('resources=VCPU:9') == []
    assert names('required=COMPUTE_NODE') == [
        'compute-1', 'compute-2', 'compute-3']
    assert names('required=!COMPUTE_NODE') == ['blazar_compute-2']
    api.put('/traits/CUSTOM_A')
    api.put('/resource_providers/%s/traits' % child['uuid'], json={
        'traits': ['CUSTOM_A'],
        'resource_provider_generation': api.get(
            '/resource_providers/%s' % child['uuid']).json()['generation']})
    assert names('required=in:CUSTOM_A,COMPUTE_NODE') == [
        'compute-1', 'compute-2', 'compute-3', 'blazar_compute-2']
    assert names('required=CUSTOM_A&required=!COMPUTE_NODE') == [
        'blazar_compute-2']
    for bad in ('resources=VCPU', 'resources=CUSTOM_NOPE:1', 'uuid=nope',
                'required=CUSTOM_NOPE', 'required=', 'in_tree=nope'):
        assert api.get('/resource_providers?' + bad).status_code == 400, bad
    resp = api.get('/resource_providers?required=CUSTOM_NOPE')
    assert 'No such trait(s): CUSTOM_NOPE' in error_of(resp)['detail']


# --- inventories and generations ---------------------------------------------
def test_inventory_generation_conflict(api):
    rp = create(api, 'x')
    resp = put_inventory(api, rp['uuid'], {'VCPU': {'total': 4}}, 0)
    assert resp.status_code == 200
    body = resp.json()
    assert body['resource_provider_generation'] == 1
    assert body['inventories']['VCPU'] == {
        'total': 4, 'reserved': 0, 'min_unit': 1, 'max_unit': 2147483647,
        'step_size': 1, 'allocation_ratio': 1.0}
    resp = put_inventory(api, rp['uuid'], {'VCPU': {'total': 8}}, 0)
    assert resp.status_code == 409
    assert error_of(resp)['code'] == 'placement.concurrent_update'
    assert api.get('/resource_providers/%s/inventories' % rp['uuid']).json()[
        'inventories']['VCPU']['total'] == 4
    # the single-class routes are generation-checked too
    path = '/resource_providers/%s/inventories/VCPU' % rp['uuid']
    resp = api.put(path, json={'resource_provider_generation': 0,
                               'total': 2})
    assert error_of(resp)['code'] == 'placement.concurrent_update'
    resp = api.put(path, json={'resource_provider_generation': 1,
                               'total': 2, 'max_unit': 1})
    assert resp.status_code == 200
    assert resp.json()['resource_provider_generation'] == 2
    assert api.get(path).json()['max_unit'] == 1
    resp = api.post('/resource_providers/%s/inventories' % rp['uuid'], json={
        'resource_class': 'DISK_GB', 'total': 10,
        'resource_provider_generation': 2})
    assert resp.status_code == 201
    assert resp.json()['resource_provider_generation'] == 3
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete('/resource_providers/%s/inventories'
                      % rp['uuid']).status_code == 204
    assert api.get('/resource_providers/%s/inventories' % rp['uuid']).json()[
        'inventories'] == {}


@pytest.mark.parametrize('inventory', [
    {'reserved': 1}, {'total': 0}, {'total': 'ten'}, {'total': 2,
                                                      'reserved': 3},
    {'total': 2, 'min_unit': 3, 'max_unit': 2}, {'total': 1, 'colour': 1},
    {'total': 1, 'allocation_ratio': 0},
])
def test_inventory_validation(api, inventory):
    rp = create(api, 'x')
    assert put_inventory(api, rp['uuid'], {'VCPU': inventory}
                         ).status_code == 400
    assert put_inventory(api, rp['uuid'], {'CUSTOM_NOPE': {'total': 1}}
                         ).status_code == 400


def test_reserved_equal_to_total_from_1_26(sim, api):
    rp = create(api, 'x')
    assert put_inventory(api, rp['uuid'], {'VCPU': {
        'total': 2, 'reserved': 2}}).status_code == 200
    old = placement_adapter_for(sim, version='1.25')
    assert put_inventory(old, rp['uuid'], {'VCPU': {
        'total': 3, 'reserved': 3}}).status_code == 400


# --- resource classes and traits ---------------------------------------------
def test_resource_classes(api):
    assert api.put('/resource_classes/%s' % RC).status_code == 201
    assert api.put('/resource_classes/%s' % RC).status_code == 204
    names = [c['name'] for c in api.get('/resource_classes').json()[
        'resource_classes']]
    assert 'VCPU' in names and RC in names
    assert api.get('/resource_classes/%s' % RC).json()['name'] == RC
    resp = api.post('/resource_classes', json={'name': RC})
    assert resp.status_code == 409
    assert api.post('/resource_classes', json={
        'name': 'CUSTOM_B'}).status_code == 201
    assert api.put('/resource_classes/lower').status_code == 400
    assert api.put('/resource_classes/VCPU').status_code == 400
    assert api.delete('/resource_classes/VCPU').status_code == 400
    rp = create(api, 'x')
    put_inventory(api, rp['uuid'], {RC: {'total': 1}})
    resp = api.delete('/resource_classes/%s' % RC)
    assert resp.status_code == 409
    put_inventory(api, rp['uuid'], {})
    assert api.delete('/resource_classes/%s' % RC).status_code == 204
    assert api.delete('/resource_classes/%s' % RC).status_code == 404
    assert api.get('/resource_classes/%s' % RC).status_code == 404


def test_traits(api):
    assert api.put('/traits/CUSTOM_GPU').status_code == 201
    assert api.put('/traits/CUSTOM_GPU').status_code == 204
    assert api.put('/traits/HW_NEW').status_code == 400
    assert api.get('/traits/CUSTOM_GPU').status_code == 204
    assert api.get('/traits/CUSTOM_NOPE').status_code == 404
    assert api.get('/traits?name=startswith:CUSTOM_').json() == {
        'traits': ['CUSTOM_GPU']}
    assert api.get('/traits?name=in:CUSTOM_GPU,COMPUTE_NODE').json() == {
        'traits': ['COMPUTE_NODE', 'CUSTOM_GPU']}
    assert api.get('/traits?associated=true').json() == {
        'traits': ['COMPUTE_NODE']}
    rp = create(api, 'x')
    path = '/resource_providers/%s/traits' % rp['uuid']
    resp = api.put(path, json={'traits': ['CUSTOM_NOPE', 'CUSTOM_GPU'],
                               'resource_provider_generation': 0})
    assert resp.status_code == 400
    assert 'No such trait(s): CUSTOM_NOPE' in error_of(resp)['detail']
    resp = api.put(path, json={'traits': ['CUSTOM_GPU'],
                               'resource_provider_generation': 0})
    assert resp.json() == {'traits': ['CUSTOM_GPU'],
                           'resource_provider_generation': 1}
    resp = api.put(path, json={'traits': [],
                               'resource_provider_generation': 0})
    assert error_of(resp)['code'] == 'placement.concurrent_update'
    assert api.delete('/traits/CUSTOM_GPU').status_code == 409
    assert api.delete(path).status_code == 204
    assert api.get(path).json() == {'traits': [],
                                    'resource_provider_generation': 2}
    assert api.delete('/traits/CUSTOM_GPU').status_code == 204
    assert api.delete('/traits/COMPUTE_NODE').status_code == 400


# --- allocations -------------------------------------------------------------
def allocate(api, consumer, allocations, generation=None, **extra):
    body = {'allocations': {rp: {'resources': r}
                            for rp, r in allocations.items()},
            'project_id': 'p', 'user_id': 'u',
            'consumer_generation': generation, 'consumer_type': 'INSTANCE'}
    body.update(extra)
    return api.put('/allocations/%s' % consumer, json=body)


def test_allocations_lifecycle(api):
    rp = create(api, 'x')
    put_inventory(api, rp['uuid'], {'VCPU': {'total': 4, 'max_unit': 2},
                                    'DISK_GB': {'total': 10,
                                                'step_size': 5}})
    consumer = new_uuid()
    generation = api.get('/resource_providers/%s' % rp['uuid']).json()[
        'generation']
    resp = allocate(api, consumer, {rp['uuid']: {'VCPU': 2, 'DISK_GB': 5}})
    assert resp.status_code == 204, resp.text
    assert api.get('/resource_providers/%s' % rp['uuid']).json()[
        'generation'] == generation + 1
    record = api.get('/allocations/%s' % consumer).json()
    assert record == {'allocations': {rp['uuid']: {
        'generation': generation + 1,
        'resources': {'VCPU': 2, 'DISK_GB': 5}}},
        'project_id': 'p', 'user_id': 'u', 'consumer_generation': 1,
        'consumer_type': 'INSTANCE'}
    assert api.get('/resource_providers/%s/usages' % rp['uuid']).json()[
        'usages'] == {'VCPU': 2, 'DISK_GB': 5}
    assert api.get('/resource_providers/%s/allocations'
                   % rp['uuid']).json()['allocations'] == {
        consumer: {'resources': {'VCPU': 2, 'DISK_GB': 5}}}
    # consumer generations
    resp = allocate(api, consumer, {rp['uuid']: {'VCPU': 1}}, None)
    assert error_of(resp)['code'] == 'placement.concurrent_update'
    assert allocate(api, consumer, {rp['uuid']: {'VCPU': 1}},
                    1).status_code == 204
    # the inventory in use cannot go
    resp = put_inventory(api, rp['uuid'], {'DISK_GB': {'total': 10}})
    assert resp.status_code == 409
    assert error_of(resp)['code'] == 'placement.inventory.inuse'
    resp = api.delete('/resource_providers/%s' % rp['uuid'])
    assert error_of(resp)['code'] == 'placement.resource_provider.inuse'
    assert api.delete('/allocations/%s' % consumer).status_code == 204
    assert api.delete('/allocations/%s' % consumer).status_code == 404
    assert api.get('/allocations/%s' % consumer).json() == {
        'allocations': {}}
    assert api.delete('/resource_providers/%s' % rp['uuid']).status_code == \
        204


@pytest.mark.parametrize('resources, status, words', [
    ({'VCPU': 3}, 409, 'violates min_unit, max_unit, or step_size'),
    ({'DISK_GB': 3}, 409, 'violates'),
    ({'MEMORY_MB': 1}, 409, "Inventory for 'MEMORY_MB'"),
    ({'CUSTOM_NOPE': 1}, 400, 'Unknown resource class'),
    ({'VCPU': 0}, 400, 'not a valid amount'),
])
def test_allocation_refusals(api, resources, status, words):
    rp = create(api, 'x')
    put_inventory(api, rp['uuid'], {'VCPU': {'total': 4, 'max_unit': 2},
                                    'DISK_GB': {'total': 10,
                                                'step_size': 5}})
    resp = allocate(api, new_uuid(), {rp['uuid']: resources})
    assert resp.status_code == status
    assert words in error_of(resp)['detail']


def test_capacity_counts_other_consumers_and_ratio(api):
    rp = create(api, 'x')
    put_inventory(api, rp['uuid'], {'VCPU': {
        'total': 4, 'reserved': 1, 'allocation_ratio': 2.0}})
    for _ in range(3):      # (4 - 1) * 2 = 6
        assert allocate(api, new_uuid(), {rp['uuid']: {'VCPU': 2}}
                        ).status_code == 204
    resp = allocate(api, new_uuid(), {rp['uuid']: {'VCPU': 1}})
    assert resp.status_code == 409
    assert 'exceed the capacity' in error_of(resp)['detail']
    assert allocate(api, new_uuid(), {new_uuid(): {'VCPU': 1}}
                    ).status_code == 400


def test_allocation_body_by_microversion(sim, api):
    rp = create(api, 'x')
    put_inventory(api, rp['uuid'], {'VCPU': {'total': 4}})
    old = placement_adapter_for(sim, version='1.8')
    consumer = new_uuid()
    resp = old.put('/allocations/%s' % consumer, json={
        'allocations': [{'resource_provider': {'uuid': rp['uuid']},
                         'resources': {'VCPU': 1}}],
        'project_id': 'p', 'user_id': 'u'})
    assert resp.status_code == 204, resp.text
    assert set(old.get('/allocations/%s' % consumer).json()) == {
        'allocations'}
    mid = placement_adapter_for(sim, version='1.27')
    resp = mid.put('/allocations/%s' % new_uuid(), json={
        'allocations': {rp['uuid']: {'resources': {'VCPU': 1}}},
        'project_id': 'p', 'user_id': 'u'})
    assert resp.status_code == 204
    missing_type = api.put('/allocations/%s' % new_uuid(), json={
        'allocations': {rp['uuid']: {'resources': {'VCPU': 1}}},
        'project_id': 'p', 'user_id': 'u', 'consumer_generation': None})
    assert missing_type.status_code == 400       # 1.38: consumer_type
    # an empty allocation set removes the consumer's allocations
    consumer = new_uuid()
    allocate(api, consumer, {rp['uuid']: {'VCPU': 1}})
    assert allocate(api, consumer, {}, 1).status_code == 204
    assert api.get('/allocations/%s' % consumer).json() == {
        'allocations': {}}


# --- allocation candidates ---------------------------------------------------
def test_allocation_candidates(cloud, api):
    root = root_of(api, 'compute-2')
    child = create(api, 'blazar_compute-2', parent=root['uuid'])
    api.put('/resource_classes/%s' % RC)
    put_inventory(api, child['uuid'], {RC: {'total': 1}})
    resp = api.get('/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,'
                   '%s:1&limit=5' % RC)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body['allocation_requests'] == [{
        'allocations': {root['uuid']: {'resources': {'VCPU': 1,
                                                     'MEMORY_MB': 512}},
                        child['uuid']: {'resources': {RC: 1}}},
        'mappings': {'': sorted([root['uuid'], child['uuid']])}}]
    assert set(body['provider_summaries']) == {root['uuid'], child['uuid']}
    summary = body['provider_summaries'][child['uuid']]
    assert summary == {'resources': {RC: {'capacity': 1, 'used': 0}},
                       'traits': [], 'parent_provider_uuid': root['uuid'],
                       'root_provider_uuid': root['uuid']}
    everywhere = api.get('/allocation_candidates?resources=VCPU:1').json()
    assert len(everywhere['allocation_requests']) == 3
    assert len(api.get('/allocation_candidates?resources=VCPU:1&limit=1'
                       ).json()['allocation_requests']) == 1
    assert api.get('/allocation_candidates?resources=VCPU:1&required='
                   '!COMPUTE_NODE').json()['allocation_requests'] == []
    assert len(api.get('/allocation_candidates?resources=VCPU:1&in_tree=%s'
                       % child['uuid']).json()['allocation_requests']) == 1
    assert api.get('/allocation_candidates').status_code == 400
    assert api.get('/allocation_candidates?resources=VCPU:99').json() == {
        'allocation_requests': [], 'provider_summaries': {}}


# --- faults ------------------------------------------------------------------
def test_injected_faults_are_placement_shaped(cloud, api):
    cloud.inject_fault('PUT', r'^/placement/resource_providers/.*/'
                       r'inventories$', status=409)
    rp = create(api, 'x')
    resp = put_inventory(api, rp['uuid'], {'VCPU': {'total': 1}})
    assert resp.status_code == 409
    assert error_of(resp)['code'] == 'placement.concurrent_update'
    assert resp.headers['OpenStack-API-Version'] == 'placement 1.39'
    cloud.inject_fault('GET', r'^/placement/traits$', status=503)
    resp = api.get('/traits')
    assert (resp.status_code, error_of(resp)['title']) == (
        503, 'Service Unavailable')
    assert ('PUT', '/placement/resource_providers/%s/inventories'
            % rp['uuid'], None) in cloud.requests


def test_simulated_nova_points_both_clients():
    with testing.simulated_nova(state.Cloud(hosts=2)) as srv:
        assert srv.placement_url == srv.url + '/placement'
        assert CONF.placement.endpoint == srv.placement_url
        assert CONF.nova.endpoint == srv.compute_url
        client = placement_client.get_client()
        assert client.get_provider_by_name('compute-2') is not None
    assert CONF.placement.auth_type is None
