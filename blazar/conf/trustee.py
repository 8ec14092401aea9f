"""[trustee]: the Blazar service user that lease owners delegate to.

With ``auth_strategy = keystone`` every lease create records a Keystone
trust from the caller to this user; the manager authenticates as this user
scoped to a lease's trust to act on the owner's behalf, and to delete the
trust when the lease ends or is deleted. Standard keystoneauth options:
any auth plugin (usually ``password`` with ``auth_url``, ``username``,
``password``, ``user_domain_name``), plus the session options (``cafile``,
``insecure``, ``timeout``...). Leave the project scope out: a token scoped
to a trust cannot also be scoped to a project (it is ignored here if set).

The service logs in once per process; a token scoped to a lease's trust is
the service user's token rescoped to the trust (no password check), cached
per trust (``trust_session_cache_size``) until it nears its expiry.
"""
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from blazar.conf import upstream

GROUP = 'trustee'

OPTS = [
    cfg.IntOpt('trust_session_cache_size', default=1000, min=0,
               help='How many trust-scoped sessions (one per lease acting as '
                    'its owner) the manager keeps, least recently used first '
                    'out. Each holds a token, made by rescoping the service '
                    'user\'s token to the trust (no password check), until it '
                    'nears its expiry. 0 rescopes at every use.'),
    cfg.BoolOpt('share_trusts', default=True,
                help='Leases of the same user, project and roles hold one '
                     'Keystone trust, made by the first of them and deleted '
                     'with the last; a create that reuses it only has '
                     'Keystone validate the token the manager holds for it. '
                     'False: a trust per lease, made (and scoped a token to) '
                     'at each create, about 0.3 s of Keystone\'s time.'),
    cfg.IntOpt('trust_check_interval', default=60, min=0,
               help='Seconds a shared trust Keystone accepted (when it was '
                    'made, or at a later create) is reused without asking '
                    'Keystone again. After that a create reusing it has '
                    'Keystone validate the token the manager holds for it '
                    '(no new token; tens of milliseconds of Keystone\'s '
                    'time). A trust its owner deleted within this interval '
                    'may be taken by a new lease, which then reports the '
                    'failure when it needs the trust. 0: validate at every '
                    'reuse.'),
]


def register_opts(conf):
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_session_conf_options(
        conf, GROUP, deprecated_opts=upstream.keystoneauth_deprecated(GROUP))
    ks_loading.register_auth_conf_options(conf, GROUP)


def list_opts():
    return [(GROUP, OPTS + ks_loading.get_session_conf_options(
        deprecated_opts=upstream.keystoneauth_deprecated(GROUP))
             + ks_loading.get_auth_common_conf_options()
             + ks_loading.get_auth_plugin_conf_options('password'))]
