"""The `openstack reservation` CLI (python-blazarclient) against a real
`blazar-all` process on the embedded default."""
import datetime
import json
import os
import subprocess
import sys
import time

from keystoneauth1 import noauth
from keystoneauth1 import session
import pytest
import requests

from blazar.tests import ports
from blazar.tests import serving

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope='module')
def blazar_all(tmp_path_factory):
    state = tmp_path_factory.mktemp('blazar-all')
    port, sim_port = ports.free_port(), ports.free_port()
    config = state / 'blazar.conf'
    # Only the ports: the store is the embedded default's own, ./.state
    # under the working directory, which does not exist yet.
    config.write_text('[api]\nbind_port = %d\n[simulator]\nbind_port = %d\n'
                      % (port, sim_port))
    log = open(state / 'blazar-all.log', 'w')
    proc = subprocess.Popen([os.path.join(BIN, 'blazar-all'), '--config-file', str(config)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=state)
    url = 'http://127.0.0.1:%d/v1' % port
    try:
        serving.wait_until_serving(url + '/leases', proc, state / 'blazar-all.log')
    except AssertionError as exc:
        proc.kill()
        pytest.fail('blazar-all did not start: %s' % exc)
    yield Running(url, 'http://127.0.0.1:%d/v2.1' % sim_port)
    proc.terminate()
    proc.wait(20)
    log.close()


class Running(str):
    """The API URL of the running blazar-all, with its simulator's URL."""

    def __new__(cls, url, compute_url):
        obj = super().__new__(cls, url)
        obj.compute_url = compute_url
        return obj


def cli(url, *args, token=None, check=True):
    auth = ['--os-auth-type', 'none'] if token is None else [
        '--os-auth-type', 'admin_token', '--os-token', token]
    cmd = [os.path.join(BIN, 'openstack')] + auth + ['--os-endpoint', url,
                                                     'reservation'] + list(args)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError('%s failed: %s' % (' '.join(args), result.stderr))
    return result


def cli_json(url, *args, **kwargs):
    out = cli(url, *args, '-f', 'json', **kwargs).stdout
    # `create` commands print a "Created a new ..." line before the JSON.
    starts = [i for i in (out.find('{'), out.find('[')) if i >= 0]
    return json.loads(out[min(starts):]) if starts else None


def test_host_commands(blazar_all):
    host = cli_json(blazar_all, 'host', 'create', 'compute-1')
    assert host['hypervisor_hostname'] == 'compute-1'
    hosts = cli_json(blazar_all, 'host', 'list')
    assert [h['hypervisor_hostname'] for h in hosts] == ['compute-1']
    cli(blazar_all, 'host', 'set', '--extra', 'gpu=a100', 'compute-1')
    shown = cli_json(blazar_all, 'host', 'show', 'compute-1')
    assert shown['gpu'] == 'a100'
    assert cli_json(blazar_all, 'host', 'show', host['id'])['id'] == host['id']
    props = cli_json(blazar_all, 'host', 'property', 'list', '--detail')
    assert props == [{'property': 'gpu', 'private': False, 'property_values': ['a100']}]
    cli(blazar_all, 'host', 'delete', 'compute-1')
    assert cli_json(blazar_all, 'host', 'list') == []


def test_host_errors_are_clear(blazar_all):
    result = cli(blazar_all, 'host', 'create', 'compute-99', check=False)
    assert result.returncode != 0
    assert "Host 'compute-99' not found!" in result.stderr
    result = cli(blazar_all, 'host', 'list', token='alice:proj1', check=False)
    assert result.returncode != 0
    assert "doesn't allow blazar:oshosts:get" in result.stderr


def _library_client(url, token=None):
    from blazarclient import client
    auth = noauth.NoAuth(endpoint=url)
    sess = session.Session(auth=auth)
    headers = {'X-Auth-Token': token} if token else None
    return client.Client('1', session=sess, service_type='reservation',
                         additional_headers=headers) if headers else client.Client(
        '1', session=sess, service_type='reservation')


def test_lease_commands(blazar_all):
    # python-blazarclient's `lease create` insists on a --reservation; a
    # lease without one is created through the same client library.
    lease = _library_client(blazar_all).lease.create(
        'l1', '2030-01-01 10:00', '2030-01-02 10:00', reservations=[], events=[])
    assert lease['status'] == 'PENDING'
    listed = cli_json(blazar_all, 'lease', 'list')
    assert [(item['id'], item['name']) for item in listed] == [(lease['id'], 'l1')]
    cli(blazar_all, 'lease', 'set', '--name', 'l1b', 'l1')
    cli(blazar_all, 'lease', 'set', '--prolong-for', '1h', 'l1b')
    shown = cli_json(blazar_all, 'lease', 'show', 'l1b')
    assert shown['end_date'] == '2030-01-02T11:00:00.000000'
    result = cli(blazar_all, 'lease', 'set', '--end-date', '2029-01-01 10:00', 'l1b',
                 check=False)
    assert 'End date must be later than current and start date' in result.stderr
    cli(blazar_all, 'lease', 'delete', 'l1b')
    assert cli_json(blazar_all, 'lease', 'list') == []


def _aggregates(compute_url):
    from blazar.simulator import testing
    nova = testing.novaclient_for(type('S', (), {'compute_url': compute_url}))
    return {a.name: a for a in nova.aggregates.list()}


def test_host_lease_through_its_whole_life(blazar_all):
    """Issue 3's walk-through: a host lease starting now becomes ACTIVE, a
    server booted with the reservation hint lands on its host, and at the end
    date the lease terminates, the server is gone and the hosts are back."""
    from blazar.simulator import testing
    for name in ('compute-1', 'compute-2', 'compute-3'):
        cli(blazar_all, 'host', 'create', name)
    end = (datetime.datetime.utcnow() + datetime.timedelta(minutes=2)).strftime(
        '%Y-%m-%d %H:%M')
    lease = cli_json(
        blazar_all, 'lease', 'create', '--reservation',
        'resource_type=physical:host,min=1,max=2,hypervisor_properties='
        '[">=", "$vcpus", "4"],resource_properties=',
        '--start-date', 'now', '--end-date', end, 'l1', token='alice:proj1')
    reservation = json.loads(lease['reservations']) if isinstance(
        lease['reservations'], str) else lease['reservations']
    reservation = reservation[0] if isinstance(reservation, list) else reservation
    res_id = reservation['id']
    deadline = time.time() + 10
    while cli_json(blazar_all, 'lease', 'show', 'l1', token='alice:proj1')[
            'status'] != 'ACTIVE':
        assert time.time() < deadline, 'lease did not start'
        time.sleep(0.5)
    aggregates = _aggregates(blazar_all.compute_url)
    reserved = set(aggregates[res_id].hosts)
    assert len(reserved) == 2
    assert not reserved & set(aggregates['freepool'].hosts)

    nova = testing.novaclient_for(type('S', (), {'compute_url': blazar_all.compute_url}),
                                  token='alice:proj1')
    admin_nova = testing.novaclient_for(
        type('S', (), {'compute_url': blazar_all.compute_url}))
    flavor = admin_nova.flavors.create('m1.cli', 1024, 1, 1)
    server = nova.servers.create('vm', None, flavor.id, nics='none',
                                 scheduler_hints={'reservation': res_id})
    server = admin_nova.servers.get(server.id)
    assert server.status == 'ACTIVE'
    assert getattr(server, 'OS-EXT-SRV-ATTR:host') in reserved

    deadline = time.time() + 200
    while cli_json(blazar_all, 'lease', 'show', 'l1', token='alice:proj1')[
            'status'] != 'TERMINATED':
        assert time.time() < deadline, 'lease did not end'
        time.sleep(2)
    aggregates = _aggregates(blazar_all.compute_url)
    assert res_id not in aggregates
    assert {'compute-1', 'compute-2', 'compute-3'} <= set(aggregates['freepool'].hosts)
    assert [s.id for s in admin_nova.servers.list(search_opts={'all_tenants': 1})] == []


def _placement_get(compute_url, path):
    url = compute_url.rsplit('/v2.1', 1)[0] + '/placement' + path
    resp = requests.get(url, headers={'X-Auth-Token': 'admin:admin',
                                      'OpenStack-API-Version': 'placement 1.39'},
                        timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_instance_lease_through_its_whole_life(blazar_all):
    """Issue 4's walk-through: three anti-affine instances of 2 vCPUs
    reserved with the CLI; they boot with the reservation's flavor and group
    on three distinct hosts, a fourth is refused; at the end everything the
    reservation made is gone."""
    from blazar.simulator import testing
    for name in ('compute-4', 'compute-5', 'compute-6', 'compute-7'):
        cli(blazar_all, 'host', 'create', name)
    end = (datetime.datetime.utcnow() + datetime.timedelta(minutes=30)).strftime(
        '%Y-%m-%d %H:%M')
    lease = cli_json(
        blazar_all, 'lease', 'create', '--reservation',
        'resource_type=virtual:instance,vcpus=2,memory_mb=4096,disk_gb=20,amount=3,'
        'affinity=False,resource_properties=',
        '--start-date', 'now', '--end-date', end, 'inst', token='alice:proj1')
    reservation = json.loads(lease['reservations']) if isinstance(
        lease['reservations'], str) else lease['reservations']
    reservation = reservation[0] if isinstance(reservation, list) else reservation
    res_id = reservation['id']
    assert reservation['flavor_id'] == res_id
    deadline = time.time() + 20
    while True:
        shown = cli_json(blazar_all, 'lease', 'show', 'inst', token='alice:proj1')
        if shown['status'] == 'ACTIVE':
            break
        assert time.time() < deadline, 'lease did not start'
        time.sleep(0.5)
    # The group is made by the converger right after the create.
    shown = json.loads(shown['reservations']) if isinstance(
        shown['reservations'], str) else shown['reservations']
    group_id = (shown[0] if isinstance(shown, list) else shown)['server_group_id']
    assert group_id

    simulator = type('S', (), {'compute_url': blazar_all.compute_url})
    nova = testing.novaclient_for(simulator, token='alice:proj1')
    admin_nova = testing.novaclient_for(simulator)
    hosts = set()
    for index in range(3):
        server = nova.servers.create('vm%d' % index, None, res_id, nics='none',
                                     scheduler_hints={'group': group_id})
        server = admin_nova.servers.get(server.id)
        assert server.status == 'ACTIVE'
        hosts.add(getattr(server, 'OS-EXT-SRV-ATTR:host'))
    assert len(hosts) == 3
    fourth = nova.servers.create('vm3', None, res_id, nics='none',
                                 scheduler_hints={'group': group_id})
    assert admin_nova.servers.get(fourth.id).status == 'ERROR'

    resp = requests.put(blazar_all + '/leases/%s' % lease['id'], json={'end_date': 'now'},
                        headers={'X-Auth-Token': 'alice:proj1'}, timeout=30)
    assert resp.status_code == 200, resp.text
    deadline = time.time() + 60
    while cli_json(blazar_all, 'lease', 'show', 'inst', token='alice:proj1')[
            'status'] != 'TERMINATED':
        assert time.time() < deadline, 'lease did not end'
        time.sleep(1)
    # The refused fourth went too: nothing of the flavor is left.
    assert admin_nova.servers.list(search_opts={'all_tenants': 1, 'flavor': res_id}) == []
    assert res_id not in [f.id for f in admin_nova.flavors.list(is_public=None)]
    assert group_id not in [g.id for g in admin_nova.server_groups.list(all_projects=True)]
    assert res_id not in _aggregates(blazar_all.compute_url)
    rc = 'CUSTOM_RESERVATION_' + res_id.upper().replace('-', '_')
    classes = [c['name'] for c in _placement_get(blazar_all.compute_url,
                                                 '/resource_classes')['resource_classes']]
    assert rc not in classes
    for provider in _placement_get(blazar_all.compute_url,
                                   '/resource_providers')['resource_providers']:
        inventories = _placement_get(blazar_all.compute_url, '/resource_providers/%s/'
                                     'inventories' % provider['uuid'])['inventories']
        assert rc not in inventories


def test_preemption_list(blazar_all):
    assert cli_json(blazar_all, 'preemption', 'list', token='admin:admin') == []
    refused = cli(blazar_all, 'preemption', 'list', token='alice:proj1', check=False)
    assert refused.returncode != 0 and 'blazar:preemptions:get' in refused.stderr
