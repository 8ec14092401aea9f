"""Helpers for tests that run Blazar against the simulator.

Pointing ``[nova]`` or ``[placement]`` at a simulator takes a few steps
that are easy to get wrong (the ``admin_token`` plugin's options only exist
once registered, and the cached client must be dropped before and after),
so they live here once for unit, functional and manual use.
"""
import contextlib

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from novaclient import client as nova_client

NOVA_OVERRIDES = ('auth_type', 'endpoint', 'token')


def _point_at(group, url, token, conf, client_module):
    if conf is None:
        from blazar.conf import CONF as conf
    conf.register_opts(ks_loading.get_auth_plugin_conf_options('admin_token'),
                       group=group)
    conf.set_override('auth_type', 'admin_token', group=group)
    conf.set_override('endpoint', url, group=group)
    conf.set_override('token', token, group=group)
    client_module.reset_client()

    def undo():
        for name in NOVA_OVERRIDES:
            conf.clear_override(name, group=group)
        client_module.reset_client()
    return undo


def point_nova_at(url, token='admin:admin', conf=None):
    """Override ``[nova]`` so ``blazar.clients.nova`` talks to ``url``.

    ``url`` is the compute endpoint (``SimulatorServer.compute_url``).
    Returns a callable undoing the overrides.
    """
    from blazar.clients import nova
    return _point_at('nova', url, token, conf, nova)


def point_placement_at(url, token='admin:admin', conf=None):
    """Override ``[placement]`` so ``blazar.clients.placement`` talks to
    ``url`` (``SimulatorServer.placement_url``, or a real Keystone-less
    Placement such as ``http://127.0.0.1:28778`` with token ``admin``).

    Returns a callable undoing the overrides.
    """
    from blazar.clients import placement
    return _point_at('placement', url, token, conf, placement)


def point_neutron_at(url, token='admin:admin', conf=None):
    """Override ``[neutron]`` so ``blazar.clients.neutron`` talks to ``url``
    (``SimulatorServer.neutron_url``). Returns a callable undoing it."""
    from blazar.clients import neutron
    return _point_at('neutron', url, token, conf, neutron)


def placement_adapter_for(srv, token='admin:admin', version='1.39'):
    """A raw keystoneauth Adapter on a running simulator's Placement (or
    anything with a ``placement_url``), answering errors (no raise)."""
    sess = ks_session.Session(auth=token_endpoint.Token(srv.placement_url,
                                                        token))
    return ks_adapter.Adapter(sess, service_type='placement',
                              default_microversion=version, raise_exc=False)


def novaclient_for(srv, token='admin:admin', version='2.87'):
    """A raw python-novaclient for a running simulator, as ``token``."""
    sess = ks_session.Session(auth=token_endpoint.Token(srv.compute_url,
                                                        token))
    return nova_client.Client(version, session=sess)


@contextlib.contextmanager
def simulated_nova(cloud=None, token='admin:admin', conf=None):
    """Run a simulator and point ``[nova]``, ``[placement]`` and
    ``[neutron]`` at it for the block's length.

    Yields the ``SimulatorServer`` (``.cloud`` is the live cloud).
    """
    from blazar.simulator import server
    from blazar.simulator import state
    srv = server.start_simulator(cloud if cloud is not None
                                 else state.Cloud())
    undo_nova = point_nova_at(srv.compute_url, token=token, conf=conf)
    undo_placement = point_placement_at(srv.placement_url, token=token,
                                        conf=conf)
    undo_neutron = point_neutron_at(srv.neutron_url, token=token, conf=conf)
    try:
        yield srv
    finally:
        undo_neutron()
        undo_placement()
        undo_nova()
        srv.stop()
