"""Fixtures: a simulator on loopback and python-novaclient clients for it."""
import pytest

from blazar.conf import CONF
from blazar.simulator import server
from blazar.simulator import state
from blazar.simulator.testing import novaclient_for


@pytest.fixture
def cloud():
    return state.Cloud(hosts=3, vcpus=8, memory_mb=8192, local_gb=100)


@pytest.fixture
def sim(cloud):
    srv = server.start_simulator(cloud)
    yield srv
    srv.stop()


@pytest.fixture
def nova(sim):
    """Admin client at microversion 2.87 (Blazar's default)."""
    return novaclient_for(sim)


@pytest.fixture
def alice(sim):
    """Non-admin user alice of project projA."""
    return novaclient_for(sim, 'alice:projA')


@pytest.fixture
def bob(sim):
    """Non-admin user bob of project projB."""
    return novaclient_for(sim, 'bob:projB')


@pytest.fixture(autouse=True)
def _blazar_nova_settings():
    """Pin the options the simulated blazar-nova filter reads."""
    values = {('aggregate_freepool_name', 'nova'): 'freepool',
              ('blazar_owner', 'nova'): 'blazar:owner',
              ('blazar_az_prefix', 'simulator'): 'blazar_',
              ('allow_preemptibles', 'simulator'): True}
    for (name, group), value in values.items():
        CONF.set_override(name, value, group=group)
    yield
    for name, group in values:
        CONF.clear_override(name, group=group)
