"""All configuration options of the service, one module per group.

``CONF`` is the process-wide oslo.config object; importing this package
registers every option so that any module may read any group.
"""
from oslo_config import cfg
from oslo_db import options as db_options
from oslo_messaging import opts as messaging_opts

from blazar.conf import api
from blazar.conf import default
from blazar.conf import enforcement
from blazar.conf import hosts
from blazar.conf import manager
from blazar.conf import neutron
from blazar.conf import nova
from blazar.conf import placement
from blazar.conf import preemptible
from blazar.conf import simulator
from blazar.conf import trustee
from blazar.conf import upstream

CONF = cfg.CONF

for _module in (default, api, manager, nova, hosts, simulator):
    _module.register_opts(CONF)
enforcement.register_opts(CONF)
placement.register_opts(CONF)
neutron.register_opts(CONF)
preemptible.register_opts(CONF)
trustee.register_opts(CONF)
upstream.register_opts(CONF)

# transport_url and friends, so that commands can default them.
for _group, _opts in messaging_opts.list_opts():
    if _group in (None, 'oslo_messaging_notifications'):
        CONF.register_opts(_opts, group=_group)

# The embedded default store; deployments set [database] connection.
# The manager serves RPC calls, the converger, the event loop and the
# deferred calls on threads of their own: with oslo.db's pool of 5, every
# session beyond the fifth opened and closed a connection of its own
# (a third of a busy manager's CPU went to connecting).
MAX_POOL_SIZE = 30
db_options.set_defaults(CONF, connection='sqlite:///$state_path/blazar.sqlite',
                        max_pool_size=MAX_POOL_SIZE)
