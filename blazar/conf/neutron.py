from oslo_config import cfg

from blazar.conf import keystoneauth

GROUP = 'neutron'

neutron_opts = [
    cfg.StrOpt('floatingip_tag', default='blazar',
               help='Tag put on every floating IP made for a reservation '
                    '(beside reservation:<id>): what orphan collection '
                    'looks for. Upstream Blazar uses the same.'),
]


def register_opts(conf):
    keystoneauth.register_opts(conf, GROUP, neutron_opts, 'network')


def list_opts():
    return keystoneauth.list_opts(GROUP, neutron_opts)
