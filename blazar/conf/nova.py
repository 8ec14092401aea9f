from oslo_config import cfg

from blazar.conf import keystoneauth
from blazar.conf import upstream

GROUP = 'nova'

nova_opts = [
    cfg.StrOpt('api_microversion', default='2.87',
               help='Compute API microversion used. 2.53..2.87 give UUID '
                    'hypervisor ids and still report hypervisor sizes.'),
    cfg.StrOpt('aggregate_freepool_name', default='freepool',
               deprecated_opts=upstream.deprecated_opts(GROUP, 'aggregate_freepool_name'),
               help='Nova aggregate holding the reservable hosts that are '
                    'not in a reservation; created if missing. Must match '
                    'the blazar-nova filter setting.'),
    cfg.StrOpt('blazar_owner', default='blazar:owner',
               deprecated_opts=upstream.deprecated_opts(GROUP, 'blazar_owner'),
               help='Aggregate metadata key naming the owning project.'),
    cfg.StrOpt('image_prefix', default='reserved_',
               deprecated_opts=upstream.deprecated_opts(GROUP, 'image_prefix'),
               help='Name prefix of the snapshots taken before a lease ends.'),
    cfg.BoolOpt('az_aware', default=True,
                help='Record the availability zone of enrolled hosts.'),
    cfg.IntOpt('server_deletion_timeout', default=600, min=0,
               help='Seconds to wait for servers to disappear at lease end.'),
]


def register_opts(conf):
    keystoneauth.register_opts(conf, GROUP, nova_opts, 'compute')


def list_opts():
    return keystoneauth.list_opts(GROUP, nova_opts)
