"""Pages of the lists on a large store, on a real database.

Fills a fresh database (MariaDB by default; PostgreSQL or SQLite on
request) as bench_availability.py does (H hosts, A allocations, one lease
and reservation per allocation, so A leases), adds P preemption records,
then times pages of the lists (blazar/api/paging.py):

* through the manager's code path (``ManagerEndpoint``, what the RPC
  server calls: the store queries and the manager's views);
* over HTTP: the real WSGI app on a loopback port, the API calling the
  same endpoint in process instead of over RPC (so the figures are the
  API's and the store's, not a message broker's polling).

Pages: the first and a deep page (marker half-way) of ``GET /v1/leases
?limit=100``, a project's leases, 100 and 1000 hosts, a filtered host
page, 100 hosts' allocations, 100 preemptions, and the calendar's first
100 hosts (hosts=true).

    .venv/bin/python benchmarks/bench_lists.py [--hosts H]
        [--allocations A] [--preemptions P] [--db mariadb|postgresql|sqlite]
        [--db-url URL] [--queries N] [--seed S]
"""

import argparse
import datetime
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.dirname(__file__))

from bench_availability import fill  # noqa: E402
from bench_availability import timed  # noqa: E402
from bench_leases import configure  # noqa: E402
from bench_leases import run_on_fresh_database  # noqa: E402
import requests  # noqa: E402

CHUNK = 5000


def fill_preemptions(rng, count, now):
    from blazar.db import api as db_api
    from blazar.db import models
    rows = [{'lease_id': str(uuid.uuid4()), 'reservation_id': str(uuid.uuid4()),
             'server_id': str(uuid.uuid4()), 'server_name': 'spot-%d' % n,
             'project_id': 'project-%03d' % rng.randrange(200), 'user_id': 'u',
             'host': 'compute-%05d' % rng.randrange(1, 1000), 'action': 'delete',
             'status': 'reclaimed', 'noticed_at': now, 'reclaimed_at': now,
             'created_at': now - datetime.timedelta(minutes=rng.randrange(0, 10 ** 5))}
            for n in range(count)]
    with db_api.get_engine().begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(models.Preemption.__table__.insert(), rows[i:i + CHUNK])


class Direct:
    """The API's manager handle calling the endpoint in process (no RPC)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return lambda context, **kwargs: getattr(self.endpoint, name)(context, **kwargs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--hosts', type=int, default=10_000)
    ap.add_argument('--allocations', type=int, default=100_000)
    ap.add_argument('--preemptions', type=int, default=20_000)
    ap.add_argument('--db', choices=('mariadb', 'postgresql', 'sqlite'),
                    default='mariadb')
    ap.add_argument('--db-url', help='server URL without database name')
    ap.add_argument('--queries', type=int, default=30)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    return run_on_fresh_database(args, run)


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
    seconds, count = fill(rng, args.hosts, args.allocations, now)
    fill_preemptions(rng, args.preemptions, now)
    print('database: %s' % database.shown)
    print('store: %d hosts, %d allocations, %d leases, %d preemptions '
          '(inserted in %.1f s)' % (args.hosts, count, count, args.preemptions,
                                    seconds))
    ctx = context.get_admin_context()
    plugins = plugin_loader.load(['physical.host.plugin'])
    endpoint = manager_service.ManagerEndpoint(lease_manager.LeaseService(plugins),
                                               plugins)
    everything = db_api.lease_list(ctx, page={'sort_key': 'created_at', 'limit': None})
    middle = everything[len(everything) // 2]['id']
    del everything
    hosts_middle = str(args.hosts // 2)

    def page(limit, **extra):
        return dict({'limit': limit + 1, 'marker': None, 'sort_key': None,
                     'sort_dir': None}, **extra)

    server_side = [
        ('leases, first page of 100',
         lambda i: endpoint.list_leases(ctx, filters={}, page=page(100))),
        ('leases, page of 100 half-way (marker)',
         lambda i: endpoint.list_leases(ctx, filters={}, page=page(100, marker=middle))),
        ("leases of a project, first 100",
         lambda i: endpoint.list_leases(ctx, project_id='project-%03d' % (i % 200),
                                        filters={}, page=page(100))),
        ('leases ending after now, by end_date, 100',
         lambda i: endpoint.list_leases(
             ctx, filters={'end_after': 'now'}, page=page(100, sort_key='end_date'))),
        ('hosts, page of 100',
         lambda i: endpoint.list_hosts(ctx, filters={}, page=page(100))),
        ('hosts, page of 1000',
         lambda i: endpoint.list_hosts(ctx, filters={}, page=page(1000))),
        ('hosts, gpu=a100 reservable, 100',
         lambda i: endpoint.list_hosts(ctx, filters={'capability': ['gpu', 'a100'],
                                                    'reservable': True},
                                       page=page(100))),
        ('allocations, 100 hosts half-way',
         lambda i: endpoint.list_host_allocations(
             ctx, window={}, page=page(100, marker=hosts_middle))),
        ('preemptions, page of 100',
         lambda i: endpoint.list_preemptions(ctx, page=page(100))),
    ]
    print('manager code path, no RPC (%d queries each):' % args.queries)
    print('%-46s %9s %9s' % ('page', 'p50 ms', 'p95 ms'))
    for name, fn in server_side:
        fn(0)
        p50, p95, result = timed(fn, args.queries)
        print('%-46s %9.1f %9.1f   (%d items)' % (name, p50, p95, len(result)))

    controllers._manager = Direct(endpoint)
    api = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0, name='bench-api').start()
    session = requests.Session()
    session.headers.update({'X-Auth-Token': 'admin:admin',
                            'Accept': 'application/json'})
    paths = [
        ('GET /v1/leases?limit=100', '/v1/leases?limit=100'),
        ('GET /v1/leases?limit=100&marker=<half-way>',
         '/v1/leases?limit=100&marker=%s' % middle),
        ('GET /v1/leases?limit=100&project_id=...',
         '/v1/leases?limit=100&project_id=project-007'),
        ('GET /v1/os-hosts?limit=100', '/v1/os-hosts?limit=100'),
        ('GET /v1/os-hosts?limit=1000', '/v1/os-hosts?limit=1000'),
        ('GET /v1/os-hosts/allocations?limit=100&marker',
         '/v1/os-hosts/allocations?limit=100&marker=%s' % hosts_middle),
        ('GET /v1/preemptions?limit=100', '/v1/preemptions?limit=100'),
        ('GET /v1/calendar?hosts=true&limit=100', '/v1/calendar?hosts=true&limit=100'),
    ]
    try:
        print('over HTTP (WSGI app on loopback, manager endpoint in process):')
        print('%-46s %9s %9s' % ('request', 'p50 ms', 'p95 ms'))
        for name, path in paths:
            def get(i, path=path):
                resp = session.get(api.url + path, timeout=300)
                assert resp.status_code == 200, resp.text[:300]
                return resp
            get(0)
            p50, p95, resp = timed(get, args.queries)
            print('%-46s %9.1f %9.1f   (%d bytes)' % (name, p50, p95, len(resp.content)))
    finally:
        api.stop()
        controllers.reset_manager()
    return 0


if __name__ == '__main__':
    sys.exit(main())
