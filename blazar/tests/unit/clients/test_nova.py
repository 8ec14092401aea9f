"""blazar.clients.nova against the simulator, over real loopback HTTP."""
import json

import pytest

from blazar import exceptions
from blazar.clients import nova as nova_client
from blazar.conf import CONF
from blazar.simulator import server
from blazar.simulator import state
from blazar.simulator import testing


@pytest.fixture
def cloud():
    return state.Cloud(hosts=['compute-1', 'compute-10', 'compute-2'],
                       vcpus=4, memory_mb=4096, local_gb=40)


@pytest.fixture
def sim(cloud):
    srv = server.start_simulator(cloud)
    undo = testing.point_nova_at(srv.compute_url)
    yield srv
    undo()
    srv.stop()


@pytest.fixture
def client(sim):
    return nova_client.get_client()


@pytest.fixture
def flavor(cloud):
    return cloud.create_flavor('small', 1024, 1, 10, flavor_id='small')


def boot(cloud, host=None, project='projA', flavor='small'):
    caller = state.Caller('u', project, False)
    if host:
        caller = state.ADMIN
    return cloud.create_servers(caller, 'vm', flavor, host=host)[0]['id']


@pytest.fixture
def override():
    """set_override that is undone after the test."""
    done = []

    def _set(name, value, group='nova'):
        CONF.set_override(name, value, group=group)
        done.append((name, group))
    yield _set
    for name, group in done:
        CONF.clear_override(name, group=group)
    nova_client.reset_client()


# --- client construction -----------------------------------------------------
def test_client_is_cached_and_resettable(sim):
    first = nova_client.get_client()
    assert nova_client.get_client() is first
    nova_client.reset_client()
    assert nova_client.get_client() is not first


def test_latest_microversion_is_negotiated(sim, override):
    override('api_microversion', 'latest')
    client = nova_client.get_client()
    assert client.nova.api_version.get_string() == '2.96'


def test_missing_credentials(override):
    nova_client.reset_client()
    override('auth_type', None)
    with pytest.raises(exceptions.NovaUnavailable):
        nova_client.get_client()


# --- hypervisors -------------------------------------------------------------
def test_get_hypervisor_by_name_and_id(client, cloud):
    hyp = client.get_hypervisor('compute-1')     # not compute-10
    assert hyp['hypervisor_hostname'] == 'compute-1'
    assert hyp['service_name'] == 'compute-1'
    assert (hyp['vcpus'], hyp['memory_mb'], hyp['local_gb']) == (4, 4096, 40)
    assert hyp['hypervisor_type'] == 'fake'
    assert json.loads(hyp['cpu_info'])['arch'] == 'x86_64'
    assert hyp['availability_zone'] == 'nova'
    assert (hyp['state'], hyp['status']) == ('up', 'enabled')
    assert client.get_hypervisor(hyp['hypervisor_id']) == hyp
    assert set(hyp) == {
        'hypervisor_id', 'hypervisor_hostname', 'service_name', 'vcpus',
        'memory_mb', 'local_gb', 'cpu_info', 'hypervisor_type',
        'hypervisor_version', 'state', 'status', 'availability_zone'}


def test_get_hypervisor_unknown(client):
    with pytest.raises(exceptions.HostNotFound):
        client.get_hypervisor('compute-9')
    with pytest.raises(exceptions.HostNotFound):
        client.get_hypervisor('00000000-0000-0000-0000-000000000000')
    with pytest.raises(exceptions.HostNotFound):
        client.get_hypervisor('compute')      # only a partial match


def test_get_hypervisor_ambiguous(cloud, client):
    cloud.add_hypervisor('node-x', service_host='cell1-host')
    cloud.add_hypervisor('node-x', service_host='cell2-host')
    with pytest.raises(exceptions.MultipleHostsFound) as exc:
        client.get_hypervisor('node-x')
    assert exc.value.code == 409
    assert client.get_hypervisor('cell2-host')['hypervisor_hostname'] == \
        'node-x'


def test_get_hypervisor_by_service_host(cloud, client):
    cloud.add_hypervisor('big.example.org', service_host='big')
    assert client.get_hypervisor('big')['service_name'] == 'big'


