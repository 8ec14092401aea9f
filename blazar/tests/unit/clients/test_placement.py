"""blazar.clients.placement against the simulator, over real loopback HTTP
with the real keystoneauth Adapter."""
import json
import threading
import time

from keystoneauth1 import loading as ks_loading
import pytest

from blazar import exceptions
from blazar.clients import placement as placement_client
from blazar.conf import CONF
from blazar.conf import opts as conf_opts
from blazar.simulator import scheduler
from blazar.simulator import server
from blazar.simulator import state
from blazar.simulator import testing
from blazar.utils import wsgi

RC = 'CUSTOM_RESERVATION_X'
INVENTORIES = r'^/placement/resource_providers/[^/]+/inventories$'


@pytest.fixture
def cloud():
    return state.Cloud(hosts=['compute-1', 'compute-2'], vcpus=4,
                       memory_mb=4096, local_gb=40, pools=scheduler.Pools())


@pytest.fixture
def sim(cloud):
    srv = server.start_simulator(cloud)
    undo = testing.point_placement_at(srv.placement_url)
    yield srv
    undo()
    srv.stop()


@pytest.fixture
def client(sim):
    return placement_client.get_client()


@pytest.fixture
def nova(sim):
    return testing.novaclient_for(sim)


@pytest.fixture
def override():
    """set_override that is undone after the test."""
    done = []

    def _set(name, value, group='placement'):
        CONF.set_override(name, value, group=group)
        done.append((name, group))
        placement_client.reset_client()
    yield _set
    for name, group in done:
        CONF.clear_override(name, group=group)
    placement_client.reset_client()


def placement_puts(cloud):
    return [r for r in cloud.requests
            if r[0] == 'PUT' and r[1].endswith('/inventories')]


# --- construction, configuration, transport errors ---------------------------
def test_client_is_cached_and_resettable(sim):
    first = placement_client.get_client()
    assert placement_client.get_client() is first
    assert first.adapter.default_microversion == '1.39'
    assert first.adapter.service_type == 'placement'
    placement_client.reset_client()
    assert placement_client.get_client() is not first


def test_options_are_registered_like_nova():
    names = {opt.dest for group, opts in conf_opts.list_opts()
             if group == 'placement' for opt in opts}
    assert {'api_microversion', 'generation_conflict_retries', 'auth_type',
            'timeout', 'valid_interfaces', 'endpoint_override',
            'region_name', 'username', 'password'} <= names
    assert CONF.placement.api_microversion == '1.39'


def test_microversion_is_configurable(sim, override):
    override('api_microversion', '1.14')
    client = placement_client.get_client()
    assert client.adapter.default_microversion == '1.14'
    child = client.reservation_provider('compute-1')   # 1.14: nested
    assert child['parent_provider_uuid'] is not None   # (1.20 body absent)


def test_missing_credentials(override):
    placement_client.reset_client()
    override('auth_type', None)
    with pytest.raises(exceptions.PlacementUnavailable) as exc:
        placement_client.get_client()
    assert exc.value.code == 503


def test_unreachable_placement_is_unavailable():
    undo = testing.point_placement_at('http://127.0.0.1:9/placement')
    try:
        with pytest.raises(exceptions.PlacementUnavailable):
            placement_client.get_client().get_provider_by_name('compute-1')
    finally:
        undo()


def test_timeout_is_unavailable(cloud, sim, override):
    override('timeout', 0.3)
    cloud.inject_fault('GET', r'^/placement/resource_providers$', status=None,
                       delay=10)
    started = time.monotonic()
    try:
        with pytest.raises(exceptions.PlacementUnavailable):
            placement_client.get_client().get_provider_by_name('compute-1')
    finally:
        cloud.clear_faults()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize('status, error', [
    (503, exceptions.PlacementUnavailable),
    (500, exceptions.PlacementError),
    (400, exceptions.PlacementError),
])
def test_http_errors_are_translated(cloud, client, status, error):
    cloud.inject_fault('GET', r'^/placement/resource_providers$',
                       status=status, message='boom')
    with pytest.raises(error) as exc:
        client.get_provider_by_name('compute-1')
    assert 'boom (HTTP %d)' % status in str(exc.value)
    assert not isinstance(exc.value, exceptions.PlacementConflict)


