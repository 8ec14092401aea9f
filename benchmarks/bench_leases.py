"""Latency of the HTTP API under load, on a real database.

Starts the whole service in this process -- API on a loopback port, the
manager with in-process RPC (``fake:/``), no Keystone (``noauth``) -- on a
fresh database (MariaDB by default, created as ``blazar_bench_<random>``
and dropped at the end; or PostgreSQL, or a temporary SQLite file), with a
simulated Nova of H hypervisors.  Then, over HTTP as the admin:

1. enrols the H hypervisors (``POST /v1/os-hosts``);
2. creates L leases (``POST /v1/leases``), each holding one
   ``physical:host`` reservation of 1..4 hosts (``--kind instance``: an instance
   reservation of 4..16 instances of 2 vCPUs) over a random window of the
   next 30 days (start at least 5 minutes ahead, 1 h to 3 days long), so
   windows overlap and some creations are refused (409, not enough hosts);
3. times ``GET /v1/os-hosts``, ``GET /v1/leases`` and
   ``GET /v1/os-hosts/allocations`` (20 times each by default).

For each operation it prints the count, p50/p95/max latency in ms, the
throughput and the answers (201/409/other).  Unexpected answers are shown
and make the exit status 1; enrolment or reads answering anything but
success abort the run.

    .venv/bin/python benchmarks/bench_leases.py [--hosts H] [--leases L]
        [--db mariadb|postgresql|sqlite] [--db-url URL] [--seed S]
        [--concurrency N] [--reads R] [--transport URL]
"""

import argparse
import collections
import concurrent.futures
import datetime
import logging
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

SERVER_URLS = {
    'mariadb': os.environ.get('BLAZAR_TEST_MARIADB',
                              'mysql+pymysql://root@127.0.0.1:3306'),
    'postgresql': os.environ.get('BLAZAR_TEST_POSTGRESQL',
                                 'postgresql+psycopg2://postgres@127.0.0.1:5432'),
}
TOKEN = 'admin:admin'
HORIZON = datetime.timedelta(days=30)
MIN_LEAD = datetime.timedelta(minutes=5)
MIN_LENGTH = 60                 # minutes
MAX_LENGTH = 3 * 24 * 60        # minutes
MAX_HOSTS_PER_LEASE = 4
FAKE_NOTE = (' (in process; its server polls every 50 ms, so each call '
             'reaching the manager waits up to 50 ms)')
PROGRESS_FROM = 200             # phases this long report progress (stderr)
SAMPLES_SHOWN = 5               # distinct unexpected answers printed


class BenchError(Exception):
    """The run cannot go on (the message says why)."""


# --- the database ------------------------------------------------------------
def run_on_fresh_database(args, run):
    """``run(args, rng, database)`` on a fresh database of ``args.db``
    (``args.db_url``'s server), dropped afterwards; 2 if the server cannot
    make one (the message says why)."""
    rng = random.Random(args.seed)
    try:
        database = Database(args.db, args.db_url)
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return run(args, rng, database)
    finally:
        from blazar.db import api as db_api
        db_api.reset_facade()
        database.drop()


