#!/usr/bin/env python3
"""Write the request/response examples of the API reference.

    .venv/bin/python tools/api_samples.py [OUTPUT_DIR]

runs the real API and manager (in-process RPC, SQLite in a temporary
directory, the simulator as Nova, noauth) on a loopback port, makes the
calls the reference documents and writes each body as JSON into
OUTPUT_DIR (default doc/source/api/samples). Identifiers, timestamps and
the server address are replaced with stable values, so regenerating gives
the same files unless the API changed; blazar/tests/functional/
test_api_samples.py fails when the committed files differ.
"""
import json
import os
import re
import sys
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, 'doc', 'source', 'api', 'samples')
BASE_URL = 'http://blazar.example.com:1234'
TIMESTAMP = '2030-01-02 09:00:00'
WIRE_TIMESTAMP = '2030-01-02T09:00:00.000000'
UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
ADMIN = 'admin:admin'
TENANT = 'alice:7e5a1f3c'

HOST_RESERVATION = {
    'resource_type': 'physical:host', 'min': 1, 'max': 1,
    'hypervisor_properties': '[">=", "$vcpus", 16]',
    'resource_properties': '["==", "$gpu", "a100"]',
    'before_end': 'default',
}
LEASE = {
    'name': 'gpu-training',
    'start_date': '2030-01-10 08:00',
    'end_date': '2030-01-12 18:00',
    'reservations': [HOST_RESERVATION],
    'events': [],
}
INSTANCE_LEASE = {
    'name': 'web-tier',
    'start_date': '2030-01-10 08:00',
    'end_date': '2030-01-12 18:00',
    'reservations': [{
        'resource_type': 'virtual:instance', 'vcpus': 2, 'memory_mb': 4096,
        'disk_gb': 20, 'amount': 3, 'affinity': None, 'resource_properties': ''}],
    'events': [],
}


class Normaliser:
    """Stable identifiers and timestamps for the examples."""

    def __init__(self, server_url):
        self.server_url = server_url
        self.uuids = {}

    def _uuid(self, match):
        value = match.group(0)
        if value not in self.uuids:
            self.uuids[value] = str(uuid.uuid5(uuid.NAMESPACE_URL,
                                               'blazar-example-%d' % len(self.uuids)))
        return self.uuids[value]

    def value(self, obj, key=None):
        if isinstance(obj, dict):
            return {k: self.value(v, k) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v) for v in obj]
        if isinstance(obj, str):
            if key in ('created_at', 'updated_at', 'maintenance_start'):
                return WIRE_TIMESTAMP if 'T' in obj else TIMESTAMP
            obj = obj.replace(self.server_url, BASE_URL)
            return UUID.sub(self._uuid, obj)
        return obj


class Recorder:

    def __init__(self, url, output):
        import requests
        self.session = requests.Session()
        self.url = url
        self.output = output
        self.normaliser = Normaliser(url)
        self.written = []

    def write(self, name, body):
        path = os.path.join(self.output, name + '.json')
        with open(path, 'w') as f:
            json.dump(self.normaliser.value(body), f, indent=4, sort_keys=True)
            f.write('\n')
        self.written.append(path)

    def call(self, method, path, name=None, body=None, token=ADMIN, expect=200,
             headers=None):
        all_headers = {'Accept': 'application/json'}
        if token:
            all_headers['X-Auth-Token'] = token
        all_headers.update(headers or {})
        resp = self.session.request(method, self.url + path, json=body,
                                    headers=all_headers, timeout=60)
        if resp.status_code != expect:
            raise SystemExit('%s %s: %s, expected %s: %s' % (
                method, path, resp.status_code, expect, resp.text))
        if name and body is not None:
            self.write(name + '-req', body)
        if name and resp.content:
            self.write(name + '-resp', resp.json())
        return resp.json() if resp.content else None


