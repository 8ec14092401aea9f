"""virtual:floatingip through the real API, manager and converger, against
the simulated Neutron, on each database backend: addresses registered with
Neutron's checks, reserved on the calendar, made in the owner's project at
the start (tagged), deleted at the end, retried through failures, and
collected when orphaned."""
import pytest

from blazar import context as blazar_context
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_leases import wait_for_status

ALICE = 'alice:proj1'


@pytest.fixture
def fast_retries(config):
    config.set_override('event_retry_delay', 0.05, group='manager')
    config.set_override('event_retry_max_delay', 0.25, group='manager')


def public(simulator, name='public'):
    return simulator.cloud.neutron.network_by_name(name)['id']


def register(api, network, *addresses):
    ids = []
    for address in addresses:
        resp = api.post('/v1/floatingips', {'floating_network_id': network,
                                            'floating_ip_address': address})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()['floatingip']['id'])
    return ids


def fip_reservation(network, amount=1, required=None):
    body = {'resource_type': 'virtual:floatingip', 'network_id': network,
            'amount': amount}
    if required is not None:
        body['required_floatingips'] = required
    return body


def post_lease(api, body):
    resp = api.as_user(ALICE).post('/v1/leases', body)
    assert resp.status_code == 201, resp.text
    return resp.json()['lease']


def in_neutron(simulator, network=None):
    """{address: (project, sorted tags, port)} of the floating IPs Neutron has."""
    return {address: (f['project_id'], tuple(sorted(f['tags'])), f['port_id'])
            for address, f in simulator.cloud.neutron.addresses(network).items()}


def fip_of(lease):
    return next(r for r in lease['reservations']
                if r['resource_type'] == 'virtual:floatingip')


# --- registering addresses --------------------------------------------------------

def test_register_list_show_delete(api, simulator):
    net = public(simulator)
    [fip_id] = register(api, net, '172.24.4.100')
    shown = api.get('/v1/floatingips/%s' % fip_id).json()['floatingip']
    assert (shown['floating_network_id'], shown['floating_ip_address'],
            shown['reservable']) == (net, '172.24.4.100', True)
    assert shown['subnet_id'] == simulator.cloud.neutron.get_network(net)['subnets'][0]
    listed = api.as_user(ALICE).get('/v1/floatingips')
    assert listed.status_code == 200
    assert [f['id'] for f in listed.json()['floatingips']] == [fip_id]
    refused = api.as_user(ALICE).post('/v1/floatingips', {
        'floating_network_id': net, 'floating_ip_address': '172.24.4.101'})
    assert refused.status_code == 403
    assert api.as_user(ALICE).delete('/v1/floatingips/%s' % fip_id).status_code == 403
    assert api.delete('/v1/floatingips/%s' % fip_id).status_code == 204
    assert api.get('/v1/floatingips/%s' % fip_id).status_code == 404
    assert api.delete('/v1/floatingips/%s' % fip_id).status_code == 404


@pytest.mark.parametrize('network,address,status,words', [
    ('nope', '172.24.4.100', 400, 'Failed to find network nope'),
    (None, '10.9.9.9', 404, 'lies in no subnet of network'),
    (None, '172.24.4.50', 400, 'is in the allocation pool 172.24.4.2-172.24.4.99'),
    (None, '172.24.4.1', 400, 'is the gateway of subnet'),
    (None, 'not-an-ip', 400, 'not-an-ip is an invalid IP format'),
    (None, '172.24.4.100', 400, 'is already registered'),
])
def test_register_refusals_name_what_is_wrong(api, simulator, network, address, status,
                                              words):
    net = public(simulator)
    register(api, net, '172.24.4.100')
    resp = api.post('/v1/floatingips', {'floating_network_id': network or net,
                                        'floating_ip_address': address})
    assert resp.status_code == status, resp.text
    assert words in resp.json()['error_message']


# --- reservations -----------------------------------------------------------------

def test_host_and_floatingip_lease_lives_and_ends(api, simulator):
    enrol(api, 1)
    net = public(simulator)
    register(api, net, '172.24.4.100', '172.24.4.101', '172.24.4.102')
    lease = post_lease(api, lease_with([host_reservation(1, 1),
                                        fip_reservation(net, 2, ['172.24.4.102'])],
                                       start='now'))
    fip = fip_of(lease)
    assert (fip['network_id'], fip['amount'], fip['required_floatingips']) == (
        net, 2, ['172.24.4.102'])
    wait_for_status(api, lease['id'], 'ACTIVE')
    made = in_neutron(simulator, net)
    assert sorted(made) == ['172.24.4.100', '172.24.4.102']
    assert set(made.values()) == {
        ('proj1', ('blazar', 'reservation:%s' % fip['id']), None)}
    # A tenant put one on a port: the end takes it off and deletes it.
    simulator.cloud.neutron.associate(
        simulator.cloud.neutron.addresses()['172.24.4.100']['id'], 'port-1')
    resp = api.as_user(ALICE).put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    wait_for_status(api, lease['id'], 'TERMINATED')
    settled()
    assert in_neutron(simulator) == {}


