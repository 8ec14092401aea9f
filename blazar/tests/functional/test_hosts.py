"""/v1/os-hosts: enrolment through Nova, extra capabilities, properties,
allocations, and admin-only policy."""
import pytest

from blazar.simulator import state as sim_state


def freepool_hosts(cloud):
    pools = [a for a in cloud.list_aggregates() if a['name'] == 'freepool']
    return sorted(pools[0]['hosts']) if pools else []


def boot_on(cloud, host, preemptible=False):
    """A server on the host (a preemptible one may land on freepool hosts)."""
    flavor = cloud.create_flavor('tiny-%s' % host, ram=512, vcpus=1, disk=1)
    if preemptible:
        cloud.set_extra_specs(flavor['id'], {'blazar:preemptible': 'true'})
    server = cloud.create_servers(sim_state.ADMIN, 'vm', flavor['id'], host=host)[0]
    assert server['status'] == 'ACTIVE'
    return server


def test_enrol_a_host_by_name_with_extra_capabilities(api, stack):
    resp = api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100', 'racks': 3})
    assert resp.status_code == 201, resp.text
    host = resp.json()['host']
    assert host['hypervisor_hostname'] == 'compute-1'
    assert host['service_name'] == 'compute-1'
    assert host['id'].isdigit()
    assert (host['vcpus'], host['hypervisor_type']) == (8, 'fake')
    assert host['gpu'] == 'a100' and host['racks'] == '3'
    assert host['reservable'] is True
    assert freepool_hosts(stack.simulator.cloud) == ['compute-1']
    shown = api.get('/v1/os-hosts/%s' % host['id']).json()['host']
    assert shown == host
    assert api.get('/v1/os-hosts/compute-1').json()['host']['id'] == host['id']
    assert [h['id'] for h in api.get('/v1/os-hosts').json()['hosts']] == [host['id']]


@pytest.mark.parametrize('body, code, words', [
    ({'name': 'compute-99'}, 404, 'compute-99'),
    ({}, 400, 'Missing parameter name'),
    ({'name': 'compute-1', 'k' * 65: 'v'}, 400, '64'),
    ({'name': 'compute-1', 'vcpus': '999'}, 400, 'host attribute'),
    ({'name': 'compute-1', 'gpu': {'a': 1}}, 400, 'gpu'),
])
def test_enrolment_errors_change_nothing(api, stack, body, code, words):
    resp = api.post('/v1/os-hosts', body)
    assert resp.status_code == code, resp.text
    assert words in resp.json()['error_message']
    assert api.get('/v1/os-hosts').json()['hosts'] == []
    assert freepool_hosts(stack.simulator.cloud) == []


def test_enrolling_twice_is_a_conflict(api, stack):
    assert api.post('/v1/os-hosts', {'name': 'compute-1'}).status_code == 201
    resp = api.post('/v1/os-hosts', {'name': 'compute-1'})
    assert resp.status_code == 409
    assert 'already enrolled' in resp.json()['error_message']


def test_a_host_running_servers_is_refused(api, stack):
    boot_on(stack.simulator.cloud, 'compute-2')
    resp = api.post('/v1/os-hosts', {'name': 'compute-2'})
    assert resp.status_code == 409
    assert resp.json()['error_message'].startswith('Servers [')
    assert freepool_hosts(stack.simulator.cloud) == []


def test_update_extra_capabilities(api, stack):
    host = api.post('/v1/os-hosts', {'name': 'compute-1'}).json()['host']
    url = '/v1/os-hosts/%s' % host['id']
    resp = api.put(url, {'gpu': 'a100'})
    assert resp.status_code == 200, resp.text
    assert resp.json()['host']['gpu'] == 'a100'
    assert api.put(url, {'gpu': 'h100'}).json()['host']['gpu'] == 'h100'
    resp = api.put(url, {})
    assert resp.status_code == 400
    assert 'No data to update' in resp.json()['error_message']
    resp = api.put('/v1/os-hosts/9999', {'gpu': 'x'})
    assert resp.status_code == 404
    assert resp.json()['error_message'] == "Object with {'host_id': '9999'} not found"


def test_null_capability_value_deletes_it(api, stack):
    """As upstream: `blazar host-unset --extra gpu` sends {"gpu": null}."""
    host = api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100',
                                     'rack': 'r1'}).json()['host']
    url = '/v1/os-hosts/%s' % host['id']
    resp = api.put(url, {'gpu': None})
    assert resp.status_code == 200, resp.text
    assert 'gpu' not in resp.json()['host'] and resp.json()['host']['rack'] == 'r1'
    assert 'gpu' not in api.get(url).json()['host']
    # Deleting what the host does not have is no error.
    assert api.put(url, {'gpu': None}).status_code == 200
    props = api.get('/v1/os-hosts/properties').json()['resource_properties']
    assert props == [{'property': 'rack'}]


