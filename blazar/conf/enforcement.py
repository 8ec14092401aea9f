"""[enforcement]: usage rules checked when leases are created, updated and
end; [external_service]: how the external policy service is reached (a
keystoneauth session's TLS and timeout options)."""
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'enforcement'
SESSION_GROUP = 'external_service'
DAY = 24 * 3600

enforcement_opts = [
    cfg.ListOpt('enabled_filters', default=[],
                help='Enforcement filters run, in this order, when a lease is '
                     'created, updated or ends, by entry point name in the '
                     'blazar.enforcement.filters namespace. Built in: '
                     'MaxLeaseDurationFilter, ProjectLimitsFilter, '
                     'ExternalServiceFilter. The first refusal wins and the '
                     'request fails with 403, changing nothing.'),
]

duration_opts = [
    cfg.IntOpt('max_lease_duration', default=-1, min=-1,
               help='MaxLeaseDurationFilter: longest lease, in seconds, from '
                    'its start to its end; -1 means no limit. An active lease '
                    'being prolonged may instead end at most this long after '
                    'the moment of the request.'),
    cfg.ListOpt('max_lease_duration_exempt_project_ids', default=[],
                help='MaxLeaseDurationFilter: projects exempt from '
                     'max_lease_duration and extension_window.'),
    cfg.IntOpt('extension_window', default=0, min=0,
               help='MaxLeaseDurationFilter: an active lease may be prolonged '
                    'only during this many seconds before its end; 0 means '
                    'at any time.'),
]

limit_opts = [
    cfg.IntOpt('max_hosts_per_project', default=-1, min=-1,
               help='ProjectLimitsFilter: most hosts a project may hold at '
                    'the same moment, over all its leases; -1 means no limit.'),
    cfg.DictOpt('max_hosts_per_project_overrides', default={},
                help='ProjectLimitsFilter: per-project max_hosts_per_project, '
                     'as project_id:limit pairs (-1 for no limit), e.g. '
                     '"proj1:10,proj2:-1".'),
    cfg.IntOpt('max_vcpus_per_project', default=-1, min=-1,
               help='ProjectLimitsFilter: most vCPUs a project may hold at the '
                    'same moment (a reserved host counts all its vCPUs); -1 '
                    'means no limit.'),
    cfg.DictOpt('max_vcpus_per_project_overrides', default={},
                help='ProjectLimitsFilter: per-project max_vcpus_per_project, '
                     'as project_id:limit pairs.'),
    cfg.IntOpt('max_memory_mb_per_project', default=-1, min=-1,
               help='ProjectLimitsFilter: most memory, in MB, a project may '
                    'hold at the same moment (a reserved host counts all its '
                    'memory); -1 means no limit.'),
    cfg.DictOpt('max_memory_mb_per_project_overrides', default={},
                help='ProjectLimitsFilter: per-project '
                     'max_memory_mb_per_project, as project_id:limit pairs.'),
    cfg.IntOpt('max_floatingips_per_project', default=-1, min=-1,
               help='ProjectLimitsFilter: most floating IPs a project may hold '
                    'at the same moment, over all its leases; -1 means no '
                    'limit.'),
    cfg.DictOpt('max_floatingips_per_project_overrides', default={},
                help='ProjectLimitsFilter: per-project '
                     'max_floatingips_per_project, as project_id:limit pairs.'),
    cfg.IntOpt('max_host_hours_per_project', default=-1, min=-1,
               help='ProjectLimitsFilter: most host-hours a project may '
                    'reserve in any period of host_hours_period seconds, '
                    'counting its past, current and future leases; -1 means '
                    'no limit.'),
    cfg.DictOpt('max_host_hours_per_project_overrides', default={},
                help='ProjectLimitsFilter: per-project '
                     'max_host_hours_per_project, as project_id:limit pairs.'),
    cfg.IntOpt('host_hours_period', default=30 * DAY, min=3600,
               help='ProjectLimitsFilter: length, in seconds, of the rolling '
                    'period of max_host_hours_per_project.'),
]

external_opts = [
    cfg.URIOpt('external_service_base_endpoint', schemes=['http', 'https'],
               help='ExternalServiceFilter: base URL of the operator\'s policy '
                    'service; check-create, check-update and on-end are '
                    'appended for the three calls.'),
    cfg.URIOpt('external_service_check_create_endpoint', schemes=['http', 'https'],
               help='ExternalServiceFilter: URL called before a lease is '
                    'created (overrides <base>/check-create).'),
    cfg.URIOpt('external_service_check_update_endpoint', schemes=['http', 'https'],
               help='ExternalServiceFilter: URL called before a lease is '
                    'updated (overrides <base>/check-update).'),
    cfg.URIOpt('external_service_on_end_endpoint', schemes=['http', 'https'],
               help='ExternalServiceFilter: URL told when a lease has ended '
                    'or was deleted (overrides <base>/on-end).'),
    cfg.StrOpt('external_service_token', default='', secret=True,
               help='ExternalServiceFilter: sent as X-Auth-Token with every '
                    'call.'),
    cfg.FloatOpt('external_service_timeout', default=10.0, min=0.1,
                 help='ExternalServiceFilter: seconds to wait for an answer. '
                      'A check holds the allocation lock meanwhile, so keep '
                      'it short.'),
    cfg.BoolOpt('external_service_allow_on_failure', default=False,
                help='ExternalServiceFilter: allow the request when the '
                     'service cannot be reached, times out or answers '
                     'anything but 204 or 403 (a warning is logged); by '
                     'default such a request is refused.'),
    cfg.IntOpt('external_service_on_end_attempts', default=3, min=1,
               help='ExternalServiceFilter: attempts to deliver an on-end '
                    'call before giving up (it never delays the lease end).'),
    cfg.FloatOpt('external_service_on_end_retry_delay', default=2.0, min=0,
                 help='ExternalServiceFilter: seconds before the first retry '
                      'of an on-end call; the delay doubles with each '
                      'failure.'),
]

ALL_OPTS = enforcement_opts + duration_opts + limit_opts + external_opts


def register_opts(conf):
    conf.register_opts(ALL_OPTS, group=GROUP)
    # cafile, certfile, keyfile, insecure, timeout (and collect_timing,
    # split_loggers), as every keystoneauth session of OpenStack services.
    ks_loading.register_session_conf_options(conf, SESSION_GROUP)


def list_opts():
    return [(GROUP, ALL_OPTS),
            (SESSION_GROUP, ks_loading.get_session_conf_options())]
