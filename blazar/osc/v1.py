"""openstack reservation availability/offering/calendar/usage commands.

Each command sends one GET (``offering reserve`` a GET then a POST) through
the session and endpoint of python-blazarclient's client, so the usual
``--os-auth-type``/``--os-endpoint``/``--os-cloud`` options apply.
"""
import json
import urllib.parse

from osc_lib.command import command

HOST = 'physical:host'
VIRTUAL = 'virtual:instance'
FLAVOR = 'flavor:instance'
FLOATINGIP = 'virtual:floatingip'


def _request(app, method, path, params=None, body=None):
    """(body) of a request to the reservation API; errors raise the
    client's exception, whose message the shell prints."""
    client = app.client_manager.reservation
    manager = client.lease.request_manager
    if params:
        query = urllib.parse.urlencode(
            [(k, v) for k, v in params.items() if v is not None])
        if query:
            path = '%s?%s' % (path, query)
    if body is None:
        _, answer = manager.request(path, method)
    else:
        _, answer = manager.request(path, method, body=body)
    return answer


def _resource_options(parser):
    parser.add_argument(
        '--resource-type', metavar='<type>',
        help='Resource type: %s, %s, %s or %s (default: %s with --flavor, %s '
             'with --vcpus/--memory-mb/--disk-gb, %s with --network-id, else %s).'
             % (HOST, VIRTUAL, FLAVOR, FLOATINGIP, FLAVOR, VIRTUAL, FLOATINGIP, HOST))
    parser.add_argument(
        '--hypervisor-properties', metavar='<query>',
        help='Host property query as in a lease, e.g. \'[">=", "$vcpus", "8"]\'.')
    parser.add_argument(
        '--resource-properties', metavar='<query>',
        help='Extra capability query as in a lease, e.g. '
             '\'["==", "$gpu", "a100"]\'.')
    parser.add_argument('--vcpus', type=int, metavar='<n>',
                        help='Instance shape: vCPUs of one instance.')
    parser.add_argument('--memory-mb', dest='memory_mb', type=int, metavar='<MiB>',
                        help='Instance shape: memory of one instance.')
    parser.add_argument('--disk-gb', dest='disk_gb', type=int, metavar='<GiB>',
                        help='Instance shape: root disk of one instance.')
    parser.add_argument('--flavor', dest='flavor_id', metavar='<flavor id>',
                        help='Instances of an existing flavor.')
    parser.add_argument('--network-id', dest='network_id', metavar='<network id>',
                        help='Floating IPs: the external Neutron network.')
    parser.add_argument('--affinity', choices=('none', 'true', 'false'),
                        help='Instances: anywhere (none, default), all on one '
                             'host (true) or each on a different host (false).')


def _resource_type(args):
    if args.resource_type:
        return args.resource_type
    if args.flavor_id is not None:
        return FLAVOR
    if any(v is not None for v in (args.vcpus, args.memory_mb, args.disk_gb)):
        return VIRTUAL
    if args.network_id is not None:
        return FLOATINGIP
    return HOST


def _resource_params(args):
    return {'resource_type': _resource_type(args),
            'hypervisor_properties': args.hypervisor_properties,
            'resource_properties': args.resource_properties,
            'vcpus': args.vcpus, 'memory_mb': args.memory_mb,
            'disk_gb': args.disk_gb, 'flavor_id': args.flavor_id,
            'affinity': args.affinity, 'network_id': args.network_id}


def _free_column(args):
    return {HOST: 'Free hosts', FLOATINGIP: 'Free floating IPs'}.get(
        _resource_type(args), 'Free instances')


def _size_option(parser):
    parser.add_argument('--count', '--amount', dest='count', required=True,
                        type=int, metavar='<n>',
                        help='Number of hosts, or of instances (--amount).')


def _date_option(parser, name, help_text):
    parser.add_argument('--' + name.replace('_', '-'), dest=name,
                        metavar='<YYYY-MM-DD HH:MM>', help=help_text)


