from oslo_config import cfg

from blazar.conf import keystoneauth

GROUP = 'placement'

placement_opts = [
    cfg.StrOpt('api_microversion', default='1.39',
               help='Placement API microversion used (1.14 at least: '
                    'nested resource providers; 1.39 is the newest).'),
    cfg.IntOpt('generation_conflict_retries', default=5, min=0,
               help='How many times an inventory or trait update refused '
                    'for a stale resource provider generation is retried, '
                    'each time after reading the provider afresh.'),
]


def register_opts(conf):
    keystoneauth.register_opts(conf, GROUP, placement_opts, 'placement')


def list_opts():
    return keystoneauth.list_opts(GROUP, placement_opts)
