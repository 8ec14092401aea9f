"""Issue 17's reads on a large seeded store, server-side and over HTTP.

Seeds a fresh database (MariaDB by default, or PostgreSQL) with bulk
inserts, not through the API (``--seed`` makes it the same every time):

* 10,000 reservable hosts (one in four with a ``gpu`` capability);
* 20,000 leases of 200 projects, each with one ``physical:host``
  reservation, its host reservation row and its start and end events:
  12,000 past (TERMINATED, over the last 60 days), 5,000 live (ACTIVE:
  started up to 3 days ago, ending within 3 days) and 3,000 to come
  (PENDING, within 30 days);
* 100,000 allocations carrying their lease's window, never two on a host at
  once: the live leases hold 2 hosts each (every host is held by one live
  lease), the past and future ones 6 hosts of a group of 6 hosts, one after
  the other in time.

Then it times, ``--queries`` times each (p50 and p95 in ms), the reads of
the issue's targets:

* server-side: the manager's code path (``ManagerEndpoint``, what the RPC
  server calls: the store queries and the manager's views and answers);
* over HTTP: the real WSGI app on a loopback port, whose manager handle
  calls that endpoint in process (what the API and the store cost, not a
  message broker's polling).

The first availability, offerings or calendar answer after a change is
timed right after a lease create through the endpoint (one host, to come):
the manager's calendar catches up with the hosts the change touched
(blazar/plugins/hosts/availability.py). Last, the RSS of a fresh manager
process (``ManagerService`` built as ``blazar-manager`` builds it, its
calendar and one instance shape's calendar loaded, a page of each list
read) on that store.

    .venv/bin/python benchmarks/bench_scale.py [--db mariadb|postgresql]
        [--db-url URL] [--queries N] [--seed S] [--hosts H]
"""

import argparse
import datetime
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.dirname(__file__))

from bench_availability import finish_seed  # noqa: E402
from bench_availability import timed  # noqa: E402
from bench_leases import configure  # noqa: E402
from bench_leases import run_on_fresh_database  # noqa: E402
from bench_lists import Direct  # noqa: E402
import requests  # noqa: E402

CHUNK = 5000
PROJECTS = 200
GROUP = 6           # hosts of a past or future lease


