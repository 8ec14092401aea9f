"""A real Neutron 29 API on loopback, Keystone-less and agent-less: ML2
with the flat and VXLAN type drivers and no mechanism driver, the
``router`` service plugin (floating IPs are an L3 resource) and Neutron's
default service plugins (``tag`` among them), on MariaDB and RabbitMQ.

That is all floating IPs need: a floating IP on an external network is a
database row plus an unbound port of owner ``network:floatingip``. Nothing
is wired (no L3 or DHCP agent, no OVS or OVN), so the addresses answer no
packet, and nothing in Blazar's contract needs them to.

What a running ``RealNeutron`` is:

* its own MariaDB database and its own RabbitMQ virtual host (Neutron's
  API server casts its notifications to agents that do not exist), named
  after a random tag and removed by ``stop``, and a free loopback port;
* ``neutron.wsgi.api`` under gunicorn (Neutron 29 has no eventlet
  ``neutron-server`` any more), through ``neutron_side/realneutron_wsgi.py``;
  ``auth_strategy = noauth``: a request without ``X-Project-Id`` runs as
  admin, and an admin names the owner with ``project_id`` in the body;
* ``PUBLIC`` (``router:external``, flat) with the subnet ``PUBLIC_CIDR``
  whose allocation pool is ``POOL``: the addresses above it are Blazar's
  to register.

The process runs in its own session and receives SIGTERM if the test
process dies, so an interrupted run leaves nothing behind.
"""
import ipaddress
import pathlib
import signal
import time
import uuid

import requests

from blazar.tests import ports
from blazar.tests.integration.realneutron import install
from blazar.tests.integration.realnova import stack as realnova_stack

PUBLIC = 'public'
PUBLIC_CIDR = '203.0.113.0/24'
GATEWAY = '203.0.113.1'
POOL = ('203.0.113.10', '203.0.113.99')
TOKEN = 'admin'
START_TIMEOUT = 300
StackError = realnova_stack.StackError