def test_not_enough_addresses_is_a_409_saying_how_many(api, simulator):
    net = public(simulator)
    register(api, net, '172.24.4.100', '172.24.4.101')
    post_lease(api, lease_with([fip_reservation(net, 2)], start=60, end=120))
    resp = api.as_user(ALICE).post('/v1/leases', lease_with(
        [fip_reservation(net, 1)], name='l2', start=90, end=150))
    assert resp.status_code == 409, resp.text
    assert ('asked for 1 floating IP(s) of network %s; 2 reservable address(es) '
            'registered, 0 of those free' % net) in resp.json()['error_message']
    resp = api.as_user(ALICE).post('/v1/leases', lease_with(
        [fip_reservation(net, 1, ['172.24.4.101'])], name='l3', start=90, end=150))
    assert resp.status_code == 409
    assert '172.24.4.101 is taken' in resp.json()['error_message']
    # Afterwards is free (no cleaning time by default).
    post_lease(api, lease_with([fip_reservation(net, 2)], name='l4', start=120, end=180))
    # Another network has none registered.
    resp = api.as_user(ALICE).post('/v1/leases', lease_with(
        [fip_reservation(public(simulator, 'public2'), 1)], name='l5'))
    assert resp.status_code == 409
    assert '0 reservable address(es) registered' in resp.json()['error_message']


def test_bad_reservation_parameters_are_400(api, simulator):
    net = public(simulator)
    for body, words in [
            (fip_reservation(net, 1, ['x.y']), 'x.y is an invalid IP format'),
            (fip_reservation(net, 1, ['172.24.4.100', '172.24.4.101']),
             'cannot list more addresses than amount'),
            (dict(fip_reservation(net), amount=0), 'amount'),
            ({'resource_type': 'virtual:floatingip', 'amount': 1}, 'network_id')]:
        resp = api.as_user(ALICE).post('/v1/leases', lease_with([body]))
        assert resp.status_code == 400, resp.text
        assert words in resp.json()['error_message']


def test_held_address_cannot_be_deleted_until_its_lease_ended(api, simulator):
    net = public(simulator)
    [fip_id] = register(api, net, '172.24.4.100')
    lease = post_lease(api, lease_with([fip_reservation(net)], start='now'))
    wait_for_status(api, lease['id'], 'ACTIVE')
    resp = api.delete('/v1/floatingips/%s' % fip_id)
    assert resp.status_code == 409
    assert lease['id'] in resp.json()['error_message']
    api.as_user(ALICE).put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    wait_for_status(api, lease['id'], 'TERMINATED')
    # Only an ended lease held it: that is history, the address goes.
    assert api.delete('/v1/floatingips/%s' % fip_id).status_code == 204
    assert fip_of(api.get('/v1/leases/%s' % lease['id']).json()['lease'])['amount'] == 1


def test_updates_pending_and_active(api, simulator):
    net = public(simulator)
    register(api, net, '172.24.4.100', '172.24.4.101', '172.24.4.102')
    lease = post_lease(api, lease_with([fip_reservation(net, 1)], start=60, end=120))
    rid = fip_of(lease)['id']
    tenant = api.as_user(ALICE)

    def update(**values):
        return tenant.put('/v1/leases/%s' % lease['id'],
                          {'reservations': [dict(values, id=rid)]})

    resp = update(network_id=public(simulator, 'public2'))
    assert resp.status_code == 409 and 'network_id cannot change' in resp.text
    resp = update(required_floatingips=['172.24.4.101'])
    assert resp.status_code == 409 and 'can only be emptied' in resp.text
    resp = update(amount=2)
    assert resp.status_code == 200, resp.text
    assert fip_of(resp.json()['lease'])['amount'] == 2
    resp = update(amount=4)
    assert resp.status_code == 409 and 'asked for 4 floating IP(s)' in resp.text
    assert fip_of(tenant.get('/v1/leases/%s' % lease['id']).json()['lease'])['amount'] == 2
    # Started: it may grow, and the new address is made at once; never shrink.
    assert tenant.put('/v1/leases/%s' % lease['id'],
                      {'start_date': 'now'}).status_code == 200
    wait_for_status(api, lease['id'], 'ACTIVE')
    settled()
    assert len(in_neutron(simulator)) == 2
    resp = update(amount=1)
    assert resp.status_code == 409 and 'cannot go below' in resp.text
    resp = update(amount=3)
    assert resp.status_code == 200, resp.text
    settled()
    assert sorted(in_neutron(simulator)) == ['172.24.4.100', '172.24.4.101',
                                             '172.24.4.102']
    assert tenant.delete('/v1/leases/%s' % lease['id']).status_code == 204
    settled()
    assert in_neutron(simulator) == {}


