"""Lease create and delete latency behind Keystone, with bench.py, and the
password logins they cost (issue 14, "Measure").

Sets up the production topology (benchmarks/deployment.py): a real
Keystone at its default bcrypt cost (12 rounds, about 0.3 s of CPU per
password check; ``--hash-rounds`` to change it) with its cache on (a
dogpile cache in a file, shared by its processes as production's memcached is;
``--no-keystone-cache``), ``blazar-api`` under uwsgi
with 2 processes and ``auth_strategy = keystone``, one ``blazar-manager``
over RabbitMQ on a fresh MariaDB database, and ``blazar-simulator`` with
1000 hypervisors ``host-0001`` ... validating Keystone tokens. Then:

1. warm-up: the admin's token (a login), a few authenticated reads (each
   API process's keystonemiddleware logs in once) and one lease create and
   delete (the manager's service user logs in once);
2. runs ``bench.py`` (the shared, stdlib-only benchmark of the v1 API; its
   README has upstream Blazar 18's figures) against the API with that
   token: enrol the hosts, create 200 leases, reads, delete them;
3. prints bench.py's own figures as it goes, then the token requests
   Keystone answered during each of its phases (recorded by the Keystone
   fixture: every ``POST /v3/auth/tokens``), and the password logins per
   lease create and per lease delete.

    .venv/bin/python benchmarks/bench_keystone_latency.py [--hosts 1000]
        [--leases 200] [--hash-rounds N] [--bench PATH] [-- bench.py options]

Needs MariaDB and RabbitMQ on loopback (as the tests do), uwsgi in the
virtualenv, and the Keystone virtualenv (installed from the package index
on first use, in the test cache, ~/.cache/blazar-tests). Prints figures; asserts nothing.
"""
import argparse
import collections
import contextlib
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from benchmarks import deployment  # noqa: E402
from blazar.tests import keystone_fixture  # noqa: E402

ROOT = deployment.ROOT
BENCH_CANDIDATES = (os.environ.get('BLAZAR_BENCH_PY'),
                    ROOT.parent / 'shared' / 'bench' / 'bench.py',
                    pathlib.Path('/work/shared/bench/bench.py'))
# bench.py's lines closing a phase: "<phase> n=..." and "hosts enrolled: N".
PHASE_LINE = re.compile(r'^(enroll|create|list|show|hosts|allocs|hostalloc|delete)\s+'
                        r'n=(\d+)')
ENROLLED_LINE = re.compile(r'^hosts enrolled: ')


def keystone_cache(workdir):
    """Keystone's cache, shared by its worker processes as production's
    memcached is (an in-process cache would leave each process its own
    catalog: an endpoint added through one is unknown to the others)."""
    return ('[cache]', 'enabled = true', 'backend = dogpile.cache.dbm',
            'backend_argument = filename:%s' % (workdir / 'keystone-cache.dbm'))


def find_bench(path):
    for candidate in ((path,) if path else BENCH_CANDIDATES):
        if candidate and pathlib.Path(candidate).exists():
            return str(candidate)
    sys.exit('bench.py not found (tried %s): pass --bench PATH'
             % ', '.join(str(c) for c in BENCH_CANDIDATES if c))


def kinds(requests_made):
    """Counts of token requests by kind: password logins, rescopes of a
    token to a trust, other token-method requests."""
    counted = collections.Counter()
    for r in requests_made:
        if 'password' in r['methods']:
            counted['password'] += 1
        elif r['scope'] == ['OS-TRUST:trust']:
            counted['rescope'] += 1
        else:
            counted['other'] += 1
    return counted


def who(requests_made):
    logins = collections.Counter(
        '%s%s' % (r['user'], ' (trust-scoped)' if r['scope'] == ['OS-TRUST:trust'] else '')
        for r in requests_made if 'password' in r['methods'])
    return ', '.join('%s x%d' % item for item in sorted(logins.items())) or 'none'


def warm_up(stack, token, say):
    """What happens once per process, before the figures: the API
    processes' keystonemiddleware and the manager's service user log in."""
    headers = {'X-Auth-Token': token, 'Accept': 'application/json'}
    for _ in range(4 * stack.api_processes):
        requests.get(stack.url + '/leases', headers=headers, timeout=60)
    resp = requests.post(stack.url + '/leases', headers=headers, timeout=120, json={
        'name': 'warm-up', 'start_date': '2099-01-01 10:00',
        'end_date': '2099-01-01 12:00', 'reservations': []})
    if resp.status_code != 201:
        raise deployment.DeploymentError('warm-up lease create: %s %s'
                                         % (resp.status_code, resp.text[:500]))
    lease_id = resp.json()['lease']['id']
    resp = requests.delete(stack.url + '/leases/%s' % lease_id, headers=headers,
                           timeout=120)
    if resp.status_code != 204:
        raise deployment.DeploymentError('warm-up lease delete: %s %s'
                                         % (resp.status_code, resp.text[:500]))


class Marks:
    """Positions in Keystone's records (token requests, access log)."""

    def __init__(self, keystone):
        self.keystone = keystone
        self.tokens = self.access = 0
        if keystone is not None:
            self.take()

    def take(self):
        """The records since the last mark: (token requests, accesses)."""
        if self.keystone is None:
            return [], []
        tokens, access = self.keystone.auth_requests(), self.keystone.access_log()
        made = tokens[self.tokens:], access[self.access:]
        self.tokens, self.access = len(tokens), len(access)
        return made