def fake_keystone(placement_url, token='admin:admin'):
    """Just enough of Keystone v3 for the password plugin: discovery and a
    token whose catalog lists Placement."""
    def app(environ, start_response):
        path, method = environ['PATH_INFO'].rstrip('/'), environ[
            'REQUEST_METHOD']
        base = 'http://%s' % environ['HTTP_HOST']
        headers = [('Content-Type', 'application/json')]
        if method == 'GET' and path in ('', '/v3'):
            status, body = '200 OK', {'version': {
                'id': 'v3.14', 'status': 'stable',
                'updated': '2020-04-07T00:00:00Z',
                'links': [{'rel': 'self', 'href': base + '/v3/'}],
                'media-types': [{'base': 'application/json',
                                 'type': 'application/'
                                         'vnd.openstack.identity-v3+json'}]}}
        elif method == 'POST' and path == '/v3/auth/tokens':
            request = json.loads(environ['wsgi.input'].read(
                int(environ.get('CONTENT_LENGTH') or 0)))
            assert request['auth']['identity']['password']['user'][
                'name'] == 'blazar'
            domain = {'id': 'default', 'name': 'Default'}
            status, body = '201 Created', {'token': {
                'methods': ['password'],
                'expires_at': '2099-01-01T00:00:00.000000Z',
                'issued_at': '2020-01-01T00:00:00.000000Z',
                'user': {'id': 'u1', 'name': 'blazar', 'domain': domain},
                'project': {'id': 'p1', 'name': 'service',
                            'domain': domain},
                'roles': [{'id': 'r1', 'name': 'admin'}],
                'catalog': [{'type': 'placement', 'name': 'placement',
                             'id': 's1', 'endpoints': [
                                 {'id': 'e1', 'interface': 'internal',
                                  'region': 'RegionOne',
                                  'region_id': 'RegionOne',
                                  'url': placement_url}]}]}}
            headers.append(('X-Subject-Token', token))
        else:
            status, body = '404 Not Found', {'error': {'code': 404}}
        start_response(status, headers)
        return [json.dumps(body).encode()]
    return app


def test_password_auth_through_keystone(sim):
    keystone = wsgi.Server(fake_keystone(sim.placement_url), '127.0.0.1',
                           0, name='fake-keystone').start()
    password_opts = ks_loading.get_auth_plugin_conf_options('password')
    CONF.register_opts(password_opts, group='placement')
    try:
        for name, value in [('auth_type', 'password'),
                            ('auth_url', keystone.url + '/v3'),
                            ('username', 'blazar'), ('password', 'secret'),
                            ('project_name', 'service'),
                            ('user_domain_name', 'Default'),
                            ('project_domain_name', 'Default')]:
            CONF.set_override(name, value, group='placement')
        placement_client.reset_client()
        client = placement_client.get_client()
        assert client.get_provider_by_name('compute-2')['name'] == \
            'compute-2'
    finally:
        keystone.stop()
        placement_client.reset_client()
        # The plugin's options (auth-url is required) must not outlive the
        # test: unregistering needs a reset configuration.
        CONF.reset()
        CONF.unregister_opts(password_opts, group='placement')


