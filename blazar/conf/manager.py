from oslo_config import cfg

manager_opts = [
    cfg.StrOpt('rpc_topic', default='blazar.manager',
               help='RPC topic the manager listens on.'),
    cfg.ListOpt('plugins', default=['physical.host.plugin', 'virtual.instance.plugin',
                                    'flavor.instance.plugin', 'virtual.floatingip.plugin'],
                help='Resource plugins to load, by entry point name in the '
                     'blazar.resource.plugins namespace.'),
    cfg.IntOpt('minutes_before_end_lease', default=60, min=0,
               help='Default distance of the before_end_lease event from the '
                    'lease end, in minutes; 0 creates no such event.'),
    cfg.FloatOpt('event_max_wait', default=30.0, min=0.1, mutable=True,
                 help='Longest sleep of the event loop between two looks at '
                      'the store, in seconds (it also wakes for the next due '
                      'event and whenever a lease changes).'),
    cfg.IntOpt('reconcile_interval', default=600, min=0, mutable=True,
               help='Seconds after which the converger checks again that the '
                    'cloud still holds what a settled reservation needs '
                    '(aggregates and their hosts, flavors, inventories...) '
                    'and puts back what a hand edit or a crash took away; '
                    'the freepool is checked as often. 0 turns it off.'),
    cfg.IntOpt('event_claim_timeout', default=900, min=10,
               help='Seconds a manager may hold a piece of work (a '
                    'reservation being converged, a before-end action, a '
                    'deferred call) before another manager takes it to have '
                    'died and does it again; keep it above [nova] '
                    'server_deletion_timeout.'),
    cfg.IntOpt('event_max_attempts', default=8, min=1,
               deprecated_for_removal=True,
               deprecated_reason='Cloud work is retried until it succeeds '
                                 'while the lease wants it; no attempt limit '
                                 'applies any more.',
               help='Not used.'),
    cfg.IntOpt('prepare_ahead', default=3600, min=0, mutable=True,
               help='Seconds before its start when a pending reservation\'s '
                    'cloud objects (its aggregate, private flavor, server '
                    'group, resource class) are made; those of a lease '
                    'starting sooner are made at once. Until then a lease '
                    'holds nothing in Nova or Placement, and deleting it '
                    'calls neither.'),
    cfg.IntOpt('converge_workers', default=8, min=1,
               help='Threads of a manager making the cloud match the '
                    'reservations (one reservation at a time each).'),
    cfg.IntOpt('deferred_workers', default=4, min=1,
               help='Threads of a manager making deferred calls (the '
                    'enforcement filters\' on-end hooks, freepool changes '
                    'of enrolled or removed hosts).'),
    cfg.IntOpt('orphan_interval', default=300, min=0, mutable=True,
               help='Seconds between two looks for orphans: objects in '
                    'Nova and Placement carrying the service\'s marks that '
                    'no reservation wants. 0 turns it off.'),
    cfg.IntOpt('orphan_grace_period', default=600, min=0, mutable=True,
               help='Seconds an orphan is left alone after it was first '
                    'seen, before it is removed.'),
    cfg.FloatOpt('event_retry_delay', default=5.0, min=0.01, mutable=True,
                 help='Seconds before the first retry of failed cloud work '
                      '(a reservation being converged, an action, a deferred '
                      'call); it doubles with each failure in a row.'),
    cfg.FloatOpt('event_retry_max_delay', default=60.0, min=0.01, mutable=True,
                 help='Longest delay between two tries of failing cloud '
                      'work: the cap of its backoff.'),
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
