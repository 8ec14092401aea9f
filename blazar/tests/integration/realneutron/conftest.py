"""Fixtures of the real-Neutron tier (``pytest -m realneutron``).

``realneutron`` (package scope, so it stops right after this package's
tests): a real Neutron 29 API, ML2 without agents, with one external
network (stack.py), installed on first use under ``$RN_HOME``
(install.py). ``blazar``: blazar-api and blazar-manager processes pointed
at it (deployment.py). The tier skips, naming the server, only when
MariaDB or RabbitMQ do not answer; anything else that goes wrong is an
error with the logs.
"""
import sys

import pytest

from blazar.tests import backends
from blazar.tests.integration.realneutron import deployment
from blazar.tests.integration.realneutron import install
from blazar.tests.integration.realneutron import stack


def _say(config):
    reporter = config.pluginmanager.get_plugin('terminalreporter')

    def say(message):
        if reporter is not None:
            reporter.write_line('[realneutron] %s' % message)
        else:
            print('[realneutron] %s' % message, file=sys.stderr)
    return say


@pytest.fixture(scope='package')
def realneutron(request, tmp_path_factory):
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    say = _say(request.config)
    bin_dir = install.ensure_venv(say)
    neutron = stack.RealNeutron(bin_dir, tmp_path_factory.mktemp('realneutron'), say=say)
    try:
        neutron.start()
        yield neutron
    finally:
        neutron.stop()


@pytest.fixture(scope='package')
def blazar(realneutron, tmp_path_factory):
    service = deployment.Blazar(realneutron, tmp_path_factory.mktemp('blazar'))
    try:
        yield service.start()
    finally:
        service.stop()
