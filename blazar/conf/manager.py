from oslo_config import cfg

manager_opts = [
    cfg.StrOpt('rpc_topic', default='blazar.manager',
               help='RPC topic the manager listens on.'),
    cfg.ListOpt('plugins', default=['physical.host.plugin', 'virtual.instance.plugin',
                                    'flavor.instance.plugin'],
                help='Resource plugins to load, by entry point name in the '
                     'blazar.resource.plugins namespace.'),
    cfg.IntOpt('minutes_before_end_lease', default=60, min=0,
               help='Default distance of the before_end_lease event from the '
                    'lease end, in minutes; 0 creates no such event.'),
    cfg.FloatOpt('event_max_wait', default=30.0, min=0.1,
                 help='Longest sleep of the event loop between two looks at '
                      'the store, in seconds (it also wakes for the next due '
                      'event and whenever a lease changes).'),
    cfg.IntOpt('reconcile_interval', default=600, min=0,
               help='Seconds between two passes of the reconciler, which '
                    'puts Nova back in line with the store (aggregate '
                    'membership, reservation flavors and inventories) after '
                    'a crash or a hand edit; a pass also runs at start-up. 0 '
                    'turns it off.'),
    cfg.IntOpt('event_claim_timeout', default=900, min=10,
               help='Seconds a manager may spend on one lease event before '
                    'another manager takes it to have died and runs the '
                    'event again; keep it above [nova] '
                    'server_deletion_timeout.'),
    cfg.IntOpt('event_max_attempts', default=8, min=1,
               help='Runs of a failing start/end event before it is given '
                    'up and its lease put in ERROR.'),
    cfg.FloatOpt('event_retry_delay', default=5.0, min=0.1,
                 help='Seconds before the first retry of a failed event; it '
                      'doubles with each failure.'),
    cfg.FloatOpt('event_retry_max_delay', default=300.0, min=0.1,
                 help='Longest delay between two runs of a failing event.'),
]

notification_opts = [
    cfg.StrOpt('publisher_id', default='blazar.lease',
               help='Publisher id of the notifications the service sends.'),
]


def register_opts(conf):
    conf.register_opts(manager_opts, group='manager')
    conf.register_opts(notification_opts, group='notifications')


def list_opts():
    return [('manager', manager_opts), ('notifications', notification_opts)]