def run_bench(bench, url, keystone, token_file, args, extra):
    """Run bench.py, echoing its output; what Keystone answered during each
    of its phases, as (phase, n, token requests, accesses)."""
    command = [sys.executable, bench, '--url', url[:-len('/v1')],
               '--token-file', str(token_file), '--hosts', str(args.hosts),
               '--leases', str(args.leases), '--host-prefix', 'host-',
               '--host-width', '4'] + extra
    print('$ %s' % ' '.join(command), flush=True)
    phases = []
    marks = Marks(keystone)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    for line in proc.stdout:
        print(line, end='', flush=True)
        phase = PHASE_LINE.match(line)
        name = phase.group(1) if phase else ('host list' if ENROLLED_LINE.match(line)
                                              else None)
        if name is not None:
            phases.append((name, int(phase.group(2)) if phase else 1) + marks.take())
    if proc.wait() != 0:
        sys.exit('bench.py failed (exit status %s)' % proc.returncode)
    return phases


def report(phases, warm):
    print()
    print('Keystone during each bench.py phase: token requests (POST /v3/auth/tokens) '
          'and all requests with the time Keystone took:')
    print('%-10s %8s %9s %10s %8s %6s %9s %9s  %s' % (
        'phase', 'requests', 'password', 'per req.', 'rescope', 'other',
        'Keystone', 'ms/req.', 'password logins by'))
    for name, count, made, access in phases:
        counted = kinds(made)
        seconds = sum(a['seconds'] for a in access)
        print('%-10s %8d %9d %10.2f %8d %6d %9d %9.1f  %s' % (
            name, count, counted['password'], counted['password'] / max(count, 1),
            counted['rescope'], counted['other'], len(access),
            seconds * 1000 / max(count, 1), who(made)))
    for name in ('create', 'delete'):
        found = [phase for phase in phases if phase[0] == name]
        if found:
            _, count, made, access = found[0]
            logins = kinds(made)['password']
            calls = collections.Counter('%s %s' % (a['method'], a['path']) for a in access)
            seconds = collections.defaultdict(float)
            for a in access:
                seconds['%s %s' % (a['method'], a['path'])] += a['seconds']
            print('password logins per lease %s: %.2f (%d in %d %ss); Keystone calls '
                  'per %s: %s' % (
                      name, logins / max(count, 1), logins, count, name, name,
                      ', '.join('%s x%.2f (%.1f ms each)' % (
                          call, calls[call] / max(count, 1),
                          seconds[call] * 1000 / calls[call])
                          for call in sorted(calls)) or 'none'))
    print('warm-up (once per process, before the figures): %d password logins (%s)'
          % (kinds(warm)['password'], who(warm)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--leases', type=int, default=200)
    parser.add_argument('--hash-rounds', type=int, default=None,
                        help="bcrypt rounds of Keystone's passwords (default: "
                             "Keystone's own, 12)")
    parser.add_argument('--keystone-workers', type=int, default=2)
    parser.add_argument('--no-keystone-cache', dest='keystone_cache',
                        action='store_false',
                        help="run Keystone without its cache (production Keystones "
                             "cache in memcached; here a dogpile cache in a file, "
                             "shared by the workers: without it each Keystone call takes several "
                             "times longer)")
    parser.add_argument('--noauth', action='store_true',
                        help='the same deployment without Keystone (auth_strategy = '
                             'noauth): the baseline of what Keystone adds')
    parser.add_argument('--api-processes', type=int, default=2)
    parser.add_argument('--managers', type=int, default=1)
    parser.add_argument('--db', choices=['mariadb', 'postgresql'], default='mariadb')
    parser.add_argument('--bench', help='path of bench.py (default: ../shared/bench/'
                                        'bench.py of the checkout, or $BLAZAR_BENCH_PY)')
    parser.add_argument('--workdir', help='keep logs there (default: a temporary '
                                          'directory, removed unless --keep)')
    parser.add_argument('bench_args', nargs='*',
                        help='more bench.py options, after "--" (e.g. -- --seed 1 '
                             '--reps 10)')
    args = parser.parse_args(argv)
    bench = find_bench(args.bench)
    workdir = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix='blazar-bench-ks-'))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / 'keystone').mkdir(exist_ok=True)
    (workdir / 'blazar').mkdir(exist_ok=True)
    say = print
    started = time.monotonic()
    with contextlib.ExitStack() as running:
        keystone = None
        if not args.noauth:
            keystone = running.enter_context(keystone_fixture.running_keystone(
                workdir / 'keystone', say, hash_rounds=args.hash_rounds,
                workers=args.keystone_workers,
                extra_config=keystone_cache(workdir) if args.keystone_cache else ()))
        stack = running.enter_context(deployment.running(
            workdir=workdir / 'blazar', hosts=args.hosts, host_pattern='host-%04d',
            managers=args.managers, api_processes=args.api_processes,
            keystone=keystone, backend=args.db))
        if keystone is None:
            where = 'no Keystone (auth_strategy = noauth: the baseline)'
        else:
            where = 'Keystone %s (bcrypt rounds: %s, %d workers, cache %s)' % (
                keystone.url, args.hash_rounds or "Keystone's default (12)",
                args.keystone_workers, 'on' if args.keystone_cache else 'off')
        print('deployment: %s; API %s (uwsgi, %d processes); %d manager(s) over '
              'RabbitMQ; %s database %s; simulator with %d hypervisors; up in %.0f s'
              % (where, stack.url, args.api_processes, args.managers, args.db,
                 stack.database.name, args.hosts, time.monotonic() - started),
              flush=True)
        marks = Marks(keystone)
        token = stack.admin_token()
        warm_up(stack, token, say)
        warm, _ = marks.take()
        token_file = workdir / 'token'
        token_file.write_text(token)
        phases = run_bench(bench, stack.url, keystone, token_file, args, args.bench_args)
        if keystone is not None:
            report(phases, warm)
    print('logs: %s' % workdir)


if __name__ == '__main__':
    main()