@pytest.mark.parametrize('failures', [1, 2])
def test_neutron_failing_is_retried_until_the_cloud_matches(api, simulator, fast_retries,
                                                             failures):
    net = public(simulator)
    register(api, net, '172.24.4.100', '172.24.4.101')
    simulator.cloud.inject_fault('POST', r'^/networking/v2.0/floatingips$', times=failures)
    lease = post_lease(api, lease_with([fip_reservation(net, 2)], start='now'))
    wait_for_status(api, lease['id'], 'ACTIVE')
    settled()
    assert sorted(in_neutron(simulator)) == ['172.24.4.100', '172.24.4.101']
    simulator.cloud.inject_fault('DELETE', r'^/networking/v2.0/floatingips/', times=failures)
    api.as_user(ALICE).put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    wait_for_status(api, lease['id'], 'TERMINATED')
    settled()
    assert in_neutron(simulator) == {}
    assert not simulator.cloud.faults.pending


def test_a_tag_lost_in_a_crash_is_put_back(api, simulator, fast_retries):
    """Tagging fails after the floating IP was made: the retry finds it by
    its description (set when it was made) and tags it, making no second."""
    net = public(simulator)
    register(api, net, '172.24.4.100')
    simulator.cloud.inject_fault('PUT', r'/tags$', times=1)
    lease = post_lease(api, lease_with([fip_reservation(net)], start='now'))
    wait_for_status(api, lease['id'], 'ACTIVE')
    settled()
    assert in_neutron(simulator) == {
        '172.24.4.100': ('proj1', ('blazar', 'reservation:%s' % fip_of(lease)['id']),
                         None)}


def test_an_address_held_outside_blazar_is_waited_for(api, simulator, fast_retries):
    net = public(simulator)
    register(api, net, '172.24.4.100')
    neutron = simulator.cloud.neutron
    from blazar.simulator.state import ADMIN
    squatter = neutron.create_floatingip(ADMIN, {'floating_network_id': net,
                                                 'floating_ip_address': '172.24.4.100'})
    lease = post_lease(api, lease_with([fip_reservation(net)], start='now'))
    resp = None
    for _ in range(100):
        resp = api.get('/v1/leases/%s' % lease['id']).json()['lease']
        if resp['status_reason'] and 'not by Blazar' in resp['status_reason']:
            break
        import time
        time.sleep(0.1)
    assert 'held in Neutron by project admin, not by Blazar' in resp['status_reason']
    neutron.delete_floatingip(ADMIN, squatter['id'])
    wait_for_status(api, lease['id'], 'ACTIVE')
    assert in_neutron(simulator)['172.24.4.100'][0] == 'proj1'


def test_orphans_carrying_our_marks_are_collected(api, stack, simulator, config):
    config.set_override('orphan_grace_period', 0, group='manager')
    net = public(simulator)
    register(api, net, '172.24.4.100')
    lease = post_lease(api, lease_with([fip_reservation(net)], start='now'))
    wait_for_status(api, lease['id'], 'ACTIVE')
    neutron = simulator.cloud.neutron
    from blazar.simulator.state import ADMIN
    orphan = neutron.create_floatingip(ADMIN, {'floating_network_id': net,
                                               'floating_ip_address': '172.24.4.200'})
    neutron.set_tags(ADMIN, orphan['id'],
                     ['blazar', 'reservation:0b5c7cf4-5e2e-4a5b-8a57-8a0d3c4a7d11'])
    foreign = neutron.create_floatingip(ADMIN, {'floating_network_id': net,
                                                'floating_ip_address': '172.24.4.201'})
    removed = stack.manager.sweeper.orphans(blazar_context.get_admin_context())
    assert [o.ident for o in removed] == [orphan['id']]
    assert sorted(in_neutron(simulator)) == ['172.24.4.100', '172.24.4.201']
    neutron.delete_floatingip(ADMIN, foreign['id'])


