"""Fixtures of the real-Nova tier (``pytest -m realnova``).

``realnova`` (package scope, so it stops right after this package's
tests): a real Nova 34 + Placement 16 with three fake compute hosts
(stack.py), installed on first use under ``$RN_HOME`` (install.py).
``blazar``: blazar-api and blazar-manager processes pointed at it
(deployment.py). ``enrolled``: host1..host3 enrolled. The tier skips,
naming the server, only when MariaDB or RabbitMQ do not answer; anything
else that goes wrong is an error with the logs.
"""
import sys

import pytest

from blazar.tests import backends
from blazar.tests.integration.realnova import cloud as realnova_cloud
from blazar.tests.integration.realnova import deployment
from blazar.tests.integration.realnova import install
from blazar.tests.integration.realnova import stack


def _say(config):
    reporter = config.pluginmanager.get_plugin('terminalreporter')

    def say(message):
        if reporter is not None:
            reporter.write_line('[realnova] %s' % message)
        else:
            print('[realnova] %s' % message, file=sys.stderr)
    return say


@pytest.fixture(scope='package')
def realnova(request, tmp_path_factory):
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    say = _say(request.config)
    bins = install.ensure_venvs(say)
    nova = stack.RealNova(bins, tmp_path_factory.mktemp('realnova'), say=say)
    try:
        nova.start()
        yield nova
    finally:
        nova.stop()


@pytest.fixture(scope='package')
def cloud(realnova):
    return realnova_cloud.Cloud(realnova)


@pytest.fixture(scope='package')
def blazar(realnova, tmp_path_factory):
    service = deployment.Blazar(realnova, tmp_path_factory.mktemp('blazar'))
    try:
        yield service.start()
    finally:
        service.stop()


@pytest.fixture(scope='package')
def enrolled(blazar, realnova):
    """The Blazar hosts of host1..hostN, enrolled once for the package."""
    known = {h['hypervisor_hostname'] for h in blazar.api.get('/os-hosts').json()['hosts']}
    for name in realnova.hosts:
        if name not in known:
            resp = blazar.api.post('/os-hosts', {'name': name})
            assert resp.status_code == 201, '%s\n%s' % (resp.text, blazar.logs())
    return {h['hypervisor_hostname']: h for h in blazar.api.get('/os-hosts').json()['hosts']}
