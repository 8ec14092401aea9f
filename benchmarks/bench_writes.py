"""Write throughput: many tenants creating, updating and deleting leases at
once (issue 14, "Measure").

Sets up the production topology (benchmarks/deployment.py) with
``noauth``: the API under uwsgi with 2 processes, 2 ``blazar-manager``
processes over RabbitMQ, a fresh MariaDB database, ``blazar-simulator`` with
16 hypervisors, all enrolled. Then 50 clients, each a tenant of its own
project (token ``bench-user-N:bench-project-N``), run for ``--duration``
seconds, each as fast as its answers come, a mix of

* creates: one ``physical:host`` reservation of one host, over a random
  window of 1 to 6 hours starting 1 to 30 days ahead (minute precision);
* updates: a new end date, 1 hour later or earlier, of one of its leases;
* deletes: its oldest lease;

holding at most ``--max-held`` leases each (then it updates or deletes).
Windows rarely collide on 16 hosts over 30 days, so most writes succeed;
a 409 (no host free) is a write that was answered, counted apart.

With ``--mix 0,0,0,1`` each client creates one lease, then only reads it
(``GET /v1/leases/<id>``): the cost of the thinnest trip through the same
API, broker, manager and database, a floor that no write can go under.

Prints the writes answered per second after the warm-up (all, and those
that succeeded), their p50/p95/p99 latency, the same per operation, and
any unexpected answer. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_writes.py [--clients 50] [--duration 60]
        [--warmup 5] [--hosts 16] [--managers 2] [--api-processes 2]
"""
import argparse
import collections
import datetime
import os
import pathlib
import random
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from benchmarks import deployment  # noqa: E402

OPERATIONS = ('create', 'update', 'delete', 'read')
SUCCESS = {'create': 201, 'update': 200, 'delete': 204, 'read': 200}


def _minute(moment):
    return moment.replace(second=0, microsecond=0)