def test_hypervisor_zone(client, override):
    agg = client.create_aggregate('edge', availability_zone='edge')
    client.add_host(agg['id'], 'compute-2')
    assert client.get_hypervisor('compute-2')['availability_zone'] == 'edge'
    override('az_aware', False)
    assert client.get_hypervisor('compute-2')['availability_zone'] == ''


def test_get_hypervisor_at_legacy_microversion(sim, override):
    override('api_microversion', '2.1')
    client = nova_client.get_client()
    hyp = client.get_hypervisor('compute-2')
    assert hyp['hypervisor_id'] == '3'
    assert client.get_hypervisor('3')['hypervisor_hostname'] == 'compute-2'


def test_list_hypervisors(client, cloud):
    cloud.fail_host('compute-10', 'disabled')
    found = {h['hypervisor_hostname']: h for h in client.list_hypervisors()}
    assert set(found) == {'compute-1', 'compute-10', 'compute-2'}
    assert found['compute-10']['status'] == 'disabled'
    assert found['compute-1']['availability_zone'] == 'nova'


def test_list_hypervisors_follows_pages(client, monkeypatch):
    monkeypatch.setattr(nova_client, 'PAGE', 2)
    names = [h['hypervisor_hostname'] for h in client.list_hypervisors()]
    assert names == ['compute-1', 'compute-10', 'compute-2']


def test_list_services(client, cloud):
    cloud.fail_host('compute-2', 'forced_down')
    services = {s['host']: s for s in client.list_services()}
    assert services['compute-2']['state'] == 'down'
    assert services['compute-2']['forced_down'] is True
    assert [s['host'] for s in client.list_services(host='compute-1')] == [
        'compute-1']


# --- aggregates --------------------------------------------------------------
def test_aggregate_lifecycle(client):
    agg = client.get_or_create_aggregate('r1', availability_zone='blazar_r1',
                                         metadata={'blazar:owner': 'projA'})
    assert agg['name'] == 'r1' and agg['availability_zone'] == 'blazar_r1'
    assert agg['metadata']['blazar:owner'] == 'projA'
    assert client.get_or_create_aggregate('r1')['id'] == agg['id']
    assert client.find_aggregate('r1')['id'] == agg['id']
    assert client.find_aggregate('nope') is None
    client.add_host(agg['id'], 'compute-1')
    again = client.add_host(agg['id'], 'compute-1')      # idempotent
    assert again['hosts'] == ['compute-1']
    client.set_metadata(agg['id'], {'extra': 'x'})
    assert client.get_aggregate(agg['id'])['metadata']['extra'] == 'x'
    client.remove_host(agg['id'], 'compute-1')
    assert client.remove_host(agg['id'], 'compute-1')['hosts'] == []
    client.add_host(agg['id'], 'compute-2')
    client.delete_aggregate(agg['id'])                   # empties it first
    assert client.find_aggregate('r1') is None
    client.delete_aggregate(agg['id'])                   # already gone


def test_get_or_create_converges_metadata(client):
    client.create_aggregate('r2')
    agg = client.get_or_create_aggregate('r2', metadata={'k': 'v'})
    assert agg['metadata'] == {'k': 'v'}


def test_an_aggregate_known_by_its_id_is_read_not_looked_for_among_all(client,
                                                                       monkeypatch):
    """The converger found a reservation's aggregate by listing every
    aggregate of the cloud, at each step that needed it."""
    agg = client.get_or_create_aggregate('r3', metadata={'k': 'v'})
    other = client.create_aggregate('r4')
    listed = []
    real_list = client.nova.aggregates.list
    monkeypatch.setattr(client.nova.aggregates, 'list',
                        lambda: listed.append(1) or real_list())
    assert client.find_aggregate('r3', known_id=agg['id'])['id'] == agg['id']
    again = client.get_or_create_aggregate('r3', metadata={'k': 'v'}, known_id=agg['id'])
    assert again['id'] == agg['id'] and listed == []
    # A stale id (gone, or now another aggregate's) falls back to the name.
    assert client.find_aggregate('r3', known_id=other['id'])['id'] == agg['id']
    client.delete_aggregate(agg['id'])
    assert client.find_aggregate('r3', known_id=agg['id']) is None
    assert len(listed) == 2