class RealNeutron(realnova_stack.RealNova):
    """One Neutron: ``start()``, the scenarios, ``stop()`` (see above).

    Borrows the realnova stack's plumbing (processes, MariaDB, RabbitMQ
    virtual host, logs); only what differs is here."""

    def __init__(self, bin_dir, workdir, say=print):
        self.bins = {'neutron': pathlib.Path(bin_dir)}
        self.workdir = pathlib.Path(workdir)
        self.etc = self.workdir / 'etc'
        self.logs_dir = self.workdir / 'logs'
        self.say = say
        self.hosts = []
        self.tag = uuid.uuid4().hex[:8]
        self.port = ports.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.databases = {'neutron': 'rneu_%s_neutron' % self.tag}
        self.vhost = None
        self._procs = {}
        self._admin_db = None
        self.public = None          # the external network, once started
        self.subnet = None
        self._tenant_networks = {}

    # --- life cycle -----------------------------------------------------------
    def start(self):
        started = time.monotonic()
        for path in (self.etc, self.logs_dir, self.workdir / 'data' / 'locks'):
            path.mkdir(parents=True, exist_ok=True)
        self._create_databases()
        self._create_vhost()
        self._write_configs()
        self._run('neutron-db-manage upgrade heads', self.bins['neutron'] /
                  'neutron-db-manage', '--config-file', self.etc / 'neutron.conf',
                  'upgrade', 'heads')
        self.say('realneutron: schema ready in %.0f s' % (time.monotonic() - started))
        self._gunicorn('neutron-api', 'neutron', self.port,
                       'realneutron_wsgi:application', 4,
                       OS_NEUTRON_CONFIG_DIR=str(self.etc),
                       OS_NEUTRON_CONFIG_FILES='neutron.conf;ml2_conf.ini')
        self._wait('Neutron on %s' % self.url,
                   lambda: self.request('GET', '/networks').status_code == 200,
                   timeout=START_TIMEOUT)
        self._make_public()
        self.say('realneutron: Neutron %s up, external network %s (%s, pool %s-%s) in '
                 '%.0f s' % (self.url, self.public['id'], PUBLIC_CIDR, POOL[0], POOL[1],
                             time.monotonic() - started))
        return self

    def stop(self):
        for proc in self._procs.values():
            realnova_stack._signal_group(proc, signal.SIGKILL)
        for proc in self._procs.values():
            proc.wait(30)
        self._procs.clear()
        self._drop_databases()
        self._delete_vhost()

    # --- the API --------------------------------------------------------------
    def request(self, method, path, body=None, **kwargs):
        """A raw networking API call as admin (``path`` after /v2.0)."""
        return requests.request(method, self.url + '/v2.0' + path, json=body, timeout=60,
                                headers={'X-Auth-Token': TOKEN}, **kwargs)

    def floatingips(self, **params):
        """{address: floating IP} of the floating IPs Neutron has."""
        resp = self.request('GET', '/floatingips', params=params)
        assert resp.status_code == 200, resp.text
        return {f['floating_ip_address']: f for f in resp.json()['floatingips']}

    def registrable(self, count):
        """``count`` addresses of the public subnet outside its pool."""
        network = ipaddress.ip_network(PUBLIC_CIDR)
        first = ipaddress.ip_address(POOL[1]) + 1
        return [str(first + i) for i in range(count) if first + i in network]

    def tenant_port(self, project):
        """A new port of ``project`` on a tenant network that a router joins
        to the public network: what a floating IP can be associated with
        (the network, its subnet and the router are made on first use)."""
        if project not in self._tenant_networks:
            net = self._create('network', {'name': 'net-%s' % project,
                                           'project_id': project})
            subnet = self._create('subnet', {
                'network_id': net['id'], 'project_id': project, 'ip_version': 4,
                'cidr': '10.0.0.0/24', 'enable_dhcp': False})
            router = self._create('router', {
                'name': 'router-%s' % project, 'project_id': project,
                'external_gateway_info': {'network_id': self.public['id']}})
            resp = self.request('PUT', '/routers/%s/add_router_interface' % router['id'],
                                {'subnet_id': subnet['id']})
            if resp.status_code != 200:
                raise StackError('router interface: %s %s' % (resp.status_code, resp.text))
            self._tenant_networks[project] = net
        return self._create('port', {'network_id': self._tenant_networks[project]['id'],
                                     'project_id': project})

    def _create(self, kind, body):
        resp = self.request('POST', '/%ss' % kind, {kind: body})
        if resp.status_code != 201:
            raise StackError('%s: %s %s' % (kind, resp.status_code, resp.text))
        return resp.json()[kind]

    # --- configuration --------------------------------------------------------
    def _write_configs(self):
        data = self.workdir / 'data'
        (self.etc / 'neutron.conf').write_text(realnova_stack._ini({
            'DEFAULT': {
                'core_plugin': 'ml2', 'service_plugins': 'router',
                'auth_strategy': 'noauth', 'transport_url': self.transport_url,
                'api_paste_config': self.bins['neutron'].parent / 'etc' / 'neutron' /
                'api-paste.ini',
                'state_path': data, 'log_file': self.logs_dir / 'neutron-api.log',
                # no agent to tell, no Nova to notify
                'dhcp_agent_notification': 'False',
                'notify_nova_on_port_status_changes': 'False',
                'notify_nova_on_port_data_changes': 'False'},
            'database': {'connection': self._db_url('neutron')},
            'oslo_concurrency': {'lock_path': data / 'locks'},
            'oslo_messaging_notifications': {'driver': 'noop'},
        }))
        (self.etc / 'ml2_conf.ini').write_text(realnova_stack._ini({
            'ml2': {'type_drivers': 'flat,vxlan', 'project_network_types': 'vxlan',
                    'mechanism_drivers': '', 'extension_drivers': 'port_security'},
            'ml2_type_flat': {'flat_networks': PUBLIC},
            'ml2_type_vxlan': {'vni_ranges': '1:1000'},
        }))

    def _env(self, **extra):
        env = super()._env(**extra)
        env['PYTHONPATH'] = str(install.NEUTRON_SIDE)
        return env

    def _make_public(self):
        resp = self.request('POST', '/networks', {'network': {
            'name': PUBLIC, 'router:external': True, 'provider:network_type': 'flat',
            'provider:physical_network': PUBLIC}})
        if resp.status_code != 201:
            raise StackError('external network: %s %s' % (resp.status_code, resp.text))
        self.public = resp.json()['network']
        resp = self.request('POST', '/subnets', {'subnet': {
            'network_id': self.public['id'], 'name': PUBLIC + '-v4', 'ip_version': 4,
            'cidr': PUBLIC_CIDR, 'gateway_ip': GATEWAY, 'enable_dhcp': False,
            'allocation_pools': [{'start': POOL[0], 'end': POOL[1]}]}})
        if resp.status_code != 201:
            raise StackError('external subnet: %s %s' % (resp.status_code, resp.text))
        self.subnet = resp.json()['subnet']