class ShowAvailability(command.ShowOne):
    """How many hosts (its largest max), or instances of a shape (its
    largest amount), a lease could get for a window."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _date_option(parser, 'start_date', "Window start, UTC (default: now).")
        parser.add_argument('--end-date', dest='end_date', required=True,
                            metavar='<YYYY-MM-DD HH:MM>', help='Window end, UTC.')
        parser.set_defaults(start_date='now')
        _resource_options(parser)
        return parser

    def take_action(self, args):
        answer = _request(self.app, 'GET', '/availability', dict(
            _resource_params(args), start_date=args.start_date,
            end_date=args.end_date))['availability']
        return zip(*sorted(answer.items()), strict=False)


class ShowDuration(command.ShowOne):
    """How long a number of hosts (or instances of a shape) stays free from
    a start date (the latest end date a lease could have; empty when
    unbounded)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _size_option(parser)
        _date_option(parser, 'start_date', 'Lease start, UTC (default: now).')
        parser.set_defaults(start_date='now')
        _resource_options(parser)
        return parser

    def take_action(self, args):
        answer = _request(self.app, 'GET', '/availability/duration', dict(
            _resource_params(args), start_date=args.start_date,
            count=args.count))['availability']
        return zip(*sorted(answer.items()), strict=False)


def _offering_options(parser):
    _size_option(parser)
    parser.add_argument('--duration', required=True, metavar='<duration>',
                        help="Lease length: minutes, or e.g. '8h', '2d', '1d12h'.")
    _date_option(parser, 'earliest_start', 'Earliest start, UTC (default: now).')
    _date_option(parser, 'latest_end',
                 'Latest end, UTC (default: offerings start within 30 days).')
    parser.add_argument('--name', metavar='<lease name>',
                        help="Name of the lease in the offered body (default 'lease').")
    _resource_options(parser)


def _offering_params(args, limit):
    return dict(_resource_params(args), count=args.count, duration=args.duration,
                earliest_start=args.earliest_start, latest_end=args.latest_end,
                name=args.name, limit=limit)


class ListOfferings(command.Lister):
    """Windows where a lease of COUNT hosts (or AMOUNT instances) for
    DURATION fits, earliest first, each with the lease body that reserves
    it."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _offering_options(parser)
        parser.add_argument('--limit', type=int, default=5, metavar='<k>',
                            help='Most offerings to list (1-50, default 5).')
        return parser

    def take_action(self, args):
        found = _request(self.app, 'GET', '/offerings',
                         _offering_params(args, args.limit))['offerings']
        return (('Start date', 'End date', _free_column(args), 'Lease'),
                [(o['start_date'], o['end_date'], o['free'],
                  json.dumps(o['lease'], sort_keys=True)) for o in found])


class ReserveOffering(command.ShowOne):
    """Reserve the earliest offering: create the lease it describes."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _offering_options(parser)
        return parser

    def take_action(self, args):
        found = _request(self.app, 'GET', '/offerings',
                         _offering_params(args, 1))['offerings']
        if not found:
            raise SystemExit('No offering: %d %s not free for %s in that frame'
                             % (args.count, {HOST: 'host(s) are',
                                             FLOATINGIP: 'floating IP(s) are'}.get(
                                 _resource_type(args), 'instance(s) are'),
                                args.duration))
        lease = _request(self.app, 'POST', '/leases',
                         body=found[0]['lease'])['lease']
        shown = {key: lease[key] for key in ('id', 'name', 'start_date',
                                             'end_date', 'status', 'project_id')}
        shown['reservations'] = json.dumps(
            [{k: r[k] for k in ('id', 'resource_type', 'min', 'max', 'amount')
              if k in r} for r in lease['reservations']])
        return zip(*sorted(shown.items()), strict=False)