def test_a_new_aggregate_is_made_without_listing_every_aggregate(client, monkeypatch):
    """The converger listed every aggregate of the cloud to find that a new
    reservation's aggregate did not exist yet: a cost growing with the
    number of reservations, at every lease create."""
    listed = []
    real_list = client.nova.aggregates.list
    monkeypatch.setattr(client.nova.aggregates, 'list',
                        lambda: listed.append(1) or real_list())
    agg = client.get_or_create_aggregate('r5', metadata={'k': 'v'}, likely_new=True)
    assert listed == []
    # Made already (a run stopped before it recorded the id): Nova refuses
    # the name, and the aggregate is found by it, its metadata completed.
    again = client.get_or_create_aggregate('r5', metadata={'k': 'v', 'k2': 'w'},
                                           likely_new=True)
    assert again['id'] == agg['id'] and len(listed) == 1
    assert again['metadata'] == {'k': 'v', 'k2': 'w'}


def test_aggregate_errors(client):
    agg = client.create_aggregate('r1', availability_zone='blazar_r1')
    with pytest.raises(exceptions.HostNotFound):
        client.add_host(agg['id'], 'no-such-host')
    with pytest.raises(exceptions.AggregateNotFound):
        client.add_host(9999, 'compute-1')
    with pytest.raises(exceptions.AggregateNotFound):
        client.remove_host(9999, 'compute-1')
    with pytest.raises(exceptions.AggregateNotFound):
        client.get_aggregate(9999)
    with pytest.raises(exceptions.AggregateNotFound):
        client.set_metadata(9999, {'a': 'b'})
    other = client.create_aggregate('r2', availability_zone='blazar_r2')
    client.add_host(agg['id'], 'compute-1')
    with pytest.raises(exceptions.NovaError) as exc:   # two zones
        client.add_host(other['id'], 'compute-1')
    assert exc.value.code == 502
    assert 'availability zone' in exc.value.message
    with pytest.raises(exceptions.NovaError):
        client.create_aggregate('r1')                  # duplicate name


def test_freepool_get_or_create(client, override):
    pool = client.freepool()
    assert pool['name'] == 'freepool'
    assert client.freepool()['id'] == pool['id']
    override('aggregate_freepool_name', 'spare')
    assert client.freepool()['name'] == 'spare'
    assert client.find_aggregate('freepool')['id'] == pool['id']


# --- servers -----------------------------------------------------------------
def test_servers_on_host_all_tenants(client, cloud, flavor):
    a = boot(cloud, host='compute-2', project='projA')
    b = boot(cloud, host='compute-2')
    boot(cloud, host='compute-1')
    found = client.servers_on_host('compute-2')
    assert {s['id'] for s in found} == {a, b}
    assert all(s['host'] == 'compute-2' and s['status'] == 'ACTIVE'
               for s in found)
    assert client.servers_on_host('compute-10') == []


def test_list_servers_by_flavor(client, cloud, flavor):
    cloud.create_flavor('other', 512, 1, 1, flavor_id='other')
    mine = boot(cloud, project='projA')
    boot(cloud, project='projB', flavor='other')
    assert [s['id'] for s in client.list_servers(flavor='small')] == [mine]


def test_delete_and_wait(client, cloud, flavor):
    cloud.delete_delay = 0.3
    ids = [boot(cloud) for _ in range(2)]
    for server_id in ids:
        client.delete_server(server_id)
    client.delete_server('00000000-0000-0000-0000-000000000000')  # ignored
    assert client.wait_servers_deleted(ids, timeout=0.05,
                                       interval=0.01) == ids
    assert client.wait_servers_deleted(ids, timeout=5, interval=0.05) == []
    assert client.get_server(ids[0]) is None


