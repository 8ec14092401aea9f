"""Managers' memory over a long run that deletes as much as it creates
(issue 14, "Measure").

Sets up the production topology (benchmarks/deployment.py) with
``noauth``: the API under uwsgi with 2 processes, 2 ``blazar-manager``
processes over RabbitMQ, a fresh MariaDB database, ``blazar-simulator`` with
16 hypervisors, all enrolled. Then ``--clients`` tenants (a project each)
loop for ``--duration`` seconds (10 minutes by default), pausing
``--pause`` seconds between requests:

* create a lease starting now and ending 1 to 3 minutes later (its start
  and end events run, the host moves between Nova aggregates), or one in
  the coming days (1 in 2);
* now and then move the end date of a future one;
* delete the oldest lease as soon as it holds more than ``--max-held``,
  and every lease left at the end: as many deletes as creates.

Every ``--interval`` seconds it samples each manager's resident memory
(VmRSS, and the API's uwsgi workers' for reference), then prints the
samples minute by minute and, per process, the RSS when the warm-up
(``--warmup`` seconds) ended, at the end, its maximum, the growth since
the warm-up and the least-squares slope after the warm-up. Prints
figures; asserts nothing.

    .venv/bin/python benchmarks/bench_memory.py [--duration 600]
        [--warmup 120] [--interval 5] [--clients 8]
"""
import argparse
import collections
import datetime
import pathlib
import random
import re
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from benchmarks import deployment  # noqa: E402

UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