class Database:
    """A fresh database on one backend, dropped by ``drop``."""

    def __init__(self, backend, server_url=None):
        self.backend = backend
        self._admin = None
        self._tmpdir = None
        if backend == 'sqlite':
            self._tmpdir = tempfile.mkdtemp(prefix='blazar_bench_')
            self.url = 'sqlite:///%s' % os.path.join(self._tmpdir,
                                                     'blazar.sqlite')
            self.shown = self.url
            return
        base = (server_url or SERVER_URLS[backend]).rstrip('/')
        self.name = 'blazar_bench_%s' % uuid.uuid4().hex[:10]
        admin_db = '' if backend == 'mariadb' else '/postgres'
        self._admin = sa.create_engine(base + admin_db,
                                       isolation_level='AUTOCOMMIT')
        try:
            with self._admin.connect() as conn:
                conn.execute(sa.text('CREATE DATABASE %s' % self.name))
        except sa.exc.SQLAlchemyError as exc:
            self._admin.dispose()
            self._admin = None
            raise BenchError('cannot create a database on %s (%s): %s\n'
                             'Start the server, or pass --db-url / --db '
                             'sqlite.' % (base, backend,
                                          str(exc).splitlines()[0]))
        suffix = '?charset=utf8mb4' if backend == 'mariadb' else ''
        self.url = '%s/%s%s' % (base, self.name, suffix)
        self.shown = self.url

    def statement_counts(self):
        """The server's statement counters (MariaDB: its global status;
        PostgreSQL: transactions of this database), for deltas over a run."""
        if self._admin is None:
            return {}
        with self._admin.connect() as conn:
            if self.backend == 'mariadb':
                rows = conn.execute(sa.text(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', "
                    "'Com_select', 'Com_insert', 'Com_update', 'Com_delete', "
                    "'Com_commit', 'Com_rollback')")).all()
                return {name.lower(): int(value) for name, value in rows}
            row = conn.execute(sa.text(
                'SELECT xact_commit, xact_rollback, tup_returned, tup_inserted, '
                'tup_updated, tup_deleted FROM pg_stat_database WHERE datname = :name'),
                {'name': self.name}).one()
            return dict(row._mapping)

    def drop(self):
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            if self.backend == 'postgresql':
                conn.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = :n AND pid <> pg_backend_pid()'),
                    {'n': self.name})
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % self.name))
        self._admin.dispose()
        self._admin = None


# --- the service -------------------------------------------------------------
def configure(database, transport):
    """Options for a service in this process on ``database``, schema at head."""
    from oslo_config import cfg

    from blazar import conf as _registers_options  # noqa: F401
    from blazar.db import api as db_api
    from blazar.db import migration
    conf = cfg.CONF
    conf([], project='blazar', default_config_files=[])
    conf.set_override('auth_strategy', 'noauth')
    conf.set_override('transport_url', transport)
    if not transport.startswith('fake:'):
        # A broker is shared: keep other managers off our calls.
        conf.set_override('rpc_topic', 'blazar.manager.bench-%s'
                          % uuid.uuid4().hex[:8], group='manager')
    conf.set_override('connection', database.url, group='database')
    db_api.reset_facade()
    migration.upgrade('head')
    return conf


class Service:
    """Simulator, manager and API in this process, on ``database``."""

    def __init__(self):
        self._parts = []            # (name, stop callable), stopped reversed
        self.simulator = self.url = None

    def start(self, database, hosts, transport='fake:/'):
        from blazar.api import app as api_app
        from blazar.db import api as db_api
        from blazar.manager import service as manager_service
        from blazar.simulator import server as sim_server
        from blazar.simulator import state as sim_state
        from blazar.simulator import testing as sim_testing
        from blazar.utils import wsgi

        configure(database, transport)
        self._parts.append(('database engine', db_api.reset_facade))

        self.simulator = sim_server.start_simulator(
            sim_state.Cloud(hosts=hosts))
        self._parts.append(('simulator', self.simulator.stop))
        self._parts.append(('nova settings', sim_testing.point_nova_at(
            self.simulator.compute_url)))
        self._parts.append(('placement settings', sim_testing.point_placement_at(
            self.simulator.placement_url)))

        manager = manager_service.ManagerService()
        manager.start()
        self._parts.append(('manager', manager.stop))

        api = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0,
                          name='bench-api').start()
        self._parts.append(('API server', api.stop))
        self.url = api.url + '/v1'
        return self

    def stop(self):
        from blazar import rpc
        from blazar.api import controllers
        for name, stop in reversed(self._parts):
            try:
                stop()
                if name == 'manager':
                    controllers.reset_manager()
                    rpc.cleanup()
            except Exception as exc:     # keep stopping the others
                print('warning: stopping the %s failed: %s' % (name, exc),
                      file=sys.stderr)
        self._parts = []