def test_concurrent_creates_for_the_last_addresses_get_exactly_them(api, simulator):
    """32 tenants at once for the last K free addresses: exactly K get one,
    never the same for overlapping time."""
    import collections
    import concurrent.futures

    from blazar.db import api as db_api
    net = public(simulator)
    register(api, net, *['172.24.4.%d' % i for i in range(100, 106)])
    post_lease(api, lease_with([fip_reservation(net, 3)], name='first', start=30,
                               end=150))
    free = 3
    bodies = [lease_with([fip_reservation(net, 1)], 'l%d' % i, start=60, end=120)
              for i in range(32)]
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        futures = [pool.submit(api.as_user('user%d:proj%d' % (i, i)).post,
                               '/v1/leases', body) for i, body in enumerate(bodies)]
        answers = [f.result() for f in futures]
    codes = collections.Counter(r.status_code for r in answers)
    assert codes == {201: free, 409: 32 - free}, [r.text for r in answers
                                                  if r.status_code not in (201, 409)]
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.json()['error_message'].startswith(
            'Not enough floating IPs available')
    context = blazar_context.get_admin_context()
    held = [fip for lease in api.get('/v1/leases').json()['leases']
            for fip in db_api.reservation_floatingip_ids(context, fip_of(lease)['id'])]
    assert len(held) == len(set(held)) == 6


def test_availability_offerings_and_calendar_answer_for_floating_ips(api, simulator):
    from blazar.tests.functional.test_leases import in_minutes
    net = public(simulator)
    register(api, net, '172.24.4.100', '172.24.4.101', '172.24.4.102')
    post_lease(api, lease_with([fip_reservation(net, 2)], start=60, end=120))
    tenant = api.as_user(ALICE)
    query = 'resource_type=virtual:floatingip&network_id=%s' % net

    def get(path, params):
        resp = tenant.get('%s?%s&%s' % (path, query, params))
        assert resp.status_code == 200, resp.text
        return resp.json()

    during = get('/v1/availability', 'start_date=%s&end_date=%s' % (
        in_minutes(70), in_minutes(80)))['availability']
    assert (during['reservable'], during['amount']) == (3, 1)
    before = get('/v1/availability', 'end_date=%s' % in_minutes(30))['availability']
    assert before['amount'] == 3
    # Three addresses stay free until the lease starts.
    lasting = get('/v1/availability/duration', 'amount=3')['availability']
    assert 55 <= lasting['duration'] <= 61 and lasting['free'] == 3
    offer, = get('/v1/offerings', 'amount=3&duration=90&limit=1')['offerings']
    assert offer['lease']['reservations'] == [
        {'resource_type': 'virtual:floatingip', 'network_id': net, 'amount': 3}]
    # What is offered is accepted.
    post_lease(api, dict(offer['lease'], name='offered'))
    calendar = api.get('/v1/calendar?%s&start_date=%s&end_date=%s' % (
        query, in_minutes(50), in_minutes(130))).json()['calendar']
    assert calendar['total'] == 3
    assert [step['free'] for step in calendar['free']][:2] == [3, 1]
    assert sorted(f['floating_ip_address'] for f in calendar['floatingips']) == [
        '172.24.4.100', '172.24.4.101', '172.24.4.102']
    resp = tenant.get('/v1/availability?resource_type=virtual:floatingip&end_date=%s'
                      % in_minutes(30))
    assert resp.status_code == 400 and 'network_id' in resp.text


def test_usage_counts_address_hours_per_project(api, simulator):
    from blazar.tests.functional.test_leases import in_minutes
    enrol(api, 1)
    net = public(simulator)
    register(api, net, '172.24.4.100', '172.24.4.101')
    post_lease(api, lease_with([host_reservation(1, 1), fip_reservation(net, 2)],
                               start=60, end=120))
    resp = api.get('/v1/usage?start_date=%s&end_date=%s' % (in_minutes(30),
                                                            in_minutes(150)))
    assert resp.status_code == 200, resp.text
    project, = resp.json()['usage']['projects']
    assert (project['project_id'], project['floatingip_hours'], project['host_hours'],
            project['leases'], project['reservations']) == ('proj1', 2.0, 1.0, 1, 2)


def test_a_project_limit_counts_floating_ips(api, simulator, config):
    config.set_override('enabled_filters', ['ProjectLimitsFilter'], group='enforcement')
    config.set_override('max_floatingips_per_project', 2, group='enforcement')
    config.set_override('max_floatingips_per_project_overrides', {'proj2': '3'},
                        group='enforcement')
    net = public(simulator)
    register(api, net, *['172.24.4.%d' % i for i in range(100, 106)])
    post_lease(api, lease_with([fip_reservation(net, 1)], start=60, end=120))
    resp = api.as_user(ALICE).post('/v1/leases', lease_with(
        [fip_reservation(net, 2)], name='l2', start=90, end=150))
    assert resp.status_code == 403, resp.text
    assert ('would hold 3 floating IPs at once, over its limit of 2 floating IPs '
            '(max_floatingips_per_project)') in resp.json()['error_message']
    # Afterwards, or for a project with a higher limit, it fits.
    post_lease(api, lease_with([fip_reservation(net, 2)], name='l3', start=120, end=180))
    resp = api.as_user('bob:proj2').post('/v1/leases', lease_with(
        [fip_reservation(net, 3)], name='l4', start=60, end=120))
    assert resp.status_code == 201, resp.text
