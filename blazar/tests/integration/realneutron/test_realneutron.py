"""Blazar against a real Neutron 29 (ML2, no agents): addresses registered
with Neutron's own subnets checked, and floating-IP reservations through
their whole life: at the start each address exists in the real Neutron
with that exact address, in the lease owner's project, tagged with the
reservation; an active lease that grows gets its new address at once; a
tenant's association with a port is undone at the end, and every address
is deleted (conftest.py says what runs).
"""

import pytest

from blazar.tests.integration.realnova.test_realnova import in_minutes
from blazar.tests.integration.realnova.test_realnova import wait_for
from blazar.tests.integration.realnova.test_realnova import wait_for_lease

pytestmark = pytest.mark.realneutron

OWNER = 'alice:proj1'
PROJECT = 'proj1'


def register(blazar, network, *addresses):
    ids = []
    for address in addresses:
        resp = blazar.api.post('/floatingips', {'floating_network_id': network,
                                                'floating_ip_address': address})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()['floatingip']['id'])
    return ids


def unregister(blazar, ids):
    for fip_id in ids:
        assert blazar.api.delete('/floatingips/%s' % fip_id).status_code == 204


def made_for(realneutron, reservation_id):
    """{address: floating IP} that Neutron has for a reservation."""
    return realneutron.floatingips(tags='reservation:%s' % reservation_id)


def test_registration_checks_the_real_subnets(blazar, realneutron):
    net = realneutron.public['id']
    [first] = realneutron.registrable(1)
    cases = [
        ({'floating_network_id': 'nope', 'floating_ip_address': first}, 400,
         'Failed to find network nope'),
        ({'floating_network_id': net, 'floating_ip_address': '198.51.100.7'}, 404,
         'lies in no subnet of network'),
        ({'floating_network_id': net, 'floating_ip_address': '203.0.113.50'}, 400,
         'is in the allocation pool 203.0.113.10-203.0.113.99'),
        ({'floating_network_id': net, 'floating_ip_address': '203.0.113.1'}, 400,
         'is the gateway of subnet'),
    ]
    for body, status, words in cases:
        resp = blazar.api.post('/floatingips', body)
        assert resp.status_code == status, resp.text
        assert words in resp.json()['error_message'], resp.text
    ids = register(blazar, net, first)
    shown = blazar.api.get('/floatingips/%s' % ids[0]).json()['floatingip']
    assert (shown['floating_network_id'], shown['subnet_id'], shown['floating_ip_address']
            ) == (net, realneutron.subnet['id'], first)
    resp = blazar.api.post('/floatingips', {'floating_network_id': net,
                                            'floating_ip_address': first})
    assert resp.status_code == 400 and 'is already registered' in resp.text, resp.text
    unregister(blazar, ids)


def test_floatingip_lease_through_its_whole_life(blazar, realneutron):
    net = realneutron.public['id']
    addresses = realneutron.registrable(3)
    ids = register(blazar, net, *addresses)
    resp = blazar.api.as_user(OWNER).post('/leases', {
        'name': 'fips', 'start_date': 'now', 'end_date': in_minutes(60), 'events': [],
        'reservations': [{'resource_type': 'virtual:floatingip', 'network_id': net,
                          'amount': 2, 'required_floatingips': [addresses[2]]}]})
    assert resp.status_code == 201, resp.text
    lease = wait_for_lease(blazar, resp.json()['lease']['id'], 'ACTIVE')
    reservation = lease['reservations'][0]
    tags = ['blazar', 'reservation:%s' % reservation['id']]

    made = wait_for('2 floating IPs in Neutron',
                    lambda: (lambda m: m if len(m) == 2 else None)(
                        made_for(realneutron, reservation['id'])), blazar)
    assert addresses[2] in made
    for address, fip in made.items():
        assert address in addresses
        assert (fip['project_id'], fip['floating_network_id'], sorted(fip['tags'])) == (
            PROJECT, net, tags), fip
    # Only the reservation's addresses exist: nothing else was made.
    assert sorted(realneutron.floatingips()) == sorted(made)

    # An active lease grows: the third address appears at once.
    resp = blazar.api.as_user(OWNER).put('/leases/%s' % lease['id'], {
        'reservations': [{'id': reservation['id'], 'amount': 3}]})
    assert resp.status_code == 200, resp.text
    made = wait_for('3 floating IPs in Neutron',
                    lambda: (lambda m: m if len(m) == 3 else None)(
                        made_for(realneutron, reservation['id'])), blazar)
    assert sorted(made) == sorted(addresses)
    assert {f['project_id'] for f in made.values()} == {PROJECT}

    # The tenant puts one on a port of theirs.
    port = realneutron.tenant_port(PROJECT)
    resp = realneutron.request('PUT', '/floatingips/%s' % made[addresses[0]]['id'],
                               {'floatingip': {'port_id': port['id']}})
    assert resp.status_code == 200, resp.text
    assert realneutron.floatingips()[addresses[0]]['port_id'] == port['id']

    # The end takes it off the port and deletes every address (not the port).
    resp = blazar.api.as_user(OWNER).put('/leases/%s' % lease['id'], {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    wait_for_lease(blazar, lease['id'], 'TERMINATED')
    wait_for('the floating IPs deleted from Neutron',
             lambda: not realneutron.floatingips(), blazar)
    assert realneutron.request('GET', '/ports/%s' % port['id']).status_code == 200
    # Addresses that only ended leases held can be unregistered.
    unregister(blazar, ids)
