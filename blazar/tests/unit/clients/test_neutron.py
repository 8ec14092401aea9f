"""blazar.clients.neutron against the simulated Neutron, over real loopback
HTTP with the real keystoneauth Adapter."""
import pytest

from blazar import exceptions
from blazar.clients import neutron as neutron_client
from blazar.simulator import server
from blazar.simulator import state
from blazar.simulator import testing


@pytest.fixture
def sim():
    srv = server.start_simulator(state.Cloud(hosts=1))
    undo = testing.point_neutron_at(srv.neutron_url)
    yield srv
    undo()
    srv.stop()


@pytest.fixture
def client(sim):
    return neutron_client.get_client()


def public(sim):
    return sim.cloud.neutron.network_by_name('public')


def test_networks_and_subnets(sim, client):
    net = public(sim)
    assert client.get_network(net['id'])['router:external'] is True
    assert client.get_network('nope') is None
    subnets = client.list_subnets(net['id'])
    assert [(s['cidr'], s['gateway_ip'], s['allocation_pools']) for s in subnets] == [
        ('172.24.4.0/24', '172.24.4.1', [{'start': '172.24.4.2', 'end': '172.24.4.99'}])]


def test_floating_ip_life(sim, client):
    net = public(sim)
    subnet = net['subnets'][0]
    fip = client.create_floatingip(net['id'], subnet, '172.24.4.150', 'projA')
    assert (fip['floating_ip_address'], fip['project_id']) == ('172.24.4.150', 'projA')
    client.set_tags(fip['id'], ['blazar', 'reservation:r1'])
    found = client.list_floatingips(address='172.24.4.150', network_id=net['id'])
    assert [f['tags'] for f in found] == [['blazar', 'reservation:r1']]
    assert [f['id'] for f in client.list_floatingips(tags=['blazar'])] == [fip['id']]
    assert client.list_floatingips(tags=['blazar', 'reservation:r2']) == []
    with pytest.raises(exceptions.NeutronConflict) as err:
        client.create_floatingip(net['id'], subnet, '172.24.4.150', 'projB')
    assert 'already allocated' in err.value.message
    sim.cloud.neutron.associate(fip['id'], 'port-1')
    assert client.list_floatingips(address='172.24.4.150')[0]['port_id'] == 'port-1'
    client.disassociate(fip['id'])
    assert client.list_floatingips(address='172.24.4.150')[0]['port_id'] is None
    client.delete_floatingip(fip['id'])
    client.delete_floatingip(fip['id'])     # gone already: fine
    assert sim.cloud.neutron.addresses() == {}


def test_errors_are_translated(sim, client):
    net = public(sim)
    with pytest.raises(exceptions.NeutronNotFound):
        client.create_floatingip('nope', 'x', '172.24.4.150', 'p')
    with pytest.raises(exceptions.NeutronError) as err:
        client.create_floatingip(net['id'], net['subnets'][0], '10.1.1.1', 'p')
    assert 'Invalid IP address' in err.value.message
    sim.cloud.inject_fault('POST', '^/networking/v2.0/floatingips$', status=503)
    with pytest.raises(exceptions.NeutronUnavailable):
        client.create_floatingip(net['id'], net['subnets'][0], '172.24.4.151', 'p')
    sim.cloud.inject_fault('GET', 'floatingips', status=500)
    with pytest.raises(exceptions.NeutronError) as err:
        client.list_floatingips()
    assert 'HTTP 500' in err.value.message