def seed(rng, hosts, now):
    """Bulk-insert the store; returns (seconds, {counts})."""
    from blazar.db import api as db_api
    from blazar.db import models
    began = time.perf_counter()
    day = datetime.timedelta(days=1)
    rows = {name: [] for name in ('hosts', 'caps', 'leases', 'reservations',
                                  'host_reservations', 'events', 'allocations')}
    for n in range(1, hosts + 1):
        name = 'compute-%05d' % n
        rows['hosts'].append({
            'id': n, 'hypervisor_id': str(n), 'hypervisor_hostname': name,
            'service_name': name, 'hypervisor_type': 'QEMU', 'hypervisor_version': 1,
            'vcpus': rng.choice([32, 64, 128]),
            'memory_mb': rng.choice([131072, 262144, 524288]), 'local_gb': 1000,
            'cpu_info': '', 'availability_zone': 'nova', 'reservable': True,
            'created_at': now - 90 * day})
        if n % 4 == 0:
            rows['caps'].append({'computehost_id': n, 'property_id': 1,
                                 'capability_value': rng.choice(['a100', 'h100']),
                                 'created_at': now - 90 * day})
    created = [now - 61 * day]

    def lease(status, start, end, host_ids):
        created[0] += datetime.timedelta(seconds=rng.randrange(1, 300))
        lease_id, res_id = str(uuid.uuid4()), str(uuid.uuid4())
        rows['leases'].append({
            'id': lease_id, 'name': 'lease-%d' % len(rows['leases']), 'user_id': 'u',
            'project_id': 'project-%03d' % rng.randrange(PROJECTS),
            'start_date': start, 'end_date': end, 'status': status, 'degraded': False,
            'created_at': min(created[0], start)})
        reservation_status = {'TERMINATED': 'deleted', 'ACTIVE': 'active'}.get(
            status, 'pending')
        rows['reservations'].append({
            'id': res_id, 'lease_id': lease_id, 'resource_type': 'physical:host',
            'status': reservation_status, 'missing_resources': False,
            'resources_changed': False, 'created_at': start})
        rows['host_reservations'].append({
            'id': str(uuid.uuid4()), 'reservation_id': res_id,
            'min_count': len(host_ids), 'max_count': len(host_ids),
            'hypervisor_properties': '', 'resource_properties': '',
            'before_end': 'default', 'created_at': start})
        for kind, when, done in (('start_lease', start, status != 'PENDING'),
                                 ('end_lease', end, status == 'TERMINATED')):
            rows['events'].append({
                'id': str(uuid.uuid4()), 'lease_id': lease_id, 'event_type': kind,
                'time': when, 'status': 'DONE' if done else 'UNDONE', 'attempts': 0,
                'created_at': start})
        for host_id in host_ids:
            rows['allocations'].append({
                'compute_host_id': host_id, 'reservation_id': res_id,
                'start_date': start, 'end_date': end, 'created_at': start})

    def minute(t):
        return t.replace(second=0, microsecond=0)

    # Live: hosts in pairs, each pair held now.
    live_window = {}
    for first in range(1, hosts + 1, 2):
        pair = [h for h in (first, first + 1) if h <= hosts]
        start = minute(now - datetime.timedelta(minutes=rng.randrange(60, 3 * 1440)))
        end = minute(now + datetime.timedelta(minutes=rng.randrange(60, 3 * 1440)))
        for h in pair:
            live_window[h] = (start, end)
        lease('ACTIVE', start, end, pair)
    groups = [list(range(g, min(g + GROUP, hosts + 1)))
              for g in range(1, hosts + 1, GROUP)]
    live = len(rows['leases'])
    # Past: one after the other before the group's first live start;
    # future: after its last live end.
    past_each, future_each = divmod(12000, len(groups)), divmod(3000, len(groups))
    for index, group in enumerate(groups):
        earliest = min(live_window[h][0] for h in group)
        latest = max(live_window[h][1] for h in group)
        count = past_each[0] + (1 if index < past_each[1] else 0)
        t = earliest
        for _ in range(count):
            length = datetime.timedelta(minutes=rng.randrange(60, 4 * 1440))
            gap = datetime.timedelta(minutes=rng.randrange(0, 1440))
            t = minute(t - gap - length)
            lease('TERMINATED', t, t + length, group)
        count = future_each[0] + (1 if index < future_each[1] else 0)
        t = latest
        for _ in range(count):
            length = datetime.timedelta(minutes=rng.randrange(60, 4 * 1440))
            t = minute(t + datetime.timedelta(minutes=rng.randrange(0, 3 * 1440)))
            lease('PENDING', t, t + length, group)
            t += length
    engine = db_api.get_engine()
    with engine.begin() as conn:
        conn.execute(models.ResourceProperty.__table__.insert(), [{
            'id': 1, 'resource_type': 'physical:host', 'property_name': 'gpu',
            'private': False, 'created_at': now}])
        for model, key in ((models.ComputeHost, 'hosts'),
                           (models.HostCapability, 'caps'),
                           (models.Lease, 'leases'),
                           (models.Reservation, 'reservations'),
                           (models.HostReservation, 'host_reservations'),
                           (models.Event, 'events'),
                           (models.HostAllocation, 'allocations')):
            for i in range(0, len(rows[key]), CHUNK):
                conn.execute(model.__table__.insert(), rows[key][i:i + CHUNK])
    finish_seed(engine, hosts, ('computehosts', 'computehost_allocations', 'leases',
                                'reservations', 'events', 'computehost_reservations',
                                'usage_spans'))
    counts = {key: len(value) for key, value in rows.items()}
    counts['live'] = live
    return time.perf_counter() - began, counts