def test_delete_returns_the_host_to_nova(api, stack):
    host = api.post('/v1/os-hosts', {'name': 'compute-1'}).json()['host']
    resp = api.delete('/v1/os-hosts/%s' % host['id'])
    assert resp.status_code == 204
    assert api.get('/v1/os-hosts').json()['hosts'] == []
    assert freepool_hosts(stack.simulator.cloud) == []
    assert api.delete('/v1/os-hosts/%s' % host['id']).status_code == 404


def test_delete_refused_while_servers_run(api, stack):
    host = api.post('/v1/os-hosts', {'name': 'compute-1'}).json()['host']
    boot_on(stack.simulator.cloud, 'compute-1', preemptible=True)
    resp = api.delete('/v1/os-hosts/%s' % host['id'])
    assert resp.status_code == 409
    assert api.get('/v1/os-hosts/%s' % host['id']).status_code == 200
    assert freepool_hosts(stack.simulator.cloud) == ['compute-1']


def test_resource_properties_and_privacy(api, stack):
    api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100', 'rack': 'r1'})
    api.post('/v1/os-hosts', {'name': 'compute-2', 'gpu': 'h100'})
    props = api.get('/v1/os-hosts/properties').json()['resource_properties']
    assert props == [{'property': 'gpu'}, {'property': 'rack'}]
    detail = api.get('/v1/os-hosts/properties?detail=True').json()['resource_properties']
    assert detail == [{'property': 'gpu', 'private': False, 'values': ['a100', 'h100']},
                      {'property': 'rack', 'private': False, 'values': ['r1']}]
    assert api.get('/v1/os-hosts/properties?detail=False').json()[
        'resource_properties'] == props
    resp = api.patch('/v1/os-hosts/properties/rack', {'private': True})
    assert resp.status_code == 200, resp.text
    prop = resp.json()['resource_property']
    assert (prop['property_name'], prop['private']) == ('rack', True)
    assert prop['resource_type'] == 'physical:host'
    assert api.get('/v1/os-hosts/properties').json()['resource_properties'] == [
        {'property': 'gpu'}]
    assert {'property': 'rack'} in api.get(
        '/v1/os-hosts/properties?all=True').json()['resource_properties']


def test_property_patch_errors(api, stack):
    resp = api.patch('/v1/os-hosts/properties/nothing', {'private': True})
    assert resp.status_code == 404
    api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100'})
    resp = api.patch('/v1/os-hosts/properties/gpu', {'private': 'yes'})
    assert resp.status_code == 400
    assert 'private' in resp.json()['error_message']


def test_allocations_list_every_host(api, stack):
    one = api.post('/v1/os-hosts', {'name': 'compute-1'}).json()['host']
    two = api.post('/v1/os-hosts', {'name': 'compute-2'}).json()['host']
    allocations = api.get('/v1/os-hosts/allocations').json()['allocations']
    assert allocations == [{'resource_id': one['id'], 'reservations': []},
                           {'resource_id': two['id'], 'reservations': []}]
    resp = api.get('/v1/os-hosts/%s/allocation' % two['id'])
    assert resp.json() == {'allocation': {'resource_id': two['id'], 'reservations': []}}
    assert api.get('/v1/os-hosts/9999/allocation').status_code == 404


@pytest.mark.parametrize('method, path', [
    ('get', '/v1/os-hosts'), ('post', '/v1/os-hosts'), ('get', '/v1/os-hosts/1'),
    ('put', '/v1/os-hosts/1'), ('delete', '/v1/os-hosts/1'),
    ('get', '/v1/os-hosts/allocations'), ('get', '/v1/os-hosts/1/allocation'),
    ('get', '/v1/os-hosts/properties'), ('patch', '/v1/os-hosts/properties/gpu'),
])
def test_host_apis_are_admin_only(api, method, path):
    tenant = api.as_user('alice:proj1')
    kwargs = {'body': {'name': 'compute-1'}} if method in ('post', 'put', 'patch') else {}
    resp = getattr(tenant, method)(path, **kwargs)
    assert resp.status_code == 403
    assert 'blazar:oshosts' in resp.json()['error_message']
