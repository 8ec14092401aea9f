"""Serve a simulated cloud over loopback HTTP from a background thread.

Tests and ``blazar-simulator`` both need a real HTTP endpoint (so the real
python-novaclient and keystoneauth code paths run) without blocking the
caller.
"""
from blazar.conf import CONF
from blazar.simulator import api_neutron
from blazar.simulator import api_placement
from blazar.simulator import app as sim_app
from blazar.simulator import notifications
from blazar.simulator import state
from blazar.utils import wsgi


class SimulatorServer:
    """A running simulator: ``url``, ``compute_url``, ``placement_url``,
    ``neutron_url``, ``cloud``, ``stop()``."""

    def __init__(self, cloud, host='127.0.0.1', port=0, keystone=False,
                 control_api=False):
        self.cloud = cloud
        self.app = sim_app.NovaApp(cloud, keystone=keystone, control_api=control_api)
        served = _validating_tokens(self.app) if keystone else self.app
        self._server = wsgi.Server(served, host, port, name='blazar-simulator').start()
        self.url = self._server.url
        self.compute_url = self.url + sim_app.PREFIX
        self.placement_url = self.url + api_placement.PREFIX
        self.neutron_url = self.url + api_neutron.PREFIX
        self._stopped = False
        self.notifier = None

    def publish_service_updates(self, notifier):
        """Send the cloud's ``service.update`` notifications through
        ``notifier`` (a ``notifications.ServiceNotifier``)."""
        self.notifier = notifier
        self.cloud.on_service_update(notifier)

    def stop(self):
        """Stop serving and free the port; safe to call twice."""
        if not self._stopped:
            self._stopped = True
            self._server.stop()
            if self.notifier is not None:
                self.notifier.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def _validating_tokens(app):
    """keystonemiddleware in front of the simulator, as in front of Nova.
    The decision is left to the app, so version documents stay public."""
    from keystonemiddleware import auth_token
    return auth_token.AuthProtocol(app, {'oslo_config_config': CONF,
                                         'delay_auth_decision': 'true'})


def start_simulator(cloud=None, host='127.0.0.1', port=0):
    """Start serving ``cloud`` (default: one sized by ``[simulator]``),
    authenticating as ``[simulator] auth_strategy`` says."""
    if cloud is None:
        cloud = state.Cloud.from_config()
    server = SimulatorServer(cloud, host=host, port=port,
                             keystone=CONF.simulator.auth_strategy == 'keystone',
                             control_api=CONF.simulator.control_api)
    notifier = notifications.ServiceNotifier.from_config()
    if notifier is not None:
        server.publish_service_updates(notifier)
    return server