def test_snapshot_server(client, cloud, flavor):
    server_id = boot(cloud)
    image_id = client.snapshot_server(server_id, 'reserved_vm')
    images = cloud.list_images()
    assert [(i['id'], i['name'], i['server_id']) for i in images] == [
        (image_id, 'reserved_vm', server_id)]


def test_error_server_is_listed_with_fault(client, cloud, flavor):
    cloud.create_flavor('huge', 10 ** 6, 1, 1, flavor_id='huge')
    server_id = boot(cloud, flavor='huge')
    server = client.get_server(server_id)
    assert server['status'] == 'ERROR'
    assert server['fault']['message'] == 'No valid host was found.'


# --- error translation -------------------------------------------------------
def test_unreachable_nova_is_unavailable(sim, client):
    sim.stop()
    with pytest.raises(exceptions.NovaUnavailable) as exc:
        client.list_hypervisors()
    assert exc.value.code == 503


def test_connection_refused_at_build_time(override):
    testing_undo = testing.point_nova_at('http://127.0.0.1:9/v2.1')
    try:
        override('api_microversion', 'latest')   # needs a round trip
        with pytest.raises(exceptions.NovaUnavailable):
            nova_client.get_client()
    finally:
        testing_undo()


def test_nova_refusal_is_nova_error(sim):
    testing.point_nova_at(sim.compute_url, token='alice:projA')
    client = nova_client.get_client()
    with pytest.raises(exceptions.NovaError) as exc:
        client.list_hypervisors()
    assert exc.value.code == 502
    assert "Policy doesn't allow" in exc.value.message
    assert '403' in exc.value.message


def test_not_found_becomes_specific_or_none(client):
    assert client.get_server('missing') is None
    with pytest.raises(exceptions.AggregateNotFound):
        client.get_aggregate('12345')
    with pytest.raises(exceptions.NovaError):
        client.snapshot_server('missing', 'x')


# --- flavors and server groups (instance reservations) -----------------------

def test_a_private_flavor_with_extra_specs_and_project_access(client, cloud):
    created = client.create_flavor('res-1', 'reservation:res-1', vcpus=2, ram=512, disk=5,
                                   extra_specs={'a:b': 'c', 'resources:CUSTOM_X': 1})
    assert created['extra_specs'] == {'a:b': 'c', 'resources:CUSTOM_X': '1'}
    assert created['is_public'] is False
    flavor = client.get_flavor('res-1')
    assert (flavor['vcpus'], flavor['ram'], flavor['disk']) == (2, 512, 5)
    assert flavor['extra_specs']['a:b'] == 'c'
    assert not client.flavor_usable_by(flavor, 'projA')
    client.add_flavor_access('res-1', 'projA')
    client.add_flavor_access('res-1', 'projA')          # again: fine
    assert client.flavor_usable_by(flavor, 'projA')
    assert not client.flavor_usable_by(flavor, 'projB')
    client.remove_flavor_access('res-1', 'projA')
    client.remove_flavor_access('res-1', 'projA')       # again: fine
    assert not client.flavor_usable_by(flavor, 'projA')
    client.delete_flavor('res-1')
    client.delete_flavor('res-1')                       # gone: fine
    assert client.get_flavor('res-1') is None


def test_a_failed_extra_spec_leaves_no_flavor(client, cloud):
    cloud.inject_fault('POST', '^/flavors/[^/]+/os-extra_specs$', status=500)
    with pytest.raises(exceptions.NovaError):
        client.create_flavor('res-2', 'reservation:res-2', 1, 512, 1,
                             extra_specs={'a': 'b'})
    assert client.get_flavor('res-2') is None


def test_public_flavors_are_usable_by_anyone(client, flavor):
    assert client.flavor_usable_by(client.get_flavor('small'), 'anyone')


def test_server_groups(client, cloud):
    group = client.create_server_group('reservation:x', 'anti-affinity')
    assert group['policy'] == 'anti-affinity'
    assert cloud.get_server_group(state.ADMIN, group['id'])['policy'] == 'anti-affinity'
    client.delete_server_group(group['id'])
    client.delete_server_group(group['id'])             # gone: fine
    assert cloud.list_server_groups(state.ADMIN, all_projects=True) == []
