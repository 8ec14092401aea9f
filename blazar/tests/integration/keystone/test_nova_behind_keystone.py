"""A Keystone-backed Nova and Placement: the service finds them in the
catalog and authenticates with ``[nova]``/``[placement] auth_type =
password`` (keystoneauth's standard loading, no code of ours), and the
simulator behind them accepts only tokens Keystone vouches for."""
import datetime
import time

from novaclient import client as nova_client
import requests

HOST = 'compute-3'


def _call(deployment, token, method, path, body=None):
    return requests.request(method, deployment.url + path, json=body, timeout=60,
                            headers={'X-Auth-Token': token})


def _wait_for_status(deployment, token, lease_id, status, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        lease = _call(deployment, token, 'GET', '/leases/%s' % lease_id).json()['lease']
        if lease['status'] == status:
            return lease
        assert time.monotonic() < deadline, 'lease never %s: %s\n%s' % (
            status, lease, deployment.procs.logs())
        time.sleep(0.3)


def _nova(keystone):
    """novaclient as the cloud administrator, through the catalog."""
    return nova_client.Client('2.87', session=keystone.session('admin'))


def _pools(nova):
    return {aggregate.name: set(aggregate.hosts) for aggregate in nova.aggregates.list()}


def test_the_simulated_nova_and_placement_want_keystone_tokens(deployment):
    session = deployment.keystone.session('admin')
    token = session.get_token()
    for service_type, path in (('compute', '/os-aggregates'),
                               ('placement', '/resource_providers')):
        url = session.get_endpoint(service_type=service_type, interface='public') + path
        forged = requests.get(url, headers={'X-Auth-Token': 'admin:admin',
                                            'X-Identity-Status': 'Confirmed',
                                            'X-Roles': 'admin', 'X-User-Id': 'admin',
                                            'X-Project-Id': 'admin'}, timeout=30)
        assert forged.status_code == 401, (service_type, forged.text)
        real = requests.get(url, headers={'X-Auth-Token': token}, timeout=30)
        assert real.status_code == 200, (service_type, real.text)


def test_a_host_lease_lives_its_whole_life_on_a_keystone_backed_nova(deployment):
    keystone = deployment.keystone
    admin, member = keystone.token('admin'), keystone.token('a-member')
    enrolled = _call(deployment, admin, 'POST', '/os-hosts', {'name': HOST})
    assert enrolled.status_code in (201, 409), enrolled.text
    nova = _nova(keystone)
    assert HOST in _pools(nova)['freepool']
    end = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
        '%Y-%m-%d %H:%M')
    created = _call(deployment, member, 'POST', '/leases', {
        'name': 'behind-keystone', 'start_date': 'now', 'end_date': end,
        'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                          'hypervisor_properties':
                              '["=", "$hypervisor_hostname", "%s"]' % HOST,
                          'resource_properties': ''}]})
    assert created.status_code == 201, created.text
    lease = created.json()['lease']
    reservation_id = lease['reservations'][0]['id']
    _wait_for_status(deployment, member, lease['id'], 'ACTIVE')
    pools = _pools(nova)
    assert pools[reservation_id] == {HOST}
    assert HOST not in pools['freepool']

    resp = _call(deployment, member, 'PUT', '/leases/%s' % lease['id'], {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    ended = _wait_for_status(deployment, member, lease['id'], 'TERMINATED')
    assert ended['status_reason'] is None
    pools = _pools(nova)
    assert reservation_id not in pools
    assert HOST in pools['freepool']
    _call(deployment, member, 'DELETE', '/leases/%s' % lease['id'])