def _date(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


class Tenant(threading.Thread):

    def __init__(self, number, url, args, stop, answers, seed):
        super().__init__(daemon=True, name='tenant-%d' % number)
        self.url, self.args, self.stop, self.answers = url, args, stop, answers
        self.rng = random.Random(seed)
        self.number = number
        self.held = collections.deque()    # (id, start or None if now, end)
        self.http = requests.Session()
        self.http.headers.update({
            'X-Auth-Token': 'mem-user-%02d:mem-project-%02d' % (number, number),
            'Accept': 'application/json'})

    def call(self, what, method, path, body=None):
        try:
            resp = self.http.request(method, self.url + path, json=body, timeout=120)
        except requests.RequestException as exc:
            self.answers[(what, 599, repr(exc)[:200])] += 1
            return None
        detail = ''
        if resp.status_code >= 500 or (what == 'delete' and resp.status_code == 409):
            detail = UUID.sub('<id>', resp.text)[:120]
        self.answers[(what, resp.status_code, detail)] += 1
        return resp

    def create(self):
        now = datetime.datetime.utcnow().replace(second=0, microsecond=0)
        if self.rng.random() < 0.5:
            start, shown = None, 'now'
            end = now + datetime.timedelta(minutes=self.rng.randrange(2, 4))
        else:
            start = now + datetime.timedelta(minutes=self.rng.randrange(24 * 60, 7 * 24 * 60))
            shown = _date(start)
            end = start + datetime.timedelta(minutes=self.rng.randrange(60, 6 * 60))
        resp = self.call('create', 'POST', '/leases', {
            'name': 'm%02d-%d' % (self.number, self.rng.randrange(10 ** 9)),
            'start_date': shown, 'end_date': _date(end),
            'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                              'hypervisor_properties': '', 'resource_properties': ''}]})
        if resp is not None and resp.status_code == 201:
            self.held.append((resp.json()['lease']['id'], start, end))

    def update(self):
        future = [i for i, (_, start, _) in enumerate(self.held) if start is not None]
        if not future:
            return
        index = self.rng.choice(future)
        lease_id, start, end = self.held[index]
        end += datetime.timedelta(hours=1)
        resp = self.call('update', 'PUT', '/leases/%s' % lease_id, {'end_date': _date(end)})
        if resp is not None and resp.status_code == 200:
            self.held[index] = (lease_id, start, end)

    def delete(self):
        """Delete the oldest lease; one the API cannot delete now (409: its
        start or end is running) goes back in the queue for later."""
        held = self.held.popleft()
        resp = self.call('delete', 'DELETE', '/leases/%s' % held[0])
        if resp is None or resp.status_code not in (204, 404):
            self.held.append(held)
            return False
        return True

    def run(self):
        while not self.stop.is_set():
            if len(self.held) > self.args.max_held:
                self.delete()
            elif self.held and self.rng.random() < 0.25:
                self.update()
            else:
                self.create()
            self.stop.wait(self.args.pause)
        deadline = time.monotonic() + 300
        while self.held and time.monotonic() < deadline:
            if not self.delete():
                time.sleep(1)


def sample(stack, series, stop, interval, begin):
    """Every ``interval`` seconds: (seconds since begin, {process: RSS KiB})."""
    while True:
        names = dict(stack.manager_pids())
        for number, pid in enumerate(sorted(stack.api_worker_pids()), 1):
            names['api-worker-%d' % number] = pid
        series.append((time.monotonic() - begin,
                       {name: deployment.rss_kib(pid) for name, pid in names.items()}))
        if stop.wait(interval):
            return


def slope(points):
    """Least-squares slope of (x, y) points; nan with fewer than two."""
    if len(points) < 2:
        return float('nan')
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if not var:
        return float('nan')
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def report(series, warmup):
    names = sorted({name for _, rss in series for name in rss})
    mib = 1024.0
    print()
    print('RSS in MiB, one sample a minute (and the last):')
    print('%7s  %s' % ('t (s)', '  '.join('%14s' % name for name in names)))
    shown_minute = -1
    for index, (at, rss) in enumerate(series):
        if int(at // 60) == shown_minute and index != len(series) - 1:
            continue
        shown_minute = int(at // 60)
        print('%7.0f  %s' % (at, '  '.join(
            '%14s' % ('%.1f' % (rss[n] / mib) if rss.get(n) else '-') for n in names)))
    print()
    print('%-14s %14s %10s %10s %16s %22s' % (
        'process', 'after warm-up', 'at end', 'max', 'growth (MiB)',
        'slope (MiB / 10 min)'))
    for name in names:
        points = [(at, rss[name] / mib) for at, rss in series if rss.get(name)]
        after = [(at, value) for at, value in points if at >= warmup]
        if not after:
            continue
        print('%-14s %14.1f %10.1f %10.1f %16.1f %22.2f' % (
            name, after[0][1], after[-1][1], max(v for _, v in points),
            after[-1][1] - after[0][1], slope(after) * 600))


def _leases_left(stack):
    return requests.get(stack.url + '/leases', timeout=120, headers={
        'X-Auth-Token': stack.admin_token()}).json()['leases']


def _by_status(leases):
    counts = collections.Counter(lease['status'] for lease in leases)
    detail = ', '.join('%s %d' % item for item in sorted(counts.items()))
    return '%d (%s)' % (len(leases), detail) if counts else '0'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--duration', type=float, default=600,
                        help='seconds of load (default 600: 10 minutes)')
    parser.add_argument('--warmup', type=float, default=120,
                        help='seconds after which growth is measured')
    parser.add_argument('--interval', type=float, default=5,
                        help='seconds between RSS samples')
    parser.add_argument('--clients', type=int, default=8)
    parser.add_argument('--pause', type=float, default=0.2,
                        help='seconds a client waits between requests')
    parser.add_argument('--max-held', type=int, default=2)
    parser.add_argument('--hosts', type=int, default=16)
    parser.add_argument('--managers', type=int, default=2)
    parser.add_argument('--api-processes', type=int, default=2)
    parser.add_argument('--db', choices=['mariadb', 'postgresql'], default='mariadb')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--workdir', help='logs there (default: a temporary directory)')
    args = parser.parse_args(argv)

    started = time.monotonic()
    with deployment.running(workdir=args.workdir, hosts=args.hosts,
                            managers=args.managers, api_processes=args.api_processes,
                            backend=args.db) as stack:
        deployment.enrol_hosts(stack.url, stack.admin_token(), stack.host_names())
        print('deployment: API %s (uwsgi, %d processes, noauth); %d managers over '
              'RabbitMQ; %s database %s; %d hosts enrolled; up in %.0f s; logs in %s'
              % (stack.url, args.api_processes, args.managers, args.db,
                 stack.database.name, args.hosts, time.monotonic() - started,
                 stack.workdir), flush=True)
        print('load: %d clients for %.0f s (warm-up %.0f s), a request every %.1f s '
              'each, at most %d leases each, half of them starting now for 2 to 3 '
              'minutes; RSS sampled every %.0f s' % (
                  args.clients, args.duration, args.warmup, args.pause,
                  args.max_held + 1, args.interval), flush=True)
        answers = collections.Counter()
        series = []
        stop_load, stop_sampling = threading.Event(), threading.Event()
        begin = time.monotonic()
        sampler = threading.Thread(target=sample, daemon=True,
                                   args=(stack, series, stop_sampling, args.interval, begin))
        sampler.start()
        tenants = [Tenant(number, stack.url, args, stop_load, answers,
                          args.seed * 1000 + number)
                   for number in range(1, args.clients + 1)]
        for tenant in tenants:
            tenant.start()
        stop_load.wait(args.duration)
        stop_load.set()
        for tenant in tenants:
            tenant.join()
        stop_sampling.set()
        sampler.join()
        left = _leases_left(stack)
        print('leases left after the clients deleted theirs: %s' % _by_status(left))
        # A deleted active lease stays DELETING until the cloud has its
        # resources back: none may stay.
        settle_by = time.monotonic() + 60
        while left and time.monotonic() < settle_by:
            time.sleep(2)
            left = _leases_left(stack)
        print('  and once their deletes converged (at most 60 s): %s' % _by_status(left))
        print('answers:')
        for (what, status, detail), count in sorted(answers.items()):
            print('  %-6s %s x%d%s' % (what, status, count,
                                       ('  ' + detail) if detail else ''))
        report(series, args.warmup)


if __name__ == '__main__':
    main()
