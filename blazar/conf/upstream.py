"""Options upstream OpenStack Blazar 18 reads, in a configuration file moved
over from an upstream deployment.

Each keeps its meaning here as a deprecated alias of this service's option
(``ALIASES``: oslo.config reads the old name when the new one is not set,
and logs the deprecation), or is accepted and ignored (``IGNORED``:
registered, marked deprecated for removal with the reason, and named in a
warning when a service starts, see :func:`warn_ignored`).
``blazar-status upgrade check`` lists every one of them a file sets.
doc/source/admin/upgrade-from-upstream.rst has the table.
"""
import logging

from oslo_config import cfg

LOG = logging.getLogger(__name__)

_KEYSTONEAUTH = ('set [trustee] (the service user lease trusts are delegated to) '
                 'and [nova], [placement] and [neutron] (keystoneauth options: auth_type = '
                 'password, auth_url, username, password, project_name, '
                 'user_domain_name, project_domain_name) instead')

#: (our group, our option) -> [(upstream group, upstream option)]: the
#: upstream option is a deprecated alias of ours.
ALIASES = {
    ('api', 'bind_port'): [('DEFAULT', 'port')],
    ('nova', 'valid_interfaces'): [('nova', 'endpoint_type')],
    ('nova', 'service_type'): [('nova', 'compute_service'), ('DEFAULT', 'compute_service')],
    ('nova', 'region_name'): [('DEFAULT', 'os_region_name')],
    ('nova', 'cafile'): [('DEFAULT', 'cafile')],
    ('nova', 'image_prefix'): [('DEFAULT', 'image_prefix')],
    ('nova', 'aggregate_freepool_name'): [('physical:host', 'aggregate_freepool_name')],
    ('nova', 'blazar_owner'): [('physical:host', 'blazar_owner')],
    ('placement', 'valid_interfaces'): [('placement', 'endpoint_type')],
    ('placement', 'region_name'): [('DEFAULT', 'os_region_name')],
    ('placement', 'cafile'): [('DEFAULT', 'cafile')],
    ('neutron', 'valid_interfaces'): [('neutron', 'endpoint_type')],
    ('neutron', 'region_name'): [('DEFAULT', 'os_region_name')],
    ('neutron', 'cafile'): [('DEFAULT', 'cafile')],
    ('trustee', 'cafile'): [('DEFAULT', 'cafile')],
}

#: (upstream group, option, why it is ignored here, secret)
IGNORED = (
    ('DEFAULT', 'enable_v1_api', 'the v1 API is the only one here and is always '
     'served', False),
    ('DEFAULT', 'log_exchange', 'request and response bodies are not logged; every '
     'request is logged with its status and time', False),
    ('DEFAULT', 'os_auth_protocol', "upstream's Keystone address; " + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_auth_host', "upstream's Keystone address; " + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_auth_port', "upstream's Keystone address; " + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_auth_prefix', "upstream's Keystone address; " + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_auth_version', "upstream's Keystone address; " + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_admin_username', "upstream's service credentials; " + _KEYSTONEAUTH,
     False),
    ('DEFAULT', 'os_admin_password', "upstream's service credentials; " + _KEYSTONEAUTH,
     True),
    ('DEFAULT', 'os_admin_project_name', "upstream's service credentials; "
     + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_admin_user_domain_name', "upstream's service credentials; "
     + _KEYSTONEAUTH, False),
    ('DEFAULT', 'os_admin_project_domain_name', "upstream's service credentials; "
     + _KEYSTONEAUTH, False),
    ('DEFAULT', 'identity_service', 'Keystone is reached at the auth_url of the '
     'keystoneauth options, not looked up in the catalog', False),
    ('DEFAULT', 'endpoint_type', 'Keystone is reached at the auth_url of the '
     'keystoneauth options, not looked up in the catalog', False),
    ('DEFAULT', 'keystone_client_version', 'only the Identity API v3 is used', False),
    ('DEFAULT', 'db_driver', 'the store is always the SQLAlchemy one of [database]',
     False),
    ('DEFAULT', 'nova_client_version', 'the compute API microversion is [nova] '
     'api_microversion (2.53 or later: hypervisors have UUIDs)', False),
    ('api', 'api_v2_controllers', 'there is no v2 API', False),
    ('manager', 'event_max_retries', 'cloud work is retried with backoff and no '
     'attempt limit: see [manager] event_retry_delay and event_retry_max_delay',
     False),
    ('nova', 'nova_client_version', 'the compute API microversion is [nova] '
     'api_microversion (2.53 or later: hypervisors have UUIDs)', False),
    ('nova', 'project_id_key', 'upstream does not use it either', False),
    ('physical:host', 'project_id_key', 'upstream does not use it either', False),
)


def deprecated_opts(group, name):
    """DeprecatedOpts of our option ``[group] name`` (upstream's names)."""
    return [cfg.DeprecatedOpt(old_name, group=old_group)
            for old_group, old_name in ALIASES.get((group, name), ())]


def keystoneauth_deprecated(group):
    """``deprecated_opts`` for keystoneauth's option registration helpers."""
    return {name: deprecated_opts(group, name)
            for (our_group, name) in ALIASES if our_group == group}


def _ignored_opt(name, reason, secret):
    # Not marked deprecated_for_removal: oslo.config would then log its own
    # "may be silently ignored in the future" beside warn_ignored's words.
    return cfg.StrOpt(name, secret=secret,
                      help="Upstream Blazar's option, accepted and ignored: %s." % reason)


def _ignored_by_group():
    groups = {}
    for group, name, reason, secret in IGNORED:
        groups.setdefault(group, []).append(_ignored_opt(name, reason, secret))
    return groups


def register_opts(conf):
    for group, opts in _ignored_by_group().items():
        conf.register_opts(opts, group=None if group == 'DEFAULT' else group)


def list_opts():
    return [(None if group == 'DEFAULT' else group, opts)
            for group, opts in _ignored_by_group().items()]


def ignored_in_use(conf):
    """[(group, name, reason)] of the ignored upstream options set."""
    found = []
    for group, name, reason, _secret in IGNORED:
        section = conf if group == 'DEFAULT' else conf[group]
        if section[name] is not None:
            found.append((group, name, reason))
    return found


def warn_ignored(conf):
    """Log a warning naming each ignored upstream option the configuration
    sets, and why it is ignored (called when a service starts)."""
    for group, name, reason in ignored_in_use(conf):
        LOG.warning("[%s] %s is upstream Blazar's option and is ignored here: %s.",
                    group, name, reason)