def record(rec):
    rec.call('GET', '/', 'versions-list', token=None, expect=300)
    rec.call('GET', '/v1', 'version-show', token=None)

    # Hosts
    one = rec.call('POST', '/v1/os-hosts', 'host-create',
                   {'name': 'compute-1', 'gpu': 'a100', 'rack': 'r1'},
                   expect=201)['host']
    two = rec.call('POST', '/v1/os-hosts', body={'name': 'compute-2',
                                                  'rack': 'r2'}, expect=201)['host']
    rec.call('GET', '/v1/os-hosts', 'hosts-list')
    rec.call('GET', '/v1/os-hosts/%s' % one['id'], 'host-show')
    rec.call('PUT', '/v1/os-hosts/%s' % one['id'], 'host-update',
             {'gpu': 'a100', 'nvme': True})

    # Floating IPs (the simulated Neutron's external network "public")
    from blazar.simulator import neutron_state
    public = neutron_state.fixed_id('network', 'public')
    fip = rec.call('POST', '/v1/floatingips', 'floatingip-create',
                   {'floating_network_id': public, 'floating_ip_address': '172.24.4.100'},
                   expect=201)['floatingip']
    rec.call('POST', '/v1/floatingips', body={'floating_network_id': public,
                                              'floating_ip_address': '172.24.4.101'},
             expect=201)
    rec.call('GET', '/v1/floatingips', 'floatingips-list')
    rec.call('GET', '/v1/floatingips/%s' % fip['id'], 'floatingip-show')
    fip_lease = rec.call('POST', '/v1/leases', 'floatingip-lease-create', {
        'name': 'public-addresses', 'start_date': '2030-01-10 08:00',
        'end_date': '2030-01-12 18:00', 'events': [],
        'reservations': [{'resource_type': 'virtual:floatingip', 'network_id': public,
                          'amount': 2, 'required_floatingips': ['172.24.4.101']}]},
        token=TENANT, expect=201)['lease']
    rec.call('DELETE', '/v1/floatingips/%s' % fip['id'], 'floatingip-delete-refused',
             expect=409)
    rec.call('DELETE', '/v1/leases/%s' % fip_lease['id'], token=TENANT, expect=204)
    rec.call('DELETE', '/v1/floatingips/%s' % fip['id'], expect=204)

    # Resource properties
    rec.call('GET', '/v1/os-hosts/properties', 'properties-list')
    rec.call('GET', '/v1/os-hosts/properties?detail=true', 'properties-list-detail')
    rec.call('PATCH', '/v1/os-hosts/properties/rack', 'property-update',
             {'private': True})
    rec.call('PATCH', '/v1/os-hosts/properties/rack', body={'private': False})

    # Leases
    lease = rec.call('POST', '/v1/leases', 'lease-create', LEASE, token=TENANT,
                     expect=201)['lease']
    rec.call('GET', '/v1/leases', 'leases-list', token=TENANT)
    rec.call('GET', '/v1/leases/%s' % lease['id'], 'lease-show', token=TENANT)
    reservation = lease['reservations'][0]
    rec.call('PUT', '/v1/leases/%s' % lease['id'], 'lease-update', {
        'name': 'gpu-training-2',
        'end_date': '2030-01-13 18:00',
        'reservations': [{'id': reservation['id'], 'max': 1}],
    }, token=TENANT)

    # The answer says what was committed; the converger makes the cloud
    # objects (aggregate_id...) right after it: held back here, so that the
    # sample does not depend on which comes first.
    rec.manager.pause()
    instances = rec.call('POST', '/v1/leases', 'instance-lease-create', INSTANCE_LEASE,
                         token=TENANT, expect=201)['lease']
    rec.manager.resume()
    rec.call('DELETE', '/v1/leases/%s' % instances['id'], token=TENANT, expect=204)

    # Allocations
    rec.call('GET', '/v1/os-hosts/allocations', 'allocations-list')
    rec.call('GET', '/v1/os-hosts/%s/allocation?lease_id=%s' % (one['id'], lease['id']),
             'allocation-show')
    rec.call('PUT', '/v1/os-hosts/%s/allocation' % one['id'], 'allocation-reallocate',
             {'lease_id': lease['id']})

    # Errors
    rec.call('POST', '/v1/leases', 'error-409', dict(
        LEASE, name='too-big', reservations=[dict(HOST_RESERVATION, min=2, max=2)]),
        token=TENANT, expect=409)
    rec.call('POST', '/v1/leases', 'error-400', {
        'name': 'bad', 'start_date': 'tomorrow', 'end_date': '2030-01-12 18:00'},
        token=TENANT, expect=400)
    rec.call('GET', '/v1/os-hosts', 'error-403', token=TENANT, expect=403)
    rec.call('GET', '/v1/leases/%s' % uuid.uuid4(), 'error-404', expect=404)

    # Deletions (204, no body)
    rec.call('DELETE', '/v1/leases/%s' % lease['id'], token=TENANT, expect=204)

    # Maintenance (after the leases: it would move their reservations)
    rec.call('PUT', '/v1/os-hosts/%s/maintenance' % two['id'], 'host-maintenance',
             {'start_date': 'now', 'reason': 'firmware upgrade'})
    rec.call('DELETE', '/v1/os-hosts/%s/maintenance' % two['id'], expect=204)
    rec.call('DELETE', '/v1/os-hosts/%s' % two['id'], expect=204)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    output = os.path.abspath(argv[0] if argv else DEFAULT_OUTPUT)
    os.makedirs(output, exist_ok=True)
    sys.path.insert(0, ROOT)
    from oslo_config import cfg

    from blazar import conf  # noqa: F401
    from blazar.api import app as api_app
    from blazar.db import migration
    from blazar.manager import service as manager_service
    from blazar.simulator import state as sim_state
    from blazar.simulator import testing as sim_testing
    from blazar.utils import wsgi

    CONF = cfg.CONF
    with tempfile.TemporaryDirectory() as tmp:
        CONF([], project='blazar', default_config_files=[])
        CONF.set_override('auth_strategy', 'noauth')
        CONF.set_override('transport_url', 'fake:/')
        CONF.set_override('driver', ['noop'], group='oslo_messaging_notifications')
        CONF.set_override('connection', 'sqlite:///%s/blazar.sqlite' % tmp,
                          group='database')
        migration.upgrade('head')
        cloud = sim_state.Cloud(hosts=2, vcpus=16, memory_mb=65536, local_gb=1000)
        with sim_testing.simulated_nova(cloud):
            manager = manager_service.ManagerService()
            manager.start()
            server = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0).start()
            try:
                rec = Recorder(server.url, output)
                rec.manager = manager
                record(rec)
            finally:
                server.stop()
                manager.stop()
    for path in rec.written:
        print(os.path.relpath(path, ROOT))
    return 0


if __name__ == '__main__':
    sys.exit(main())