# --- the client --------------------------------------------------------------
class Client:
    """One ``requests`` session per thread, timing every call."""

    def __init__(self, url):
        self.url = url
        self._local = threading.local()

    def _session(self):
        session = getattr(self._local, 'session', None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update({'X-Auth-Token': TOKEN,
                                    'Accept': 'application/json'})
        return session

    def call(self, method, path, body=None):
        """(status or None, JSON body or text, seconds)."""
        began = time.perf_counter()
        try:
            resp = self._session().request(method, self.url + path,
                                           json=body, timeout=300)
        except requests.RequestException as exc:
            return None, '%s: %s' % (type(exc).__name__, exc), \
                time.perf_counter() - began
        elapsed = time.perf_counter() - began
        try:
            payload = resp.json()
        except ValueError:
            payload = resp.text
        return resp.status_code, payload, elapsed


def describe(status, payload):
    """One line for an answer: the status and the API's error message."""
    if isinstance(payload, dict):
        error = payload.get('error_message') or payload
    else:
        error = payload
    text = ' '.join(str(error).split())
    if len(text) > 300:
        text = text[:297] + '...'
    return '%s %s' % (status if status is not None else 'no answer', text)


class Phase:
    """Latencies and answers of one operation."""

    def __init__(self, name):
        self.name = name
        self.seconds = []
        self.statuses = collections.Counter()
        self.unexpected = collections.Counter()   # describe() -> count
        self.wall = 0.0
        self.note = None

    def add(self, status, payload, seconds, expected):
        self.seconds.append(seconds)
        self.statuses[status] += 1
        if status not in expected:
            self.unexpected[describe(status, payload)] += 1

    @property
    def other(self):
        return sum(self.unexpected.values())


def run(phase, calls, concurrency, expected, max_unexpected=None):
    """Run ``calls`` (callables returning Client.call's triple)."""
    began = time.perf_counter()
    stop = threading.Event()
    total = len(calls)
    step = total // 10 if total >= PROGRESS_FROM else 0

    def one(call):
        if stop.is_set():
            return
        status, payload, seconds = call()
        with lock:
            phase.add(status, payload, seconds, expected)
            done = len(phase.seconds)
            if step and done % step == 0 and done < total:
                print('  %s: %d/%d after %.0f s' % (
                    phase.name, done, total, time.perf_counter() - began),
                    file=sys.stderr, flush=True)
            if max_unexpected is not None and phase.other >= max_unexpected:
                stop.set()

    lock = threading.Lock()
    if concurrency <= 1:
        for call in calls:
            one(call)
            if stop.is_set():
                break
    else:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(one, call) for call in calls]:
                future.result()
    phase.wall = time.perf_counter() - began
    return not stop.is_set()


# --- figures -----------------------------------------------------------------
def percentile(sorted_values, fraction):
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


HEADER = ('%-28s %6s %9s %9s %9s %8s %6s %6s %6s'
          % ('operation', 'count', 'p50 ms', 'p95 ms', 'max ms', 'req/s',
             '2xx', '409', 'other'))


def row(phase):
    times = sorted(s * 1000 for s in phase.seconds)
    ok = sum(n for status, n in phase.statuses.items()
             if status is not None and 200 <= status < 300)
    if not times:
        return '%-28s %6d %9s %9s %9s %8s %6d %6d %6d' % (
            phase.name, 0, '-', '-', '-', '-', 0, 0, 0)
    rate = len(times) / phase.wall if phase.wall else float('inf')
    return '%-28s %6d %9.1f %9.1f %9.1f %8.1f %6d %6d %6d' % (
        phase.name, len(times), percentile(times, 0.50),
        percentile(times, 0.95), times[-1], rate, ok,
        phase.statuses.get(409, 0), phase.other)


def show_unexpected(phase, out=sys.stderr):
    for text, count in phase.unexpected.most_common(SAMPLES_SHOWN):
        print('  %s: %dx %s' % (phase.name, count, text), file=out)
    if len(phase.unexpected) > SAMPLES_SHOWN:
        print('  %s: ... and %d other answers' % (
            phase.name, len(phase.unexpected) - SAMPLES_SHOWN), file=out)
    if phase.note:
        print('  %s: %s' % (phase.name, phase.note), file=out)


