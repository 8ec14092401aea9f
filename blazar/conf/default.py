import socket

from oslo_config import cfg

default_opts = [
    cfg.StrOpt('host', default=socket.gethostname(), sample_default='<hostname>',
               help='Name of this node: the RPC server name of its manager and '
                    'the owner recorded on the events it claims.'),
    cfg.StrOpt('auth_strategy', default='keystone', choices=['keystone', 'noauth'],
               help="'keystone' validates tokens with keystonemiddleware "
                    "([keystone_authtoken]); 'noauth' trusts the caller and is "
                    "for local use only."),
    cfg.IntOpt('cleaning_time', default=0, min=0,
               help='Minutes kept free before and after every reservation of a '
                    'resource, for cleaning between tenants.'),
    cfg.StrOpt('state_path', default='$pybasedir/.state',
               help='Directory for local state (the embedded SQLite database).'),
    cfg.StrOpt('pybasedir', default='.', sample_default='<cwd>',
               help='Base directory for state_path.'),
]

noauth_opts = [
    cfg.StrOpt('default_user_id', default='admin',
               help='User of a request without a "user:project" token.'),
    cfg.StrOpt('default_project_id', default='admin',
               help='Project of a request without a "user:project" token.'),
    cfg.ListOpt('admin_users', default=['admin'],
                help='Users who get the admin role under noauth.'),
]


def register_opts(conf):
    conf.register_opts(default_opts)
    conf.register_opts(noauth_opts, group='noauth')


def list_opts():
    return [(None, default_opts), ('noauth', noauth_opts)]
