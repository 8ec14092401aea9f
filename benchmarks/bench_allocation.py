"""Timing of the allocation core on a synthetic calendar.

10,000 hosts, 100,000 busy intervals over 30 days (per host, ten
consecutive reservations of 1 h to 4 days separated by gaps of 0 to 2 days,
the first one starting up to 3 days before the frame; about two thirds of
the host-time is taken), one-hour cleaning time. Every figure is the whole
pure computation from the raw per-host lists, as the service would run it
after loading them; the instance rows treat the same intervals as instance
reservations of random shapes on hosts of 64 VCPU / 256 GiB.

    .venv/bin/python benchmarks/bench_allocation.py [--queries N] [--seed S]
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from blazar import exceptions  # noqa: E402
from blazar.allocation import availability  # noqa: E402
from blazar.allocation import hosts as hosts_mod  # noqa: E402
from blazar.allocation import slots  # noqa: E402

HOSTS = 10_000
INTERVALS = 100_000
DAYS = 30
T0 = datetime.datetime(2025, 1, 1)
MARGIN = datetime.timedelta(hours=1)
EIGHT_HOURS = datetime.timedelta(hours=8)
CAPACITY = {'VCPU': 64 * 4, 'MEMORY_MB': 256 * 1024, 'DISK_GB': 2000}
SHAPES = [{'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 20},
          {'VCPU': 8, 'MEMORY_MB': 32768, 'DISK_GB': 80},
          {'VCPU': 16, 'MEMORY_MB': 65536, 'DISK_GB': 160}]


def calendar(rng):
    per_host = INTERVALS // HOSTS
    busy = {}
    candidates = []
    for n in range(HOSTS):
        hid = 'host-%05d' % n
        t = T0 - datetime.timedelta(minutes=rng.randrange(0, 3 * 1440))
        ivs = []
        for _ in range(per_host):
            length = datetime.timedelta(minutes=rng.randrange(60, 4 * 1440))
            ivs.append((t, t + length))
            t += length + datetime.timedelta(
                minutes=rng.randrange(0, 2 * 1440))
        busy[hid] = ivs
        candidates.append(hosts_mod.Host(
            hid, {'vcpus': rng.choice([32, 64, 128])},
            size=(rng.choice([32, 64, 128]),)))
    return candidates, busy


def timed(fn, runs):
    times = []
    result = None
    for i in range(runs):
        t = time.perf_counter()
        result = fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--queries', type=int, default=40)
    ap.add_argument('--seed', type=int, default=42)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t = time.perf_counter()
    candidates, busy = calendar(rng)
    total = sum(len(v) for v in busy.values())
    print('calendar: %d hosts, %d busy intervals, %d days (built in %.1f s)'
          % (len(busy), total, DAYS, time.perf_counter() - t))
    starts = [T0 + datetime.timedelta(minutes=rng.randrange(0, 29 * 1440))
              for _ in range(args.queries)]
    ids = list(busy)
    instance_hosts = [hosts_mod.Host(h.id, h.attributes, h.size, CAPACITY)
                      for h in candidates]
    instance_items = {h: [(s, e, rng.choice(SHAPES), rng.randrange(1, 12))
                          for s, e in ivs] for h, ivs in busy.items()}
    shape = {'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 40}

    def select(i):
        w = (starts[i], starts[i] + EIGHT_HOURS)
        try:
            return len(hosts_mod.select_hosts(candidates, busy, w, 100, 100,
                                              margin=MARGIN))
        except exceptions.NotEnoughHostsAvailable:
            return 0

    def select_query(i):
        w = (starts[i], starts[i] + EIGHT_HOURS)
        return len(hosts_mod.select_hosts(
            candidates, busy, w, 1, 100, margin=MARGIN,
            query='[">=", "$vcpus", "64"]'))

    def count(i):
        w = (starts[i], starts[i] + EIGHT_HOURS)
        return availability.max_free_count(busy, w, MARGIN, hosts=ids)

    def windows_(i):
        return availability.find_windows(
            busy, 100, EIGHT_HOURS, (T0, T0 + datetime.timedelta(days=DAYS)),
            k=5, margin=MARGIN, hosts=ids)

    def windows_big(i):
        return availability.find_windows(
            busy, 1000, datetime.timedelta(days=2),
            (T0, T0 + datetime.timedelta(days=DAYS)),
            k=5, margin=MARGIN, hosts=ids)

    def windows_none(i):
        return availability.find_windows(
            busy, 9000, EIGHT_HOURS, (T0, T0 + datetime.timedelta(days=DAYS)),
            k=5, margin=MARGIN, hosts=ids)

    def profile(i):
        return availability.free_count_profile(
            busy, (T0, T0 + datetime.timedelta(days=DAYS)), MARGIN,
            hosts=ids)

    def run(i):
        return availability.longest_free_run(
            busy, starts[i], 100, MARGIN, T0 + datetime.timedelta(days=DAYS),
            hosts=ids)

    def instances(affinity):
        def fn(i):
            w = (starts[i], starts[i] + EIGHT_HOURS)
            return sum(slots.select_slots(
                instance_hosts, instance_items, shape, 100, w, MARGIN,
                affinity=affinity).values())
        return fn

    def amount(i):
        w = (starts[i], starts[i] + EIGHT_HOURS)
        return slots.max_amount(instance_hosts, instance_items, shape, w,
                                MARGIN)

    rows = [
        ('select_hosts 100 x 8h', select, args.queries),
        ('select_hosts 1-100 x 8h + query', select_query, args.queries),
        ('max_free_count 8h', count, args.queries),
        ('longest_free_run 100 hosts', run, args.queries),
        ('find_windows 100 x 8h, 30 d, k=5', windows_,
         max(5, args.queries // 4)),
        ('find_windows 1000 x 2d, 30 d, k=5', windows_big,
         max(5, args.queries // 4)),
        ('find_windows 9000 x 8h (none: full sweep)', windows_none,
         max(5, args.queries // 4)),
        ('free_count_profile 30 d', profile, max(5, args.queries // 4)),
        ('select_slots 100 x 8h (affinity None)', instances(None),
         args.queries),
        ('select_slots 100 x 8h (affinity False)', instances(False),
         args.queries),
        ('max_amount 8h', amount, args.queries),
    ]
    print('%-40s %9s %9s' % ('operation', 'p50 ms', 'p95 ms'))
    for name, fn, runs in rows:
        p50, p95, result = timed(fn, runs)
        print('%-40s %9.1f %9.1f' % (name, p50, p95))
        if name.startswith('select_hosts'):
            print('    %d hosts chosen (last query)' % result)
        if name.startswith('free_count_profile'):
            print('    %d steps' % len(result))
        if name.startswith('max_amount'):
            print('    %d instances would fit (last query)' % result)
        if name.startswith('find_windows'):
            for w in result:
                print('    window %s -> %s, %d hosts free'
                      % (w.start, w.end, len(w.hosts)))


if __name__ == '__main__':
    main()