# --- the workload ------------------------------------------------------------
def lease_plans(rng, count):
    """(offset from 'now' at creation, length, hosts) of each lease, minutes."""
    plans = []
    horizon = int(HORIZON.total_seconds() // 60)
    lead = int(MIN_LEAD.total_seconds() // 60)
    for _ in range(count):
        length = rng.randint(MIN_LENGTH, MAX_LENGTH)
        offset = rng.randint(lead, horizon - length)
        plans.append((offset, length, rng.randint(1, MAX_HOSTS_PER_LEASE)))
    return plans


def reservation_body(kind, hosts):
    """A host reservation of ``hosts`` hosts, or an instance reservation of
    ``hosts`` x 4 instances of 2 vCPUs / 4 GiB / 20 GB (packed)."""
    if kind == 'instance':
        return {'resource_type': 'virtual:instance', 'vcpus': 2, 'memory_mb': 4096,
                'disk_gb': 20, 'amount': 4 * hosts, 'affinity': None,
                'resource_properties': ''}
    return {'resource_type': 'physical:host', 'min': hosts, 'max': hosts,
            'hypervisor_properties': '', 'resource_properties': ''}


def lease_body(number, plan, kind='host'):
    offset, length, hosts = plan
    # Whole minutes, rounded up so the start stays >= MIN_LEAD ahead.
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, second=0, microsecond=0) + datetime.timedelta(minutes=1)
    start = now + datetime.timedelta(minutes=offset)
    end = start + datetime.timedelta(minutes=length)
    return {
        'name': 'bench-%d' % number,
        'start_date': start.strftime('%Y-%m-%d %H:%M'),
        'end_date': end.strftime('%Y-%m-%d %H:%M'),
        'reservations': [reservation_body(kind, hosts)],
    }


def listed(client, path, key):
    """The list under ``key`` of GET ``path``, or BenchError."""
    status, payload, _seconds = client.call('GET', path)
    if status != 200 or not isinstance(payload, dict) \
            or not isinstance(payload.get(key), list):
        raise BenchError('GET %s answered %s' % (path,
                                                 describe(status, payload)))
    return payload[key]


def bench(args, client, service):
    phases = []
    failed = False
    rng = random.Random(args.seed)

    enrol = Phase('POST /os-hosts')
    phases.append(enrol)
    hypervisors = [h['hypervisor_hostname']
                   for h in service.simulator.cloud.list_hypervisors()]
    run(enrol, [lambda name=name: client.call('POST', '/os-hosts',
                                              {'name': name})
                for name in hypervisors],
        args.concurrency, expected={201}, max_unexpected=args.max_errors)
    if enrol.other:
        show_unexpected(enrol)
        raise BenchError('host enrolment failed (%d unexpected answers)'
                         % enrol.other)
    enrolled = len(listed(client, '/os-hosts', 'hosts'))
    if enrolled != len(hypervisors):
        raise BenchError('%d hosts enrolled but GET /os-hosts lists %d'
                         % (len(hypervisors), enrolled))

    create = Phase('POST /leases')
    phases.append(create)
    plans = lease_plans(rng, args.leases)
    complete = run(create, [lambda n=n, plan=plan: client.call(
        'POST', '/leases', lease_body(n, plan, args.kind))
        for n, plan in enumerate(plans, 1)],
        args.concurrency, expected={201, 409},
        max_unexpected=args.max_errors)
    if create.other:
        failed = True
        if not complete:
            create.note = ('stopped after %d unexpected answers '
                           '(--max-errors)' % create.other)

    leases = listed(client, '/leases', 'leases')
    if len(leases) != create.statuses.get(201, 0):
        failed = True
        print('warning: %d leases created but GET /leases lists %d'
              % (create.statuses.get(201, 0), len(leases)), file=sys.stderr)
    allocations = listed(client, '/os-hosts/allocations', 'allocations')
    reserved = sum(len(a.get('reservations', []))
                   for a in allocations if isinstance(a, dict))

    for path in ('/os-hosts', '/leases', '/os-hosts/allocations'):
        phase = Phase('GET ' + path)
        phases.append(phase)
        run(phase, [lambda path=path: client.call('GET', path)] * args.reads,
            args.concurrency, expected={200})
        if phase.other:
            show_unexpected(phase)
            raise BenchError('GET %s failed' % path)
    return phases, failed, (len(leases), len(allocations), reserved)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--hosts', type=int, default=1000,
                        help='simulated hypervisors, all enrolled')
    parser.add_argument('--leases', type=int, default=2000,
                        help='leases to create')
    parser.add_argument('--db', choices=['mariadb', 'postgresql', 'sqlite'],
                        default='mariadb', help='database backend')
    parser.add_argument('--db-url', default=None,
                        help='server URL without database name (default: '
                             '$BLAZAR_TEST_MARIADB / $BLAZAR_TEST_POSTGRESQL '
                             'or the loopback server)')
    parser.add_argument('--kind', choices=['host', 'instance'], default='host',
                        help='host reservations of 1..4 hosts, or instance '
                             'reservations of 4..16 instances of 2 vCPUs')
    parser.add_argument('--seed', type=int, default=1,
                        help='random seed of the lease windows and sizes')
    parser.add_argument('--concurrency', type=int, default=1,
                        help='client threads')
    parser.add_argument('--reads', type=int, default=20,
                        help='timed calls of each GET')
    parser.add_argument('--max-errors', type=int, default=20,
                        help='stop creating leases after this many '
                             'unexpected answers')
    parser.add_argument('--transport', default='fake:/',
                        help='RPC transport URL between API and manager, '
                             'e.g. rabbit://guest:guest@127.0.0.1:5672/ '
                             '(fake:/ polls every 50 ms: a floor on the '
                             'latency of every call reaching the manager)')
    parser.add_argument('--verbose', action='store_true',
                        help='show the service log (warnings otherwise)')
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.leases < 0 or args.concurrency < 1 \
            or args.reads < 1 or args.max_errors < 1:
        parser.error('--hosts, --concurrency, --reads and --max-errors must '
                     'be >= 1, --leases >= 0')

    sys.stdout.reconfigure(line_buffering=True)   # in order with stderr
    logging.basicConfig(level=logging.DEBUG if args.verbose
                        else logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    if not args.verbose:
        # Known and harmless here: the noauth warning, AMQP channel closing.
        for name in ('blazar.api.middleware.auth', 'amqp'):
            logging.getLogger(name).setLevel(logging.ERROR)
    database = service = None
    try:
        database = Database(args.db, args.db_url)
        print('database:    %s (%s)' % (database.shown, args.db))
        began = time.perf_counter()
        service = Service()
        service.start(database, args.hosts, args.transport)
        print('service:     %s (started in %.1f s; simulator %s, %d '
              'hypervisors)' % (service.url, time.perf_counter() - began,
                                service.simulator.compute_url, args.hosts))
        print('RPC:         %s%s' % (args.transport, FAKE_NOTE
                                       if args.transport.startswith('fake:')
                                       else ''))
        print('workload:    %d leases of 1..%d hosts, seed %d, %d client '
              'thread(s), %d reads per GET'
              % (args.leases, MAX_HOSTS_PER_LEASE, args.seed,
                 args.concurrency, args.reads))
        client = Client(service.url)
        phases, failed, (leases, allocs, reserved) = bench(args, client,
                                                           service)
    except BenchError as exc:
        sys.stdout.flush()
        print('error: %s' % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    finally:
        if service is not None:
            service.stop()
        if database is not None:
            database.drop()
    print()
    print(HEADER)
    for phase in phases:
        print(row(phase))
    if any(phase.other for phase in phases):
        print()
        print('unexpected answers (status, message):')
        for phase in phases:
            show_unexpected(phase, out=sys.stdout)
    print()
    print('GET /leases lists %d leases; GET /os-hosts/allocations lists %d '
          'hosts holding %d reservations in all' % (leases, allocs, reserved))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