# --- providers ---------------------------------------------------------------
def test_providers(cloud, client):
    root = client.get_provider_by_name('compute-1')
    assert root['uuid'] == cloud.list_hypervisors()[0]['id']
    assert root['root_provider_uuid'] == root['uuid']
    assert client.get_provider(root['uuid']) == root
    assert client.get_provider('0b5e1b42-0000-4000-8000-000000000000') is None
    assert client.get_provider_by_name('compute-9') is None
    child = client.create_provider('extra', parent_uuid=root['uuid'])
    assert [p['name'] for p in client.get_provider_tree(root['uuid'])] == [
        'compute-1', 'extra']
    assert client.get_provider_tree(
        '0b5e1b42-0000-4000-8000-000000000000') == []
    with pytest.raises(exceptions.PlacementConflict):
        client.create_provider('extra')
    with pytest.raises(exceptions.ResourceProviderNotFound):
        client.create_provider('orphan', parent_uuid='0b5e1b42-0000-4000-'
                               '8000-000000000000')
    with pytest.raises(exceptions.PlacementConflict):
        client.delete_provider(root['uuid'])          # it has a child
    client.delete_provider(child['uuid'])
    client.delete_provider(child['uuid'])             # already gone: fine
    assert client.get_provider(child['uuid']) is None


def test_reservation_provider_is_created_once(cloud, client):
    first = client.reservation_provider('compute-2')
    assert first['name'] == 'blazar_compute-2'
    root = client.get_provider_by_name('compute-2')
    assert first['parent_provider_uuid'] == root['uuid']
    assert client.reservation_provider('compute-2') == first
    assert len(cloud.placement.list_providers(in_tree=root['uuid'])) == 2
    with pytest.raises(exceptions.ResourceProviderNotFound):
        client.reservation_provider('compute-9')
    client.delete_reservation_provider('compute-2')
    client.delete_reservation_provider('compute-2')
    assert client.get_provider_by_name('blazar_compute-2') is None


def test_concurrent_reservation_provider_creation(cloud, client):
    """Two managers racing for the child: both get the same provider."""
    cloud.inject_fault('POST', r'^/placement/resource_providers$',
                       status=None, delay=0.3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        placement_client.PlacementClient().reservation_provider(
            'compute-1'))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 2 and results[0]['uuid'] == results[1]['uuid']


# --- inventories -------------------------------------------------------------
def test_inventory_helpers(client):
    rp = client.reservation_provider('compute-1')['uuid']
    client.create_resource_class(RC)
    assert client.get_inventories(rp) == {}
    inventory = client.set_inventory(rp, RC, 2, max_unit=1)
    assert inventory == {'total': 2, 'reserved': 0, 'min_unit': 1,
                         'max_unit': 1, 'step_size': 1,
                         'allocation_ratio': 1.0}
    assert client.add_to_inventory(rp, RC, 3)['total'] == 5
    with pytest.raises(exceptions.PlacementError):    # unknown class
        client.add_to_inventory(rp, 'CUSTOM_OTHER', 1)
    client.create_resource_class('CUSTOM_OTHER')
    assert client.add_to_inventory(rp, 'CUSTOM_OTHER', 4, max_unit=1) == {
        'total': 4, 'reserved': 0, 'min_unit': 1, 'max_unit': 1,
        'step_size': 1, 'allocation_ratio': 1.0}
    assert client.remove_inventory(rp, RC, 2)['total'] == 3
    assert client.remove_inventory(rp, RC, 3) is None
    assert set(client.get_inventories(rp)) == {'CUSTOM_OTHER'}
    assert client.set_inventory(rp, 'CUSTOM_OTHER', 0) is None
    assert client.get_inventories(rp) == {}
    # clean-up calls are idempotent
    assert client.remove_inventory(rp, RC) is None
    assert client.remove_inventory('0b5e1b42-0000-4000-8000-000000000000',
                                   RC) is None
    with pytest.raises(exceptions.ResourceProviderNotFound):
        client.get_inventories('0b5e1b42-0000-4000-8000-000000000000')
    with pytest.raises(exceptions.ResourceProviderNotFound):
        client.set_inventory('0b5e1b42-0000-4000-8000-000000000000', RC, 1)
    with pytest.raises(exceptions.PlacementError):
        client.set_inventory(rp, 'CUSTOM_UNKNOWN', 1)