def fmt(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--db', choices=('mariadb', 'postgresql'), default='mariadb')
    ap.add_argument('--db-url', help='server URL without database name')
    ap.add_argument('--hosts', type=int, default=10_000)
    ap.add_argument('--queries', type=int, default=30)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--rss-only', help=argparse.SUPPRESS)   # the child process
    args = ap.parse_args()
    if args.rss_only:
        return rss_child(args.rss_only)
    return run_on_fresh_database(args, run)


def rss_kib():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def rss_child(url):
    """A manager as blazar-manager builds it, its calendars loaded: RSS."""
    from oslo_config import cfg

    from blazar import conf as _registers  # noqa: F401
    from blazar import context
    from blazar.db import api as db_api
    from blazar.manager import service as manager_service
    conf = cfg.CONF
    conf([], project='blazar', default_config_files=[])
    conf.set_override('auth_strategy', 'noauth')
    conf.set_override('transport_url', 'fake:/')
    conf.set_override('connection', url, group='database')
    db_api.reset_facade()
    before = rss_kib()
    manager = manager_service.ManagerService()
    endpoint = manager_service.ManagerEndpoint(manager.leases, manager.plugins,
                                               manager.healer)
    ctx = context.get_admin_context()
    built = rss_kib()
    endpoint.get_availability(ctx, 'physical:host', 'now', fmt(
        datetime.datetime.utcnow() + datetime.timedelta(hours=8)))
    endpoint.get_availability(ctx, 'virtual:instance', 'now', fmt(
        datetime.datetime.utcnow() + datetime.timedelta(hours=8)),
        {'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 10})
    endpoint.list_leases(ctx, filters={}, page={'limit': 101})
    endpoint.list_hosts(ctx, filters={}, page={'limit': 1001})
    endpoint.get_usage(ctx)
    print('%d %d %d' % (before, built, rss_kib()))
    return 0


def run(args, rng, database):
    configure(database, 'fake:/')
    from blazar import context
    from blazar import plugins as plugin_loader
    from blazar.api import app as api_app
    from blazar.api import controllers
    from blazar.db import api as db_api
    from blazar.manager import leases as lease_manager
    from blazar.manager import service as manager_service
    from blazar.utils import wsgi

    now = datetime.datetime.utcnow().replace(second=0, microsecond=0)
    seconds, counts = seed(rng, args.hosts, now)
    print('database: %s' % database.shown)
    print('store: %(hosts)d hosts, %(leases)d leases (%(live)d live), '
          '%(allocations)d allocations, %(events)d events' % counts
          + ' (inserted in %.1f s)' % seconds)
    ctx = context.get_admin_context()
    plugins = plugin_loader.load(['physical.host.plugin', 'virtual.instance.plugin'])
    endpoint = manager_service.ManagerEndpoint(lease_manager.LeaseService(plugins),
                                               plugins)
    everything = db_api.lease_list(ctx, page={'sort_key': 'created_at', 'limit': None})
    middle = everything[len(everything) // 2]['id']
    near_end = everything[-150]['id']
    del everything
    hosts_middle = str(args.hosts // 2)
    starts = [now + datetime.timedelta(minutes=rng.randrange(2, 3 * 1440))
              for _ in range(args.queries + 1)]
    month = datetime.timedelta(days=30)
    made = []

    def page(limit, **extra):
        return dict({'limit': limit + 1, 'marker': None, 'sort_key': None,
                     'sort_dir': None}, **extra)

    def change():
        """A lease create through the endpoint: one host, 40 days ahead."""
        start = now + datetime.timedelta(days=40, minutes=len(made) * 10)
        lease = endpoint.create_lease(ctx, {
            'name': 'change', 'start_date': fmt(start),
            'end_date': fmt(start + datetime.timedelta(minutes=5)),
            'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                              'hypervisor_properties': '',
                              'resource_properties': ''}]})
        made.append(lease['id'])

    def after_change(ask):
        times = []
        for i in range(args.queries):
            change()
            began = time.perf_counter()
            ask(i)
            times.append((time.perf_counter() - began) * 1000)
        return times

    def how_many(i):
        return endpoint.get_availability(ctx, 'physical:host', fmt(starts[i]),
                                         fmt(starts[i] + datetime.timedelta(hours=8)))

    def offerings(i):
        return endpoint.list_offerings(ctx, 'physical:host', 100, '8h', fmt(starts[i]),
                                       fmt(starts[i] + month), 5)

    def calendar(i):
        return endpoint.get_calendar(ctx, 'physical:host', fmt(starts[i]),
                                     fmt(starts[i] + datetime.timedelta(days=7)))

    def usage(i):
        return endpoint.get_usage(ctx, fmt(now - month), fmt(now))

    server_side = [
        ('GET /v1/leases?limit=100, first page',
         lambda i: endpoint.list_leases(ctx, filters={}, page=page(100))),
        ('GET /v1/leases?limit=100, half-way (marker)',
         lambda i: endpoint.list_leases(ctx, filters={}, page=page(100, marker=middle))),
        ('GET /v1/leases?limit=100, last page (marker)',
         lambda i: endpoint.list_leases(ctx, filters={},
                                        page=page(100, marker=near_end))),
        ('host list, 1000 hosts',
         lambda i: endpoint.list_hosts(ctx, filters={}, page=page(1000))),
        ('allocations, a page of 100 hosts (marker)',
         lambda i: endpoint.list_host_allocations(
             ctx, window={}, page=page(100, marker=hosts_middle))),
        ('usage, all projects, 30 days', usage),
        ('offerings 100 hosts x 8h, 30-day frame', offerings),
        ('how many (8h), unchanged calendar', how_many),
        ('calendar profile 7 days, unchanged', calendar),
    ]
    began = time.perf_counter()
    scan = db_api.usage_totals_scan(ctx, now - month, now)
    scanned = (time.perf_counter() - began) * 1000
    assert db_api.usage_totals(ctx, now - month, now) == scan
    print('usage: %d projects, the same as the allocation scan (which takes %.0f ms)'
          % (len(scan), scanned))
    print('server-side: the manager endpoint in process (%d queries each)'
          % args.queries)
    print('%-54s %9s %9s' % ('read', 'p50 ms', 'p95 ms'))
    results = {}
    began = time.perf_counter()
    offerings(args.queries)
    print('%-54s %9.0f %9s' % ('(first question: the calendar loaded in full)',
                               (time.perf_counter() - began) * 1000, ''))
    for name, fn in server_side:
        fn(0)
        p50, p95, _ = timed(fn, args.queries)
        results[name] = (p50, p95)
        print('%-54s %9.1f %9.1f' % (name, p50, p95))
    for name, fn in (('first how many after a change', how_many),
                     ('first offerings after a change', offerings),
                     ('first calendar profile after a change', calendar)):
        times = sorted(after_change(fn))
        p50, p95 = times[len(times) // 2], times[min(len(times) - 1,
                                                     round(0.95 * (len(times) - 1)))]
        results[name] = (p50, p95)
        print('%-54s %9.1f %9.1f' % (name, p50, p95))
    provider = endpoint.availability.provider('physical:host')
    print('    (full loads %d, deltas %d)' % (provider.loads, provider.deltas))

    controllers._manager = Direct(endpoint)
    api = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0, name='bench-api').start()
    session = requests.Session()
    session.headers.update({'X-Auth-Token': 'admin:admin',
                            'Accept': 'application/json'})

    def get(path, **params):
        resp = session.get(api.url + path, params=params, timeout=300)
        assert resp.status_code == 200, resp.text[:300]
        return resp

    def avail(i):
        return get('/v1/availability', start_date=fmt(starts[i]),
                   end_date=fmt(starts[i] + datetime.timedelta(hours=8)))

    def offers(i):
        return get('/v1/offerings', count=100, duration='8h',
                   earliest_start=fmt(starts[i]),
                   latest_end=fmt(starts[i] + month), limit=5)

    def cal(i):
        # The free-host profile (an administrator gets every host's busy
        # intervals unless hosts=false; a page of them with limit).
        return get('/v1/calendar', start_date=fmt(starts[i]), hosts='false',
                   end_date=fmt(starts[i] + datetime.timedelta(days=7)))

    def cal_hosts(i):
        return get('/v1/calendar', start_date=fmt(starts[i]), hosts='true', limit=100,
                   end_date=fmt(starts[i] + datetime.timedelta(days=7)))

    paths = [
        ('GET /v1/leases?limit=100', lambda i: get('/v1/leases', limit=100)),
        ('GET /v1/leases?limit=100&marker=<half-way>',
         lambda i: get('/v1/leases', limit=100, marker=middle)),
        ('GET /v1/os-hosts?limit=1000', lambda i: get('/v1/os-hosts', limit=1000)),
        ('GET /v1/os-hosts/allocations?limit=100&marker',
         lambda i: get('/v1/os-hosts/allocations', limit=100, marker=hosts_middle)),
        ('GET /v1/usage (all projects, 30 days)',
         lambda i: get('/v1/usage', start_date=fmt(now - month), end_date=fmt(now))),
        ('GET /v1/offerings (100 hosts x 8h, 30 days)', offers),
    ]
    try:
        print('over HTTP (WSGI app on loopback, manager endpoint in process):')
        print('%-54s %9s %9s' % ('request', 'p50 ms', 'p95 ms'))
        for name, fn in paths:
            fn(0)
            p50, p95, _ = timed(fn, args.queries)
            print('%-54s %9.1f %9.1f' % (name, p50, p95))
        for name, fn in (('GET /v1/availability, first after a change', avail),
                         ('GET /v1/offerings, first after a change', offers),
                         ('GET /v1/calendar?hosts=false, first after a change', cal),
                         ('GET /v1/calendar?hosts=true&limit=100, after a change',
                          cal_hosts)):
            times = sorted(after_change(fn))
            p50, p95 = times[len(times) // 2], times[min(len(times) - 1,
                                                         round(0.95 * (len(times) - 1)))]
            print('%-54s %9.1f %9.1f' % (name, p50, p95))
    finally:
        api.stop()
        controllers.reset_manager()

    out = subprocess.run([sys.executable, __file__, '--rss-only', database.url],
                         capture_output=True, text=True, check=False)
    try:
        before, built, loaded = (int(v) for v in out.stdout.split()[-3:])
        print('manager RSS: %.0f MB loaded (%.0f MB after imports, %.0f MB built)'
              % (loaded / 1024, before / 1024, built / 1024))
    except ValueError:
        print('manager RSS: not measured: %s' % out.stderr[-2000:])
    return 0


if __name__ == '__main__':
    sys.exit(main())
