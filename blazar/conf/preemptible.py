from oslo_config import cfg

GROUP = 'preemptible'

preemptible_opts = [
    cfg.StrOpt('flavor_key', default='blazar:preemptible',
               help='Flavor extra spec marking preemptible servers (value '
                    "'true'); the blazar-nova filter's convention."),
    cfg.IntOpt('grace_period', default=300, min=0,
               help='Seconds before a lease starts at which the owners of '
                    'the preemptible servers on the capacity it needs are '
                    'notified (preemption.notice); 0 sends no notice. A lease '
                    'created closer to its start sends it at once.'),
    cfg.StrOpt('action', default='delete', choices=['delete', 'shelve', 'stop'],
               help='What is done to those servers when the lease starts, '
                    'before the capacity is handed over. delete and shelve '
                    '(offloaded) free the capacity; stop keeps the server '
                    "and its Placement allocation on the host, so use it only "
                    "where stopped servers' resources may be overcommitted."),
    cfg.IntOpt('action_timeout', default=300, min=1,
               help='Seconds to wait for the servers to be deleted, '
                    'offloaded or stopped before the start is retried.'),
]


def register_opts(conf):
    conf.register_opts(preemptible_opts, group=GROUP)


def list_opts():
    return [(GROUP, preemptible_opts)]
