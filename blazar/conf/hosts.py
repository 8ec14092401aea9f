from oslo_config import cfg

GROUP = 'physical:host'

host_opts = [
    cfg.StrOpt('blazar_az_prefix', default='blazar_',
               help='Availability zone prefix of host-reservation aggregates; '
                    'must match the blazar-nova filter setting.'),
    cfg.StrOpt('before_end', default='', choices=['', 'snapshot'],
               help="What a reservation whose before_end is 'default' does "
                    "before its lease ends: nothing, or snapshot its servers."),
    cfg.BoolOpt('randomize_host_selection', default=False,
                help='Break ties between equally good hosts at random '
                     'instead of by id (spreads wear over idle hosts).'),
]

# Monitoring and healing (blazar/manager/monitors.py, healing.py).
monitor_opts = [
    cfg.BoolOpt('enable_notification_monitor', default=False,
                help="Watch Nova's versioned notifications (service.update) "
                     "to notice at once a compute service being disabled, "
                     "forced down or brought back. A compute that silently "
                     "stops reporting sends none: enable the polling monitor "
                     "too to catch it."),
    cfg.ListOpt('notification_topics', default=['versioned_notifications'],
                help="Topics Nova publishes its versioned notifications on "
                     "(Nova's [notifications] versioned_notifications_topics; "
                     "Nova must have notification_format = versioned or "
                     "both)."),
    cfg.StrOpt('notification_exchange', default='nova',
               help="Exchange Nova publishes on (Nova's control_exchange)."),
    cfg.StrOpt('notification_pool', default='blazar-host-monitor',
               help='Listener pool of the notification monitor: its own '
                    'queue, so it takes no message from other consumers of '
                    "Nova's notifications (managers sharing the pool share "
                    'the messages).'),
    cfg.BoolOpt('enable_polling_monitor', default=False,
                help="Ask Nova's compute services API every polling_interval "
                     "seconds whether each enrolled host's nova-compute is "
                     "up and enabled."),
    cfg.IntOpt('polling_interval', default=60, min=1,
               help='Seconds between two polls of the polling monitor.'),
    cfg.IntOpt('healing_interval', default=60, min=0,
               help='Minutes ahead that a healing pass looks: reservations '
                    'holding a failed host from now to now + '
                    'healing_interval get a replacement, later ones when a '
                    'later pass (every healing_interval minutes) finds them '
                    'in its window, so a host that comes back in time keeps '
                    'them. 0: heal every current and future reservation at '
                    'once (passes then run hourly, to retry degraded '
                    'reservations).'),
]


def register_opts(conf):
    conf.register_opts(host_opts + monitor_opts, group=GROUP)


def list_opts():
    return [(GROUP, host_opts + monitor_opts)]
