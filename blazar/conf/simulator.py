from oslo_config import cfg

simulator_opts = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help='Address the cloud simulator listens on.'),
    cfg.PortOpt('bind_port', default=0,
                help='Port of the cloud simulator; 0 picks a free one.'),
    cfg.StrOpt('auth_strategy', default='noauth', choices=[
                   ('noauth', "tokens are '<user>:<project>' (user admin is an "
                              "admin), like the Keystone-less test Nova"),
                   ('keystone', 'tokens are validated by keystonemiddleware with '
                                'the [keystone_authtoken] options; the admin '
                                'role makes an admin')],
               help='How the simulated Nova and Placement authenticate '
                    'callers.'),
    cfg.BoolOpt('control_api', default=False,
                help='FOR TESTS ONLY. Serve the control API under '
                     '/_simulator/ (arm, list and clear Nova faults; fail a '
                     'host silently), without authentication, so that a '
                     'test can drive a separate blazar-simulator process '
                     '(blazar/simulator/control.py). Never enable it where '
                     'anyone but the tester reaches the simulator.'),
    cfg.IntOpt('hosts', default=8, min=0,
               help='Number of simulated hypervisors.'),
    cfg.StrOpt('host_name_pattern', default='compute-%d',
               help="Hypervisor hostname pattern, '%d' being 1..hosts."),
    cfg.IntOpt('vcpus', default=16, min=1, help='vCPUs of each simulated host.'),
    cfg.IntOpt('memory_mb', default=65536, min=1,
               help='Memory of each simulated host, in MiB.'),
    cfg.IntOpt('local_gb', default=1000, min=1,
               help='Disk of each simulated host, in GiB.'),
    cfg.StrOpt('availability_zone', default='nova',
               help='Availability zone of the simulated hosts.'),
    cfg.StrOpt('blazar_az_prefix', default='blazar_',
               help='Availability zone prefix marking the aggregates the '
                    'simulated blazar-nova filter treats as Blazar pools '
                    '(besides [nova]aggregate_freepool_name).'),
    cfg.BoolOpt('allow_preemptibles', default=True,
                help='Let flavors with extra spec blazar:preemptible=true '
                     'boot on idle freepool hosts, like blazar-nova with '
                     'allow_preemptibles.'),
    cfg.FloatOpt('cpu_allocation_ratio', default=16.0, min=0.0001,
                 help='Allocation ratio of the VCPU inventory the simulated '
                      'Placement gives each host (Nova\'s default).'),
    cfg.FloatOpt('ram_allocation_ratio', default=1.5, min=0.0001,
                 help='Allocation ratio of the MEMORY_MB inventory of each '
                      'simulated host (Nova\'s default).'),
    cfg.FloatOpt('disk_allocation_ratio', default=1.0, min=0.0001,
                 help='Allocation ratio of the DISK_GB inventory of each '
                      'simulated host (Nova\'s default).'),
    cfg.IntOpt('reserved_host_cpus', default=0, min=0,
               help='vCPUs of each simulated host reserved for the host '
                    '(the VCPU inventory\'s reserved).'),
    cfg.IntOpt('reserved_host_memory_mb', default=512, min=0,
               help='Memory of each simulated host reserved for the host, '
                    'in MiB (Nova\'s default; MEMORY_MB reserved).'),
    cfg.IntOpt('reserved_host_disk_mb', default=0, min=0,
               help='Disk of each simulated host reserved for the host, in '
                    'MiB (DISK_GB reserved, rounded up to GiB).'),
    cfg.FloatOpt('server_delete_delay', default=0.0, min=0.0,
                 help='Seconds a deleted server stays listed (task state '
                      'deleting) before it disappears, to mimic Nova\'s '
                      'asynchronous deletion; 0 deletes at once.'),
    cfg.StrOpt('notification_transport_url',
               help="oslo.messaging transport URL on which the simulator "
                    "publishes Nova's versioned notifications (service.update "
                    "when a compute service is disabled, forced down or "
                    "brought back), for Blazar's notification monitor; unset: "
                    "it publishes none."),
    cfg.ListOpt('notification_topics', default=['versioned_notifications'],
                help='Topics of the simulated versioned notifications.'),
    cfg.StrOpt('notification_exchange', default='nova',
               help='Exchange of the simulated notifications (Nova\'s '
                    'control_exchange).'),
]


def register_opts(conf):
    conf.register_opts(simulator_opts, group='simulator')


def list_opts():
    return [('simulator', simulator_opts)]