class ShowCalendar(command.Lister):
    """The number of free hosts (or instances of a shape) over a time
    frame; with --hosts (administrators) each host's busy intervals."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _date_option(parser, 'start_date', 'Frame start, UTC (default: now).')
        _date_option(parser, 'end_date', 'Frame end, UTC (default: 7 days on).')
        parser.add_argument('--hosts', action='store_true',
                            help='List busy intervals per host (administrators).')
        _resource_options(parser)
        return parser

    def take_action(self, args):
        calendar = _request(self.app, 'GET', '/calendar', dict(
            _resource_params(args), start_date=args.start_date,
            end_date=args.end_date,
            hosts='true' if args.hosts else 'false'))['calendar']
        if not args.hosts:
            return (('Start date', 'End date', _free_column(args)),
                    [(s['start_date'], s['end_date'], s['free'])
                     for s in calendar['free']])
        if _resource_type(args) == FLOATINGIP:
            rows = [(fip['id'], fip['floating_ip_address'], b.get('start_date', ''),
                     b.get('end_date', ''), b.get('lease_id', ''),
                     b.get('reservation_id', ''), b.get('project_id', ''))
                    for fip in calendar['floatingips'] for b in (fip['busy'] or [{}])]
            return (('Floating IP', 'Address', 'Start date', 'End date', 'Lease',
                     'Reservation', 'Project'), rows)
        # Instance types: how many instances each holding takes.
        slots = _resource_type(args) != HOST
        rows = []
        for host in calendar['hosts']:
            busy = host['busy'] or [{}]
            for b in busy:
                row = (host['id'], host['hypervisor_hostname'],
                       b.get('start_date', ''), b.get('end_date', ''),
                       b.get('lease_id', ''), b.get('reservation_id', ''),
                       b.get('project_id', ''))
                if slots:
                    row += (b.get('slots', ''),)
                rows.append(row)
        columns = ('Host', 'Hypervisor hostname', 'Start date', 'End date', 'Lease',
                   'Reservation', 'Project')
        return (columns + (('Slots',) if slots else ()), rows)


class ShowUsage(command.Lister):
    """Reserved host-hours and VCPU/memory/disk-hours per project."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _date_option(parser, 'start_date', 'Frame start, UTC (default: 30 days '
                                           'before the end).')
        _date_option(parser, 'end_date', 'Frame end, UTC (default: now).')
        parser.add_argument('--project', metavar='<project id>',
                            help='Project (default: yours; administrators: all).')
        return parser

    def take_action(self, args):
        usage = _request(self.app, 'GET', '/usage', dict(
            start_date=args.start_date, end_date=args.end_date,
            project_id=args.project))['usage']
        fields = ('project_id', 'host_hours', 'instance_hours', 'vcpu_hours',
                  'memory_mb_hours', 'disk_gb_hours', 'floatingip_hours', 'leases',
                  'reservations')
        return (('Project', 'Host hours', 'Instance hours', 'VCPU hours',
                 'Memory MB hours', 'Disk GB hours', 'Floating IP hours', 'Leases',
                 'Reservations'),
                [tuple(p.get(f, 0.0) for f in fields) for p in usage['projects']])


class ListPreemptions(command.Lister):
    """Preemptible servers noticed and reclaimed for reservations (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--lease', metavar='<lease id>', help='Only for this lease.')
        parser.add_argument('--reservation', metavar='<reservation id>',
                            help='Only for this reservation.')
        parser.add_argument('--project', metavar='<project id>',
                            help="Only servers of this project.")
        return parser

    def take_action(self, args):
        rows = _request(self.app, 'GET', '/preemptions', dict(
            lease_id=args.lease, reservation_id=args.reservation,
            project_id=args.project))['preemptions']
        fields = ('server_id', 'server_name', 'project_id', 'host', 'reservation_id',
                  'action', 'status', 'noticed_at', 'reclaimed_at', 'reason')
        return (('Server', 'Name', 'Project', 'Host', 'Reservation', 'Action',
                 'Status', 'Noticed at', 'Reclaimed at', 'Reason'),
                [tuple(r[f] for f in fields) for r in rows])
