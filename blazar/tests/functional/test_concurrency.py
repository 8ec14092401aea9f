"""Two tenants can never get the same host for overlapping time, however
many ask at once."""
import collections
import concurrent.futures
import random

from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import host_reservation
from blazar.tests.functional.test_host_reservations import lease_with

REQUESTS = 32


def _overlapping_pairs(api):
    """Pairs of reservations holding one host at the same time."""
    clashes = []
    for allocation in api.get('/v1/os-hosts/allocations').json()['allocations']:
        spans = sorted((r['start_date'], r['end_date'], r['id'])
                       for r in allocation['reservations'])
        for (_s1, e1, r1), (s2, _e2, r2) in zip(spans, spans[1:], strict=False):
            if s2 < e1:
                clashes.append((allocation['resource_id'], r1, r2))
    return clashes


def _fire(api, bodies):
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        futures = [pool.submit(api.as_user('user%d:proj%d' % (i, i)).post,
                               '/v1/leases', body) for i, body in enumerate(bodies)]
        return [f.result() for f in futures]


def test_concurrent_creates_for_one_window_get_exactly_the_capacity(api, stack):
    enrol(api, 4)
    answers = _fire(api, [lease_with([host_reservation(1, 1)], 'l%d' % i)
                          for i in range(REQUESTS)])
    codes = collections.Counter(r.status_code for r in answers)
    assert codes == {201: 4, 409: REQUESTS - 4}, [r.text for r in answers
                                                  if r.status_code not in (201, 409)]
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.json()['error_message'].startswith('Not enough hosts available')
    assert _overlapping_pairs(api) == []
    assert len(api.get('/v1/leases').json()['leases']) == 4


def test_concurrent_creates_over_random_windows_never_overlap(api, stack):
    enrol(api, 3)
    rng = random.Random(7)
    bodies = []
    for i in range(REQUESTS):
        start = rng.randrange(60, 600, 15)
        count = rng.choice([1, 1, 2])
        bodies.append(lease_with([host_reservation(count, count)], 'r%d' % i,
                                 start, start + rng.randrange(30, 240, 15)))
    answers = _fire(api, bodies)
    codes = collections.Counter(r.status_code for r in answers)
    assert set(codes) <= {201, 409}, [r.text for r in answers]
    assert codes[201] >= 3
    assert _overlapping_pairs(api) == []
    created = api.get('/v1/leases').json()['leases']
    assert len(created) == codes[201]
