"""Every command of python-blazarclient 4.6 against a real ``blazar-all``:
one test per ``openstack reservation`` command and per command of the
legacy ``blazar`` CLI, plus
this project's own OSC commands. Fixtures and checks go through the REST
API; each test runs its command through the CLI."""
import datetime
import importlib.metadata
import json
import os
import subprocess
import sys
import time

import pytest
import requests

from blazar.simulator import neutron_state
from blazar.tests.functional.test_cli import blazar_all  # noqa: F401 (fixture)
from blazar.tests.functional.test_cli import cli
from blazar.tests.functional.test_cli import cli_json

BIN = os.path.dirname(sys.executable)
DAY = datetime.timedelta(days=1)


def fmt(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


def wire(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')


def tomorrow(hours=0):
    return (datetime.datetime.utcnow().replace(second=0, microsecond=0) + DAY
            + datetime.timedelta(hours=hours))


def rest(url, method, path, body=None, token='admin:admin', expect=None):
    resp = requests.request(method, url + path, json=body, timeout=30,
                            headers={'X-Auth-Token': token, 'Accept': 'application/json'})
    if expect is not None:
        assert resp.status_code == expect, resp.text
    else:
        assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


def legacy(url, *args, token=None, check=True):
    """The standalone ``blazar`` CLI (keystoneauth's ``none`` plugin, or
    ``admin_token`` for a ``user:project`` token)."""
    auth = ['--os-auth-type', 'none'] if token is None else [
        '--os-auth-type', 'admin_token', '--os-token', token]
    result = subprocess.run([os.path.join(BIN, 'blazar')] + auth
                            + ['--os-endpoint', url] + list(args),
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError('blazar %s failed: %s' % (' '.join(args), result.stderr))
    return result


def legacy_json(url, *args, **kwargs):
    out = legacy(url, *args, '-f', 'json', **kwargs).stdout
    starts = [i for i in (out.find('{'), out.find('[')) if i >= 0]
    return json.loads(out[min(starts):]) if starts else None


@pytest.fixture
def url(blazar_all):  # noqa: F811
    """The API of the module's blazar-all, emptied of leases and hosts
    after each test."""
    yield blazar_all
    for lease in rest(blazar_all, 'GET', '/leases')['leases']:
        rest(blazar_all, 'DELETE', '/leases/%s' % lease['id'])
    for host in rest(blazar_all, 'GET', '/os-hosts')['hosts']:
        rest(blazar_all, 'DELETE', '/os-hosts/%s' % host['id'])
    for fip in rest(blazar_all, 'GET', '/floatingips')['floatingips']:
        rest(blazar_all, 'DELETE', '/floatingips/%s' % fip['id'])


def enrol(url, name, **extra):
    return rest(url, 'POST', '/os-hosts', dict(name=name, **extra))['host']


def host_lease(url, name='l1', hosts=1, start=None, end=None, token='admin:admin'):
    start = start or tomorrow()
    end = end or start + DAY
    return rest(url, 'POST', '/leases', token=token, body={
        'name': name, 'start_date': fmt(start), 'end_date': fmt(end), 'events': [],
        'reservations': [{'resource_type': 'physical:host', 'min': hosts, 'max': hosts,
                          'hypervisor_properties': '', 'resource_properties': ''}]})['lease']


def listed(value):
    """A list the CLI shows as one JSON object, or several one after the
    other, in a string (``-f json`` of a show command)."""
    if not isinstance(value, str):
        return value if isinstance(value, list) else [value]
    decoder, items, index = json.JSONDecoder(), [], 0
    while index < len(value):
        item, index = decoder.raw_decode(value, index)
        items.append(item)
        while index < len(value) and value[index].isspace():
            index += 1
    return items


# --- openstack reservation host ... ------------------------------------------

def test_osc_host_create(url):
    host = cli_json(url, 'host', 'create', '--extra', 'gpu=a100', 'compute-1')
    assert (host['hypervisor_hostname'], host['gpu']) == ('compute-1', 'a100')
    assert rest(url, 'GET', '/os-hosts/%s' % host['id'])['host']['gpu'] == 'a100'


def test_osc_host_list(url):
    enrol(url, 'compute-1')
    enrol(url, 'compute-2')
    listed = cli_json(url, 'host', 'list', '--sort-by', 'hypervisor_hostname')
    assert [h['hypervisor_hostname'] for h in listed] == ['compute-1', 'compute-2']


def test_osc_host_show(url):
    host = enrol(url, 'compute-1', rack='r1')
    by_name = cli_json(url, 'host', 'show', 'compute-1')
    assert (by_name['id'], by_name['rack']) == (host['id'], 'r1')
    assert cli_json(url, 'host', 'show', host['id'])['hypervisor_hostname'] == 'compute-1'


def test_osc_host_set(url):
    enrol(url, 'compute-1')
    cli(url, 'host', 'set', '--extra', 'gpu=a100', '--extra', 'rack=r2', 'compute-1')
    host = rest(url, 'GET', '/os-hosts')['hosts'][0]
    assert (host['gpu'], host['rack']) == ('a100', 'r2')


# python-blazarclient 4.6's entry point for `host unset` names the class
# UnsetAttributeHost; the class is UnsetAttributesHost, so OSC cannot load
# the command, whatever the server (upstream Blazar's too). Its command
# class is run here through OpenStackClient with the name it was meant to
# have.
OSC_WITH_HOST_UNSET = '''
import sys
from blazarclient.v1.shell_commands import hosts
if not hasattr(hosts, 'UnsetAttributeHost'):
    hosts.UnsetAttributeHost = hosts.UnsetAttributesHost
from openstackclient import shell
sys.exit(shell.main(sys.argv[1:]))
'''


def test_osc_host_unset(url):
    host = enrol(url, 'compute-1', gpu='a100', rack='r1')
    as_shipped = cli(url, 'host', 'unset', '--extra', 'gpu', 'compute-1', check=False)
    if as_shipped.returncode != 0:   # the client's defect, not a server answer
        assert "has no attribute 'UnsetAttributeHost'" in as_shipped.stderr
        assert rest(url, 'GET', '/os-hosts/%s' % host['id'])['host']['gpu'] == 'a100'
        result = subprocess.run(
            [sys.executable, '-c', OSC_WITH_HOST_UNSET, '--os-auth-type', 'none',
             '--os-endpoint', url, 'reservation', 'host', 'unset', '--extra', 'gpu',
             'compute-1'], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    shown = rest(url, 'GET', '/os-hosts/%s' % host['id'])['host']
    assert 'gpu' not in shown and shown['rack'] == 'r1'


def test_osc_host_delete(url):
    enrol(url, 'compute-1')
    cli(url, 'host', 'delete', 'compute-1')
    assert rest(url, 'GET', '/os-hosts')['hosts'] == []


def test_osc_host_property_list(url):
    enrol(url, 'compute-1', gpu='a100')
    enrol(url, 'compute-2', gpu='v100')
    assert cli_json(url, 'host', 'property', 'list') == [{'property': 'gpu'}]
    assert cli_json(url, 'host', 'property', 'list', '--detail') == [
        {'property': 'gpu', 'private': False, 'property_values': ['a100', 'v100']}]


def test_osc_host_property_show(url):
    enrol(url, 'compute-1', gpu='a100')
    shown = cli_json(url, 'host', 'property', 'show', 'gpu')
    assert (shown['property'], shown['private']) == ('gpu', False)


def test_osc_host_property_set(url):
    enrol(url, 'compute-1', secret='s1')
    cli(url, 'host', 'property', 'set', '--private', 'secret')
    assert cli_json(url, 'host', 'property', 'list') == []
    assert cli_json(url, 'host', 'property', 'list', '--all', '--detail') == [
        {'property': 'secret', 'private': True, 'property_values': ['s1']}]
    cli(url, 'host', 'property', 'set', '--public', 'secret')
    assert cli_json(url, 'host', 'property', 'list') == [{'property': 'secret'}]


# --- openstack reservation lease ... -----------------------------------------

def test_osc_lease_create(url):
    enrol(url, 'compute-1')
    start = tomorrow()
    lease = cli_json(url, 'lease', 'create', '--reservation',
                     'resource_type=physical:host,min=1,max=1,hypervisor_properties='
                     '[">=", "$vcpus", "2"],resource_properties=',
                     '--start-date', fmt(start), '--end-date', fmt(start + DAY), 'l1',
                     token='alice:proj1')
    assert (lease['name'], lease['status']) == ('l1', 'PENDING')
    assert lease['start_date'] == wire(start)
    reservation, = listed(lease['reservations'])
    assert (reservation['min'], reservation['max']) == (1, 1)


def test_osc_lease_list(url):
    enrol(url, 'compute-1')
    host_lease(url, 'b')
    rest(url, 'POST', '/leases', {'name': 'a', 'start_date': fmt(tomorrow()),
                                  'end_date': fmt(tomorrow(2)), 'reservations': []})
    listed = cli_json(url, 'lease', 'list', '--sort-by', 'name')
    assert [item['name'] for item in listed] == ['a', 'b']


def test_osc_lease_show(url):
    enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    shown = cli_json(url, 'lease', 'show', 'l1')
    assert (shown['id'], shown['end_date']) == (lease['id'], lease['end_date'])
    assert [e['event_type'] for e in listed(shown['events'])] == [
        e['event_type'] for e in lease['events']]


def test_osc_lease_set(url):
    enrol(url, 'compute-1')
    enrol(url, 'compute-2')
    lease = host_lease(url, 'l1')
    reservation, = lease['reservations']
    cli(url, 'lease', 'set', '--name', 'renamed', '--prolong-for', '1h',
        '--reservation', 'id=%s,max=2' % reservation['id'], 'l1')
    shown = rest(url, 'GET', '/leases/%s' % lease['id'])['lease']
    assert shown['name'] == 'renamed'
    end = datetime.datetime.strptime(lease['end_date'], '%Y-%m-%dT%H:%M:%S.%f')
    assert shown['end_date'] == wire(end + datetime.timedelta(hours=1))
    assert shown['reservations'][0]['max'] == 2


def test_osc_lease_delete(url):
    enrol(url, 'compute-1')
    host_lease(url, 'l1')
    cli(url, 'lease', 'delete', 'l1')
    assert rest(url, 'GET', '/leases')['leases'] == []


# --- openstack reservation allocation ... ------------------------------------

def test_osc_allocation_list(url):
    host = enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    allocations = {a['resource_id']: listed(a['reservations'])
                   for a in cli_json(url, 'allocation', 'list', 'host')}
    assert [r['lease_id'] for r in allocations[host['id']]] == [lease['id']]
    only = cli_json(url, 'allocation', 'list', 'host', '--lease-id', lease['id'])
    assert [a['resource_id'] for a in only if listed(a['reservations'])] == [host['id']]


def test_osc_allocation_show(url):
    host = enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    shown = cli_json(url, 'allocation', 'show', 'host', 'compute-1')
    assert shown['resource_id'] == host['id']
    assert [r['lease_id'] for r in listed(shown['reservations'])] == [lease['id']]


# --- this project's openstack reservation commands --------------------------

def test_osc_availability_show(url):
    enrol(url, 'compute-1')
    start = tomorrow()
    shown = cli_json(url, 'availability', 'show', '--start-date', fmt(start),
                     '--end-date', fmt(start + DAY))
    assert (shown['max'], shown['reservable']) == (1, 1)


def test_osc_availability_duration(url):
    enrol(url, 'compute-1')
    start = tomorrow()
    host_lease(url, 'later', start=start + 2 * DAY, end=start + 3 * DAY)
    shown = cli_json(url, 'availability', 'duration', '--count', '1', '--start-date',
                     fmt(start))
    assert shown['end_date'] == wire(start + 2 * DAY)


def test_osc_offering_list(url):
    enrol(url, 'compute-1')
    earliest = tomorrow()   # once: the call may end in the next minute
    offerings = cli_json(url, 'offering', 'list', '--count', '1', '--duration', '2h',
                         '--earliest-start', fmt(earliest))
    assert offerings[0]['Start date'] == wire(earliest)
    assert json.loads(offerings[0]['Lease'])['reservations'][0]['max'] == 1


def test_osc_offering_reserve(url):
    enrol(url, 'compute-1')
    lease = cli_json(url, 'offering', 'reserve', '--count', '1', '--duration', '2h',
                     '--earliest-start', fmt(tomorrow()), '--name', 'offered')
    assert lease['name'] == 'offered'
    assert [item['name'] for item in rest(url, 'GET', '/leases')['leases']] == ['offered']


def test_osc_calendar_show(url):
    enrol(url, 'compute-1')
    start = tomorrow()
    host_lease(url, 'l1', start=start, end=start + DAY)
    calendar = cli_json(url, 'calendar', 'show', '--start-date', fmt(start - DAY),
                        '--end-date', fmt(start + 2 * DAY))
    assert calendar


def test_osc_usage_show(url):
    enrol(url, 'compute-1')
    start = tomorrow()
    host_lease(url, 'l1', start=start, end=start + DAY, token='alice:proj1')
    usage = cli_json(url, 'usage', 'show', '--start-date', fmt(start),
                     '--end-date', fmt(start + DAY), '--project', 'proj1')
    assert 'proj1' in json.dumps(usage)


def test_osc_preemption_list(url):
    assert cli_json(url, 'preemption', 'list') == []


# --- the legacy blazar CLI ---------------------------------------------------

def test_legacy_host_create(url):
    legacy(url, 'host-create', '--extra', 'gpu=a100', 'compute-1')
    host, = rest(url, 'GET', '/os-hosts')['hosts']
    assert (host['hypervisor_hostname'], host['gpu']) == ('compute-1', 'a100')


def test_legacy_host_list(url):
    enrol(url, 'compute-1')
    listed = legacy_json(url, 'host-list')
    assert [h['hypervisor_hostname'] for h in listed] == ['compute-1']


def test_legacy_host_show(url):
    host = enrol(url, 'compute-1', rack='r1')
    shown = legacy_json(url, 'host-show', 'compute-1')
    assert (shown['id'], shown['rack']) == (host['id'], 'r1')


def test_legacy_host_update(url):
    enrol(url, 'compute-1')
    legacy(url, 'host-update', '--extra', 'gpu=a100', 'compute-1')
    assert rest(url, 'GET', '/os-hosts')['hosts'][0]['gpu'] == 'a100'


def test_legacy_host_unset(url):
    """Upstream deletes the capability (the client sends {"gpu": null})."""
    host = enrol(url, 'compute-1', gpu='a100', rack='r1')
    legacy(url, 'host-unset', '--extra', 'gpu', 'compute-1')
    shown = rest(url, 'GET', '/os-hosts/%s' % host['id'])['host']
    assert 'gpu' not in shown and shown['rack'] == 'r1'


def test_legacy_host_delete(url):
    enrol(url, 'compute-1')
    legacy(url, 'host-delete', 'compute-1')
    assert rest(url, 'GET', '/os-hosts')['hosts'] == []


def test_legacy_host_property_list(url):
    enrol(url, 'compute-1', gpu='a100')
    assert legacy_json(url, 'host-property-list', '--detail') == [
        {'property': 'gpu', 'private': False, 'property_values': ['a100']}]


def test_legacy_host_property_show(url):
    enrol(url, 'compute-1', gpu='a100')
    assert legacy_json(url, 'host-property-show', 'gpu')['property'] == 'gpu'


def test_legacy_host_property_set(url):
    enrol(url, 'compute-1', secret='s1')
    legacy(url, 'host-property-set', '--private', 'secret')
    assert legacy_json(url, 'host-property-list') == []
    assert legacy_json(url, 'host-property-list', '--all') == [{'property': 'secret'}]


def test_legacy_lease_create(url):
    enrol(url, 'compute-1')
    start = tomorrow()
    legacy(url, 'lease-create', '--physical-reservation',
           'min=1,max=1,hypervisor_properties=[">=", "$vcpus", "2"],resource_properties=',
           '--start-date', fmt(start), '--end-date', fmt(start + DAY), 'l1',
           token='alice:proj1')
    lease, = rest(url, 'GET', '/leases')['leases']
    assert (lease['name'], lease['project_id'], lease['start_date']) == (
        'l1', 'proj1', wire(start))
    assert lease['reservations'][0]['hypervisor_properties'] == '[">=", "$vcpus", "2"]'


def test_legacy_lease_list(url):
    enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    assert [item['id'] for item in legacy_json(url, 'lease-list')] == [lease['id']]


def test_legacy_lease_show(url):
    enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    shown = legacy_json(url, 'lease-show', 'l1')
    assert (shown['id'], shown['start_date']) == (lease['id'], lease['start_date'])


def test_legacy_lease_update(url):
    enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    legacy(url, 'lease-update', '--name', 'renamed', '--prolong-for', '2h', 'l1')
    shown = rest(url, 'GET', '/leases/%s' % lease['id'])['lease']
    end = datetime.datetime.strptime(lease['end_date'], '%Y-%m-%dT%H:%M:%S.%f')
    assert (shown['name'], shown['end_date']) == (
        'renamed', wire(end + datetime.timedelta(hours=2)))


def test_legacy_lease_delete(url):
    enrol(url, 'compute-1')
    host_lease(url, 'l1')
    legacy(url, 'lease-delete', 'l1')
    assert rest(url, 'GET', '/leases')['leases'] == []


def test_legacy_allocation_list(url):
    enrol(url, 'compute-1')
    lease = host_lease(url, 'l1')
    allocations = legacy_json(url, 'allocation-list', 'host')
    held = [r for a in allocations for r in listed(a['reservations'])]
    assert [r['lease_id'] for r in held] == [lease['id']]


def test_legacy_allocation_show(url):
    host = enrol(url, 'compute-1')
    host_lease(url, 'l1')
    shown = legacy_json(url, 'allocation-show', 'host', 'compute-1')
    assert shown['resource_id'] == host['id']


# --- floating IPs ----------------------------------------------------------------

# The simulated Neutron's external network "public" (ids are fixed).
PUBLIC = neutron_state.fixed_id('network', 'public')


def register(url, address):
    return rest(url, 'POST', '/floatingips', {'floating_network_id': PUBLIC,
                                             'floating_ip_address': address})['floatingip']


def neutron_fips(url):
    """{address: floating IP} in the simulated Neutron of blazar-all."""
    base = url.compute_url.replace('/v2.1', '/networking/v2.0')
    resp = requests.get(base + '/floatingips', timeout=30,
                        headers={'X-Auth-Token': 'admin:admin'})
    return {f['floating_ip_address']: f for f in resp.json()['floatingips']}


def test_osc_floatingip_create(url):
    fip = cli_json(url, 'floatingip', 'create', PUBLIC, '172.24.4.100')
    assert (fip['floating_network_id'], fip['floating_ip_address']) == (
        PUBLIC, '172.24.4.100')
    assert rest(url, 'GET', '/floatingips/%s' % fip['id'])['floatingip']['reservable']
    refused = cli(url, 'floatingip', 'create', PUBLIC, '172.24.4.50', check=False)
    assert refused.returncode != 0
    assert 'is in the allocation pool' in refused.stderr
    refused = cli(url, 'floatingip', 'create', 'no-such-net', '172.24.4.101', check=False)
    assert 'Failed to find network no-such-net' in refused.stderr


def test_osc_floatingip_list(url):
    register(url, '172.24.4.100')
    register(url, '172.24.4.101')
    listed = cli_json(url, 'floatingip', 'list')
    assert sorted(f['floating_ip_address'] for f in listed) == ['172.24.4.100',
                                                                '172.24.4.101']


def test_osc_floatingip_show(url):
    fip = register(url, '172.24.4.100')
    shown = cli_json(url, 'floatingip', 'show', fip['id'])
    assert (shown['id'], shown['floating_ip_address']) == (fip['id'], '172.24.4.100')


def test_osc_floatingip_delete(url):
    fip = register(url, '172.24.4.100')
    cli(url, 'floatingip', 'delete', fip['id'])
    assert rest(url, 'GET', '/floatingips')['floatingips'] == []


def test_legacy_floatingip_create(url):
    legacy(url, 'floatingip-create', PUBLIC, '172.24.4.100')
    fip, = rest(url, 'GET', '/floatingips')['floatingips']
    assert fip['floating_ip_address'] == '172.24.4.100'


def test_legacy_floatingip_list(url):
    register(url, '172.24.4.100')
    assert [f['floating_ip_address'] for f in legacy_json(url, 'floatingip-list')] == [
        '172.24.4.100']


def test_legacy_floatingip_show(url):
    fip = register(url, '172.24.4.100')
    assert legacy_json(url, 'floatingip-show', fip['id'])['id'] == fip['id']


def test_legacy_floatingip_delete(url):
    fip = register(url, '172.24.4.100')
    legacy(url, 'floatingip-delete', fip['id'])
    assert rest(url, 'GET', '/floatingips')['floatingips'] == []


def test_osc_lease_with_a_host_and_floating_ips_lives_in_neutron(url):
    enrol(url, 'compute-1')
    register(url, '172.24.4.100')
    register(url, '172.24.4.101')
    end = datetime.datetime.utcnow() + DAY
    lease = cli_json(url, 'lease', 'create', '--start-date', 'now', '--end-date', fmt(end),
                     '--reservation', 'resource_type=physical:host,min=1,max=1',
                     '--reservation', 'resource_type=virtual:floatingip,network_id=%s,'
                     'amount=2' % PUBLIC, 'l1', token='alice:proj1')
    deadline = time.time() + 30
    while rest(url, 'GET', '/leases/%s' % lease['id'])['lease']['status'] != 'ACTIVE':
        assert time.time() < deadline, 'the lease did not start'
        time.sleep(0.3)
    deadline = time.time() + 30
    while sorted(neutron_fips(url)) != ['172.24.4.100', '172.24.4.101']:
        assert time.time() < deadline, neutron_fips(url)
        time.sleep(0.3)
    assert {f['project_id'] for f in neutron_fips(url).values()} == {'proj1'}
    refused = cli(url, 'lease', 'create', '--reservation',
                  'resource_type=virtual:floatingip,network_id=%s,amount=1' % PUBLIC,
                  'l2', token='alice:proj1', check=False)
    assert refused.returncode != 0
    assert 'Not enough floating IPs available' in refused.stderr
    rest(url, 'PUT', '/leases/%s' % lease['id'], {'end_date': 'now'}, token='alice:proj1')
    deadline = time.time() + 30
    while neutron_fips(url):
        assert time.time() < deadline, neutron_fips(url)
        time.sleep(0.3)


def test_osc_availability_and_calendar_of_floating_ips(url):
    register(url, '172.24.4.100')
    register(url, '172.24.4.101')
    start = tomorrow()
    rest(url, 'POST', '/leases', {
        'name': 'f1', 'start_date': fmt(start), 'end_date': fmt(start + DAY), 'events': [],
        'reservations': [{'resource_type': 'virtual:floatingip', 'network_id': PUBLIC,
                          'amount': 1}]})
    shown = cli_json(url, 'availability', 'show', '--resource-type', 'virtual:floatingip',
                     '--network-id', PUBLIC, '--start-date', fmt(start),
                     '--end-date', fmt(start + DAY))
    assert (shown['amount'], shown['reservable']) == (1, 2)
    offered = cli_json(url, 'offering', 'list', '--network-id', PUBLIC, '--amount', '2',
                       '--duration', '1d', '--earliest-start', fmt(start))
    assert offered[0]['Start date'] == wire(start + DAY)
    rows = cli_json(url, 'calendar', 'show', '--network-id', PUBLIC, '--hosts',
                    '--start-date', fmt(start - DAY), '--end-date', fmt(start + 2 * DAY))
    assert sorted({r['Address'] for r in rows}) == ['172.24.4.100', '172.24.4.101']
    assert [r['Lease'] for r in rows if r['Lease']] != []


# --- every command has its test ----------------------------------------------

def _tests_here():
    return {name for name in globals() if name.startswith('test_')}


def test_every_openstack_reservation_command_has_a_test():
    names = {ep.name for ep in importlib.metadata.entry_points(
        group='openstack.reservation.v1')}
    wanted = {'test_osc_' + name[len('reservation_'):] for name in names
}
    assert len(wanted) >= 27
    assert wanted - _tests_here() == set()


def test_every_legacy_blazar_command_has_a_test():
    from blazarclient import shell
    wanted = {'test_legacy_' + name.replace('-', '_') for name in shell.COMMANDS_V1}
    assert len(wanted) == 20
    assert wanted - _tests_here() == set()


def test_the_client_tested_is_4_6():
    assert importlib.metadata.version('python-blazarclient').startswith('4.6.')