def test_inventory_update_keeps_other_classes(client):
    root = client.get_provider_by_name('compute-1')['uuid']
    client.create_resource_class(RC)
    client.set_inventory(root, RC, 1)
    assert set(client.get_inventories(root)) == {'VCPU', 'MEMORY_MB',
                                                 'DISK_GB', RC}
    assert client.get_inventories(root)['VCPU']['total'] == 4


def test_generation_conflict_is_retried_from_a_fresh_read(cloud, client):
    """A writer slips in between the client's read and its write: the
    stale write is refused (409 concurrent_update) and redone."""
    rp = client.reservation_provider('compute-1')['uuid']
    client.create_resource_class(RC)
    client.create_resource_class('CUSTOM_OTHER')
    held = cloud.inject_fault('PUT', INVENTORIES, status=None, delay=30)
    cloud.clear_requests()
    done = []
    worker = threading.Thread(target=lambda: done.append(
        client.set_inventory(rp, RC, 2, max_unit=1)))
    worker.start()
    deadline = time.monotonic() + 10
    while held.hits == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    generation = cloud.placement.get_provider(rp)['generation']
    cloud.placement.set_inventories(rp, generation, {'CUSTOM_OTHER': {
        'total': 7}})                        # the other writer
    cloud.clear_faults()                     # let the stale PUT through
    worker.join(10)
    assert done == [{'total': 2, 'reserved': 0, 'min_unit': 1,
                     'max_unit': 1, 'step_size': 1,
                     'allocation_ratio': 1.0}]
    assert set(client.get_inventories(rp)) == {RC, 'CUSTOM_OTHER'}
    assert len(placement_puts(cloud)) == 2
    reads = [r for r in cloud.requests
             if r[0] == 'GET' and r[1].endswith('/inventories')]
    assert len(reads) >= 2


def test_generation_conflicts_give_up_after_the_retries(cloud, client,
                                                        override):
    override('generation_conflict_retries', 2)
    client = placement_client.get_client()
    rp = client.reservation_provider('compute-1')['uuid']
    client.create_resource_class(RC)
    cloud.inject_fault('PUT', INVENTORIES, status=409, times=None)
    cloud.clear_requests()
    with pytest.raises(exceptions.PlacementConflict) as exc:
        client.set_inventory(rp, RC, 1)
    assert 'kept changing' in str(exc.value)
    assert len(placement_puts(cloud)) == 3


def test_traits_are_retried_too(cloud, client):
    rp = client.reservation_provider('compute-1')['uuid']
    client.ensure_trait('CUSTOM_A')
    cloud.inject_fault('PUT', r'/traits$', status=409, times=2)
    assert client.set_traits(rp, ['CUSTOM_A']) == ['CUSTOM_A']
    assert client.get_traits(rp) == ['CUSTOM_A']


# --- classes and traits ------------------------------------------------------
def test_resource_classes_are_idempotent(cloud, client):
    client.create_resource_class(RC)
    client.create_resource_class(RC)
    assert RC in cloud.placement.list_resource_classes()
    rp = client.reservation_provider('compute-1')['uuid']
    client.set_inventory(rp, RC, 1)
    with pytest.raises(exceptions.PlacementConflict):
        client.delete_resource_class(RC)
    client.remove_inventory(rp, RC)
    client.delete_resource_class(RC)
    client.delete_resource_class(RC)
    assert RC not in cloud.placement.list_resource_classes()
    with pytest.raises(exceptions.PlacementError):
        client.create_resource_class('not-custom')


def test_providers_with_traits(cloud, client):
    root = client.get_provider_by_name('compute-2')['uuid']
    client.ensure_trait('CUSTOM_GPU')
    client.set_traits(root, ['COMPUTE_NODE', 'CUSTOM_GPU'])
    assert client.get_traits(root) == ['COMPUTE_NODE', 'CUSTOM_GPU']
    names = [p['name'] for p in client.providers_with_traits(['CUSTOM_GPU'])]
    assert names == ['compute-2']
    names = [p['name'] for p in client.providers_with_traits(
        ['COMPUTE_NODE'], forbidden=['CUSTOM_GPU'])]
    assert names == ['compute-1']
    assert client.providers_with_traits(['CUSTOM_NEVER_DEFINED']) == []
    assert len(client.providers_with_traits()) == 2


