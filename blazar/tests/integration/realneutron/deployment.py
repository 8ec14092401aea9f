"""Blazar as operators run it, pointed at a real Neutron: ``blazar-api``
and ``blazar-manager`` as separate processes over RabbitMQ, on MariaDB
(the realnova tier's deployment), with only the floating-IP plugin.

Neutron is reached through keystoneauth's standard options only
(``[neutron] auth_type = admin_token`` with ``endpoint`` and ``token``).
"""
import uuid

from blazar.tests import backends
from blazar.tests.integration.realneutron import stack as realneutron_stack
from blazar.tests.integration.realnova import deployment as realnova_deployment


class Blazar(realnova_deployment.Blazar):

    def __init__(self, neutron, workdir):
        super().__init__(None, workdir)
        self.neutron = neutron

    def config_text(self):
        return '\n'.join([
            '[DEFAULT]',
            'transport_url = %s' % backends.RABBITMQ_URL,
            'auth_strategy = noauth',
            'rpc_response_timeout = 60',
            '[database]',
            'connection = %s' % self.db_url,
            '[manager]',
            'rpc_topic = blazar.manager.rneu-%s' % uuid.uuid4().hex[:8],
            'plugins = virtual.floatingip.plugin',
            'minutes_before_end_lease = 0',
            '[api]',
            'bind_host = 127.0.0.1',
            'bind_port = %d' % self.port,
            '[neutron]',
            'auth_type = admin_token',
            'endpoint = %s' % self.neutron.url,
            'token = %s' % realneutron_stack.TOKEN,
            ''])
