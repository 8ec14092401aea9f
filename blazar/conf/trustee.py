"""[trustee]: the Blazar service user that lease owners delegate to.

With ``auth_strategy = keystone`` every lease create records a Keystone
trust from the caller to this user; the manager authenticates as this user
scoped to a lease's trust to act on the owner's behalf, and to delete the
trust when the lease ends or is deleted. Standard keystoneauth options:
any auth plugin (usually ``password`` with ``auth_url``, ``username``,
``password``, ``user_domain_name``), plus the session options (``cafile``,
``insecure``, ``timeout``...). Leave the project scope out: a token scoped
to a trust cannot also be scoped to a project (it is ignored here if set).
"""
from keystoneauth1 import loading as ks_loading

from blazar.conf import upstream

GROUP = 'trustee'


def register_opts(conf):
    ks_loading.register_session_conf_options(
        conf, GROUP, deprecated_opts=upstream.keystoneauth_deprecated(GROUP))
    ks_loading.register_auth_conf_options(conf, GROUP)


def list_opts():
    return [(GROUP, ks_loading.get_session_conf_options(
        deprecated_opts=upstream.keystoneauth_deprecated(GROUP))
             + ks_loading.get_auth_common_conf_options()
             + ks_loading.get_auth_plugin_conf_options('password'))]