def _date(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


class Tenant(threading.Thread):
    """One client: its own project, its own leases, one request at a time."""

    def __init__(self, number, url, args, deadline, records, rng_seed):
        super().__init__(daemon=True, name='tenant-%d' % number)
        self.url = url
        self.args = args
        self.deadline = deadline
        self.records = records
        self.rng = random.Random(rng_seed)
        self.held = collections.deque()     # (id, start, end)
        self.http = requests.Session()
        self.http.headers.update({
            'X-Auth-Token': 'bench-user-%02d:bench-project-%02d' % (number, number),
            'Accept': 'application/json'})
        self.number = number

    def call(self, operation, method, path, body=None):
        started = time.monotonic()
        try:
            resp = self.http.request(method, self.url + path, json=body, timeout=120)
            status, text = resp.status_code, resp.text
        except requests.RequestException as exc:
            status, text = 599, repr(exc)
        self.records.append((operation, started, time.monotonic() - started, status,
                             text[:300] if status != SUCCESS[operation] else None))
        return status, text, resp if status != 599 else None

    def create(self):
        now = _minute(datetime.datetime.utcnow())
        start = now + datetime.timedelta(minutes=self.rng.randrange(24 * 60, 30 * 24 * 60))
        end = start + datetime.timedelta(minutes=self.rng.randrange(60, 6 * 60 + 1))
        status, _, resp = self.call('create', 'POST', '/leases', {
            'name': 't%02d-%d' % (self.number, self.rng.randrange(10 ** 9)),
            'start_date': _date(start), 'end_date': _date(end),
            'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                              'hypervisor_properties': '', 'resource_properties': ''}]})
        if status == 201:
            self.held.append((resp.json()['lease']['id'], start, end))

    def update(self):
        index = self.rng.randrange(len(self.held))
        lease_id, start, end = self.held[index]
        shift = datetime.timedelta(hours=1 if self.rng.random() < 0.5 else -1)
        if end + shift <= start + datetime.timedelta(minutes=30):
            shift = datetime.timedelta(hours=1)
        status, _, _ = self.call('update', 'PUT', '/leases/%s' % lease_id,
                                 {'end_date': _date(end + shift)})
        if status == 200:
            self.held[index] = (lease_id, start, end + shift)

    def delete(self):
        lease_id, _, _ = self.held.popleft()
        status, _, _ = self.call('delete', 'DELETE', '/leases/%s' % lease_id)
        if status not in (204, 404):
            self.held.appendleft((lease_id, None, None))

    def read(self):
        lease_id, _, _ = self.held[self.rng.randrange(len(self.held))]
        self.call('read', 'GET', '/leases/%s' % lease_id)

    def choose(self):
        if not self.held:
            return 'create'
        if len(self.held) >= self.args.max_held:
            # Full: anything but a create (updates and deletes if the mix has none).
            weights = self.args.mix[1:] if any(self.args.mix[1:]) else [1, 1, 0]
            return self.rng.choices(OPERATIONS[1:], weights=weights)[0]
        return self.rng.choices(OPERATIONS, weights=self.args.mix)[0]

    def run(self):
        while time.monotonic() < self.deadline:
            getattr(self, self.choose())()

    def clean_up(self):
        for lease_id, _, _ in self.held:
            self.http.delete(self.url + '/leases/%s' % lease_id, timeout=120)


def _options(settings):
    """'section.name=value' settings as configuration file lines."""
    lines = []
    for setting in settings:
        key, _, value = setting.partition('=')
        section, _, name = key.partition('.')
        lines += ['[%s]' % section, '%s = %s' % (name, value)]
    return lines


def _client_cpu():
    times = os.times()
    return times.user + times.system


def report_cpu(before, after, writes, noun='write'):
    """CPU milliseconds per write answered, per process, over the counted
    window: where a saturated machine spends its cores."""
    if not writes:
        return
    print()
    print('CPU per %s answered (ms), over the counted window:' % noun)
    spent = {name: (after[name] - before.get(name, 0.0)) * 1000 / writes
             for name in after}
    for name, value in sorted(spent.items(), key=lambda item: -item[1]):
        print('  %-18s %7.1f' % (name, value))
    print('  %-18s %7.1f' % ('total', sum(spent.values())))


def report_statements(before, after, writes, noun='write'):
    """The database's work per write answered, over the counted window
    (every client of the server: run on an otherwise quiet server)."""
    if not writes or not after:
        return
    print()
    print('database per %s answered: ' % noun + ', '.join(
        '%s %.1f' % (name, (after[name] - before[name]) / writes) for name in after))


def report(records, window_start, window_end, noun='write'):
    """Prints the figures; returns the number of writes counted."""
    counted = [r for r in records if window_start <= r[1] < window_end]
    seconds = window_end - window_start
    latencies = [r[2] * 1000 for r in counted]
    ok = [r for r in counted if r[3] == SUCCESS[r[0]]]
    refused = [r for r in counted if r[3] == 409]
    print()
    print('%ss answered: %d in %.1f s = %.1f %ss/s (%.1f/s succeeded, %.1f/s '
          '409)' % (noun, len(counted), seconds, len(counted) / seconds, noun,
                    len(ok) / seconds, len(refused) / seconds))
    print('latency: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms' % (
        deployment.percentile(latencies, 0.5), deployment.percentile(latencies, 0.95),
        deployment.percentile(latencies, 0.99), max(latencies, default=float('nan'))))
    print()
    print('%-8s %7s %8s %8s %8s %8s  %s' % (noun, 'count', 'p50 ms', 'p95 ms',
                                           'p99 ms', 'max ms', 'answers'))
    for operation in OPERATIONS:
        mine = [r for r in counted if r[0] == operation]
        if not mine:
            continue
        values = [r[2] * 1000 for r in mine]
        answers = collections.Counter(r[3] for r in mine)
        print('%-8s %7d %8.0f %8.0f %8.0f %8.0f  %s' % (
            operation, len(mine), deployment.percentile(values, 0.5),
            deployment.percentile(values, 0.95), deployment.percentile(values, 0.99),
            max(values, default=float('nan')),
            ' '.join('%s:%d' % item for item in sorted(answers.items()))))
    unexpected = collections.Counter((r[0], r[3], r[4]) for r in records
                                     if r[3] not in (SUCCESS[r[0]], 409))
    if unexpected:
        print()
        print('unexpected answers (whole run):')
        for (operation, status, text), times in unexpected.most_common(5):
            print('  %dx %s %s %s' % (times, operation, status, text))
    return len(counted)


def _weights(text):
    weights = [float(x) for x in text.split(',')]
    return (weights + [0.0])[:len(OPERATIONS)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--clients', type=int, default=50)
    parser.add_argument('--duration', type=float, default=60,
                        help='seconds of load, warm-up included')
    parser.add_argument('--warmup', type=float, default=5,
                        help='first seconds not counted')
    parser.add_argument('--hosts', type=int, default=16)
    parser.add_argument('--managers', type=int, default=2)
    parser.add_argument('--api-processes', type=int, default=2)
    parser.add_argument('--max-held', type=int, default=4,
                        help='leases a client holds at most')
    parser.add_argument('--mix', type=_weights, default=[2, 1, 1, 0],
                        help='weights of create,update,delete[,read] (default '
                             '2,1,1,0); 0,0,0,1: each client creates one lease, '
                             'then reads it, the floor of the API-RPC-manager path')
    parser.add_argument('--db', choices=['mariadb', 'postgresql'], default='mariadb')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--set', action='append', default=[], metavar='SECTION.NAME=VALUE',
                        help='a configuration option of the deployment (repeatable), '
                             'e.g. database.max_pool_size=10')
    parser.add_argument('--workdir', help='logs there (default: a temporary directory)')
    args = parser.parse_args(argv)

    started = time.monotonic()
    with deployment.running(workdir=args.workdir, hosts=args.hosts,
                            managers=args.managers, api_processes=args.api_processes,
                            backend=args.db, extra=_options(args.set)) as stack:
        deployment.enrol_hosts(stack.url, stack.admin_token(), stack.host_names())
        print('deployment: API %s (uwsgi, %d processes, noauth); %d managers over '
              'RabbitMQ; %s database %s; %d hosts enrolled; up in %.0f s; logs in %s'
              % (stack.url, args.api_processes, args.managers, args.db,
                 stack.database.name, args.hosts, time.monotonic() - started,
                 stack.workdir), flush=True)
        print('load: %d clients (a project each), %.0f s (first %.0f s not counted), '
              'create:update:delete weights %s, at most %d leases each'
              % (args.clients, args.duration, args.warmup,
                 ':'.join('%g' % w for w in args.mix), args.max_held), flush=True)
        records = []    # list.append is atomic: shared by the threads
        begin = time.monotonic()
        deadline = begin + args.duration
        tenants = [Tenant(number, stack.url, args, deadline, records,
                          args.seed * 1000 + number)
                   for number in range(1, args.clients + 1)]
        for tenant in tenants:
            tenant.start()
        time.sleep(args.warmup)
        cpu_before, client_before = stack.cpu_seconds(), _client_cpu()
        sql_before = stack.database.statement_counts()
        time.sleep(max(deadline - time.monotonic(), 0))
        cpu_after, client_after = stack.cpu_seconds(), _client_cpu()
        sql_after = stack.database.statement_counts()
        for tenant in tenants:
            tenant.join()
        end = time.monotonic()
        noun = 'request' if args.mix[3] else 'write'
        counted = report(records, begin + args.warmup, min(end, deadline), noun)
        cpu_after['bench clients'], cpu_before['bench clients'] = client_after, client_before
        report_cpu(cpu_before, cpu_after, counted, noun)
        report_statements(sql_before, sql_after, counted, noun)
        for tenant in tenants:
            tenant.clean_up()


if __name__ == '__main__':
    main()
