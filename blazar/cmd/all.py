"""blazar-all: API, manager and (unless a real Nova is configured) the cloud
simulator in one process.

With no configuration file this is the embedded default for a first run:
SQLite under ./.state, in-process RPC, noauth, 8 simulated hosts, the API
on 127.0.0.1:1234. With --config-file it is an all-in-one deployment of
whatever the file says.
"""
import logging

from oslo_config import cfg

from blazar import launcher
from blazar import service
from blazar.db import migration
from blazar.utils import wsgi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

EMBEDDED_DEFAULTS = [
    ('auth_strategy', 'noauth', None),
    ('transport_url', 'fake:/', None),
    ('bind_host', '127.0.0.1', 'api'),
    ('bind_port', 1234, 'api'),
]


def _start_simulator():
    from blazar.simulator import server as sim_server
    from blazar.simulator import testing as sim_testing
    simulator = sim_server.start_simulator(host=CONF.simulator.bind_host,
                                           port=CONF.simulator.bind_port)
    sim_testing.point_nova_at(simulator.compute_url)
    sim_testing.point_placement_at(simulator.placement_url)
    if not CONF.neutron.auth_type:
        sim_testing.point_neutron_at(simulator.neutron_url)
    return simulator


def _banner(api_url, simulator):
    lines = ['', 'Blazar is running.',
             '  API:        %s/v1' % api_url,
             '  Database:   %s' % CONF.database.connection,
             '  Auth:       %s' % CONF.auth_strategy]
    if simulator is not None:
        lines.append('  Simulator:  %s (%d hosts)' % (simulator.compute_url,
                                                      CONF.simulator.hosts))
        lines.append('  Neutron:    %s (external networks: %s)' % (
            simulator.neutron_url, ', '.join(
                '%s %s' % (n['name'], n['id'])
                for n in simulator.cloud.neutron.list_networks())))
    lines += ['', 'Try it with the OpenStack CLI (pip install python-blazarclient '
              'python-openstackclient):',
              '  export OS_AUTH_TYPE=none OS_ENDPOINT=%s/v1' % api_url,
              '  openstack reservation host create compute-1',
              '  openstack reservation host list',
              '  openstack reservation floatingip create <network id> 172.24.4.100',
              '  openstack reservation lease create --start-date now '
              '--end-date "YYYY-MM-DD HH:MM" my-lease',
              '  openstack reservation lease list',
              'or, without the exports:',
              '  openstack --os-auth-type none --os-endpoint %s/v1 reservation '
              'lease list' % api_url, '']
    print('\n'.join(lines), flush=True)


class AllService(launcher.Service):
    """Simulator, manager and API in the one worker process (in-process
    RPC needs them together)."""
    name = 'blazar-all'

    def __init__(self, worker_id, api):
        super().__init__(worker_id)
        self.api = api
        self.manager = self.simulator = None

    def start(self):
        from blazar.api import app as api_app
        from blazar.manager import service as manager_service
        self.simulator = None if CONF.nova.auth_type else _start_simulator()
        self.manager = manager_service.ManagerService()
        self.manager.start()
        self.api.set_app(api_app.setup_app())
        self.api.start()
        _banner(self.api.url, self.simulator)

    def stop(self, deadline):
        self.api.stop(deadline.left(floor=0.1))
        if self.manager is not None:
            self.manager.stop(deadline)
        if self.simulator is not None:
            self.simulator.stop()



def main(argv=None):
    for name, value, group in EMBEDDED_DEFAULTS:
        CONF.set_default(name, value, group=group)
    service.prepare(argv, reports='blazar-all')
    migration.upgrade('head')
    api = wsgi.Server(wsgi.not_ready, CONF.api.bind_host, CONF.api.bind_port,
                      name='blazar-api')
    launcher.launch(AllService, args=(api,))
    LOG.info('blazar-all stopped')


if __name__ == '__main__':
    main()
