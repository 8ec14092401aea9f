"""Running the simulator: the server object, config sizing, the command."""
import requests

from blazar.clients import nova as nova_client
from blazar.cmd import simulator as cmd
from blazar.conf import CONF
from blazar.simulator import server
from blazar.simulator import state
from blazar.simulator import testing


def test_server_urls_and_stop(capfd):
    srv = server.start_simulator(state.Cloud(hosts=1))
    assert srv.url.startswith('http://127.0.0.1:')
    assert srv.compute_url == srv.url + '/v2.1'
    resp = requests.get(srv.compute_url + '/os-hypervisors',
                        headers={'X-Auth-Token': 'admin:admin'})
    assert len(resp.json()['hypervisors']) == 1
    srv.stop()
    srv.stop()                          # idempotent
    out, err = capfd.readouterr()
    assert 'GET' not in err and 'GET' not in out   # no request log lines


def test_cloud_from_config():
    values = {'hosts': 2, 'host_name_pattern': 'node-%d', 'vcpus': 2,
              'memory_mb': 1024, 'local_gb': 10,
              'availability_zone': 'zone0'}
    for name, value in values.items():
        CONF.set_override(name, value, group='simulator')
    try:
        cloud = state.Cloud.from_config()
    finally:
        for name in values:
            CONF.clear_override(name, group='simulator')
    hyps = cloud.list_hypervisors()
    assert [h['hypervisor_hostname'] for h in hyps] == ['node-1', 'node-2']
    assert (hyps[0]['vcpus'], hyps[0]['memory_mb'],
            hyps[0]['local_gb']) == (2, 1024, 10)
    assert cloud.host_zones('node-1') == ['zone0']


def test_simulated_nova_points_the_client_at_it():
    with testing.simulated_nova(state.Cloud(hosts=2)) as srv:
        assert CONF.nova.endpoint == srv.compute_url
        hyps = nova_client.get_client().list_hypervisors()
        assert len(hyps) == 2
    assert CONF.nova.auth_type is None


def test_command_explains_nova_settings():
    with server.start_simulator(state.Cloud(hosts=1)) as srv:
        text = cmd._instructions(srv)
    assert 'auth_type = admin_token' in text
    assert 'endpoint = %s' % srv.compute_url in text
    assert 'token = admin:admin' in text
