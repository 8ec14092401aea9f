"""Options of a group through which the service reaches another OpenStack
service with keystoneauth: session, any auth plugin, adapter (with the
upstream Blazar names they replace as deprecated aliases)."""
from keystoneauth1 import loading as ks_loading

from blazar.conf import upstream


def register_opts(conf, group, own_opts, service_type):
    deprecated = upstream.keystoneauth_deprecated(group)
    conf.register_opts(own_opts, group=group)
    ks_loading.register_session_conf_options(conf, group, deprecated_opts=deprecated)
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_adapter_conf_options(conf, group, deprecated_opts=deprecated)
    conf.set_default('service_type', service_type, group=group)
    conf.set_default('valid_interfaces', ['internal', 'public'], group=group)


def list_opts(group, own_opts):
    """For the sample generator: the group's own options, then keystoneauth's
    (the password plugin's shown as the example)."""
    deprecated = upstream.keystoneauth_deprecated(group)
    return [(group, own_opts
             + ks_loading.get_session_conf_options(deprecated_opts=deprecated)
             + ks_loading.get_auth_common_conf_options()
             + ks_loading.get_auth_plugin_conf_options('password')
             + ks_loading.get_adapter_conf_options(include_deprecated=False,
                                                   deprecated_opts=deprecated))]