# --- with servers ------------------------------------------------------------
def test_usages_after_boots_and_deletes(cloud, client, nova):
    flavor = nova.flavors.create('small', 1024, 1, 10)
    ids = [nova.servers.create('vm', 'img', flavor, nics='none',
                               host='compute-1').id for _ in range(2)]
    root = client.get_provider_by_name('compute-1')['uuid']
    assert client.get_usages(root) == {'VCPU': 2, 'MEMORY_MB': 2048,
                                       'DISK_GB': 20}
    assert client.get_allocations(ids[0]) == {root: {
        'VCPU': 1, 'MEMORY_MB': 1024, 'DISK_GB': 10}}
    nova.servers.delete(ids[0])
    assert client.get_usages(root) == {'VCPU': 1, 'MEMORY_MB': 1024,
                                       'DISK_GB': 10}
    assert client.get_allocations(ids[0]) == {}
    with pytest.raises(exceptions.ResourceProviderNotFound):
        client.get_usages('0b5e1b42-0000-4000-8000-000000000000')


def test_custom_class_confinement_flow(cloud, client, nova):
    """What the instance plugin does at lease start and end, and what the
    cloud makes of it: two slots on compute-2, the third boot refused."""
    client.create_resource_class(RC)
    child = client.reservation_provider('compute-2')
    client.set_inventory(child['uuid'], RC, 2, max_unit=1)
    flavor = nova.flavors.create('reservation:x', 512, 1, 1,
                                 is_public=False)
    flavor.set_keys({'resources:%s' % RC: '1'})
    ids = [nova.servers.create('vm', 'img', flavor, nics='none').id
           for _ in range(3)]
    servers = [nova.servers.get(i) for i in ids]
    assert [getattr(s, 'OS-EXT-SRV-ATTR:host') for s in servers[:2]] == [
        'compute-2', 'compute-2']
    assert servers[2].status == 'ERROR'
    assert servers[2].fault['message'] == 'No valid host was found.'
    assert client.get_usages(child['uuid']) == {RC: 2}
    # lease end: the class cannot go while servers use it...
    with pytest.raises(exceptions.PlacementConflict) as exc:
        client.remove_inventory(child['uuid'], RC)
    assert 'in use' in str(exc.value)
    with pytest.raises(exceptions.PlacementConflict):
        client.delete_provider(child['uuid'])
    # ...and goes once they are deleted
    for server_id in ids:
        nova.servers.delete(server_id)
    client.remove_inventory(child['uuid'], RC)
    client.delete_resource_class(RC)
    client.delete_reservation_provider('compute-2')
    assert [p['name'] for p in client.get_provider_tree(
        child['root_provider_uuid'])] == ['compute-2']


def test_growing_the_inventory_opens_slots_at_once(cloud, client, nova):
    client.create_resource_class(RC)
    child = client.reservation_provider('compute-1')['uuid']
    client.set_inventory(child, RC, 1, max_unit=1)
    flavor = nova.flavors.create('reservation:y', 512, 1, 1)
    flavor.set_keys({'resources:%s' % RC: '1'})
    first = nova.servers.create('vm', 'img', flavor, nics='none')
    assert nova.servers.get(first.id).status == 'ACTIVE'
    assert nova.servers.get(nova.servers.create(
        'vm', 'img', flavor, nics='none').id).status == 'ERROR'
    client.add_to_inventory(child, RC, 1)
    assert nova.servers.get(nova.servers.create(
        'vm', 'img', flavor, nics='none').id).status == 'ACTIVE'
