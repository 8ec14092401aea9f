"""What the scenarios do and see in the real Nova and Placement, over plain
HTTP (independent of Blazar's own clients): boot and delete servers as a
tenant, read aggregates, flavors, server groups, providers, inventories,
and fail or recover a compute service."""
import time

import requests

from blazar.tests.integration.realnova import stack as realnova_stack

COMPUTE = 'compute 2.87'
PLACEMENT = 'placement 1.39'
SERVER_TIMEOUT = 180


class Cloud:

    def __init__(self, nova):
        self.nova = nova

    # --- plumbing ------------------------------------------------------------
    def compute(self, method, path, token=realnova_stack.NOVA_TOKEN, **kwargs):
        return self.nova.nova_request(method, path, token=token, version=COMPUTE, **kwargs)

    def _get(self, path, key):
        resp = self.compute('GET', path)
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json()[key]

    def placement(self, method, path, **kwargs):
        return requests.request(method, self.nova.placement_url + path, timeout=60,
                                headers={'X-Auth-Token': realnova_stack.PLACEMENT_TOKEN,
                                         'OpenStack-API-Version': PLACEMENT}, **kwargs)

    def _placement_get(self, path):
        resp = self.placement('GET', path)
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json()

    # --- aggregates, flavors, groups -----------------------------------------
    def aggregates(self):
        """{name: aggregate}."""
        return {a['name']: a for a in self._get('/os-aggregates', 'aggregates')}

    def hosts_in(self, aggregate_name):
        aggregate = self.aggregates().get(aggregate_name)
        return sorted(aggregate['hosts']) if aggregate else None

    def create_flavor(self, name, vcpus=1, ram=512, disk=1):
        resp = self.compute('POST', '/flavors', json={'flavor': {
            'name': name, 'vcpus': vcpus, 'ram': ram, 'disk': disk}})
        assert resp.status_code == 200, resp.text
        return resp.json()['flavor']['id']

    def delete_flavor(self, flavor_id):
        self.compute('DELETE', '/flavors/%s' % flavor_id)

    def flavor(self, flavor_id):
        return self._get('/flavors/%s' % flavor_id, 'flavor')

    def flavor_access(self, flavor_id):
        access = self._get('/flavors/%s/os-flavor-access' % flavor_id, 'flavor_access')
        return sorted(a['tenant_id'] for a in access or ())

    def server_group(self, group_id):
        return self._get('/os-server-groups/%s' % group_id, 'server_group')

    # --- servers -------------------------------------------------------------
    def boot(self, token, name, flavor_id, hints=None, zone=None):
        """Ask for one server as ``token`` ('user:project'); its id."""
        server = {'name': name, 'imageRef': realnova_stack.IMAGE_ID,
                  'flavorRef': flavor_id, 'networks': 'none'}
        if zone:
            server['availability_zone'] = zone
        body = {'server': server}
        if hints:
            body['os:scheduler_hints'] = hints
        resp = self.compute('POST', '/servers', token=token, json=body)
        assert resp.status_code == 202, resp.text
        return resp.json()['server']['id']

    def server(self, server_id):
        """The admin's view (host, fault), or None once it is gone."""
        return self._get('/servers/%s' % server_id, 'server')

    def wait_built(self, server_id, timeout=SERVER_TIMEOUT):
        """The server once ACTIVE or ERROR (scheduling decided)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server(server_id)
            if server is not None and server['status'] in ('ACTIVE', 'ERROR'):
                return server
            time.sleep(0.5)
        raise AssertionError('server %s still %s after %d s:\n%s' % (
            server_id, server and server['status'], timeout,
            self.nova.logs(names=['scheduler', 'conductor', 'compute'])))

    def servers(self):
        """Every server of every project, by id."""
        return {s['id']: s for s in self._get('/servers/detail?all_tenants=1', 'servers')}

    def delete_servers(self, server_ids, timeout=SERVER_TIMEOUT):
        for server_id in server_ids:
            self.compute('DELETE', '/servers/%s' % server_id)
        deadline = time.monotonic() + timeout
        while any(self.server(s) is not None for s in server_ids):
            assert time.monotonic() < deadline, 'servers %s not deleted' % server_ids
            time.sleep(0.5)

    @staticmethod
    def host_of(server):
        return server.get('OS-EXT-SRV-ATTR:host')

    # --- Placement -----------------------------------------------------------
    def providers(self):
        """{name: provider}."""
        return {p['name']: p for p in
                self._placement_get('/resource_providers')['resource_providers']}

    def inventories(self, provider_uuid):
        return self._placement_get('/resource_providers/%s/inventories'
                                   % provider_uuid)['inventories']

    def traits(self, provider_uuid):
        return sorted(self._placement_get('/resource_providers/%s/traits'
                                          % provider_uuid)['traits'])

    def provider_aggregates(self, provider_uuid):
        return sorted(self._placement_get('/resource_providers/%s/aggregates'
                                          % provider_uuid)['aggregates'])

    def allocations(self, consumer_uuid):
        """{provider uuid: {class: amount}} held by a server."""
        body = self._placement_get('/allocations/%s' % consumer_uuid)
        return {rp: a['resources'] for rp, a in body['allocations'].items()}

    def resource_class_exists(self, name):
        return self._placement_get('/resource_classes/%s' % name) is not None

    # --- compute services ----------------------------------------------------
    def force_down(self, host, down):
        service = self.nova.compute_services()[host]
        resp = self.nova.nova_request('PUT', '/os-services/%s' % service['id'],
                                      json={'forced_down': down})
        assert resp.status_code == 200, resp.text
