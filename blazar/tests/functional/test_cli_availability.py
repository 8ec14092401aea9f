"""`openstack reservation availability/offering/calendar/usage` (this
project's OSC commands) against a real `blazar-all` process: the five
questions answer from the CLI, an offering is reserved, and a tenant sees
no other tenant's leases."""
import datetime

import requests

from blazar.tests.functional.test_cli import blazar_all  # noqa: F401 (fixture)
from blazar.tests.functional.test_cli import cli
from blazar.tests.functional.test_cli import cli_json

HOUR = datetime.timedelta(hours=1)


def fmt(moment):
    return moment.strftime('%Y-%m-%d %H:%M')


def wire(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')


def rest(url, method, path, token='admin:admin', body=None):
    resp = requests.request(method, url + path, json=body, timeout=30,
                            headers={'X-Auth-Token': token,
                                     'Accept': 'application/json'})
    assert resp.status_code < 300, resp.text
    return resp.json()


def test_the_five_questions_from_the_cli(blazar_all):  # noqa: F811
    url = blazar_all
    for name in ('compute-1', 'compute-2', 'compute-3'):
        rest(url, 'POST', '/os-hosts', body={'name': name})
    t0 = (datetime.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
          + 2 * HOUR)
    alice_lease = rest(url, 'POST', '/leases', token='alice:proj1', body={
        'name': 'alice-secret', 'start_date': fmt(t0 + HOUR),
        'end_date': fmt(t0 + 3 * HOUR), 'events': [],
        'reservations': [{'resource_type': 'physical:host', 'min': 2, 'max': 2,
                          'hypervisor_properties': '', 'resource_properties': ''}]
    })['lease']
    secrets = (alice_lease['id'], alice_lease['reservations'][0]['id'], 'proj1')
    bob = 'bob:proj2'

    # How many.
    shown = cli_json(url, 'availability', 'show', '--start-date', fmt(t0 + HOUR),
                     '--end-date', fmt(t0 + 2 * HOUR), token=bob)
    assert (shown['max'], shown['matching'], shown['reservable']) == (1, 3, 3)

    # How long.
    shown = cli_json(url, 'availability', 'duration', '--count', '2',
                     '--start-date', fmt(t0), token=bob)
    assert (shown['end_date'], shown['duration']) == (wire(t0 + HOUR), 60)

    # When.
    listed = cli_json(url, 'offering', 'list', '--count', '3', '--duration', '2h',
                      '--earliest-start', fmt(t0), '--limit', '2', token=bob)
    assert [(o['Start date'], o['End date'], o['Free hosts']) for o in listed] == [
        (wire(t0 + 3 * HOUR), wire(t0 + 5 * HOUR), 3),
        (wire(t0 + 5 * HOUR), wire(t0 + 7 * HOUR), 3)]
    reserved = cli_json(url, 'offering', 'reserve', '--count', '3', '--duration',
                        '2h', '--earliest-start', fmt(t0), '--name', 'bobs',
                        token=bob)
    assert (reserved['name'], reserved['start_date'], reserved['end_date'],
            reserved['project_id']) == ('bobs', wire(t0 + 3 * HOUR),
                                        wire(t0 + 5 * HOUR), 'proj2')

    # The calendar: counts for a tenant, hosts and leases for the admin.
    frame = ('--start-date', fmt(t0), '--end-date', fmt(t0 + 6 * HOUR))
    result = cli(url, 'calendar', 'show', *frame, '-f', 'json', token=bob)
    for secret in secrets:
        assert secret not in result.stdout
    steps = cli_json(url, 'calendar', 'show', *frame, token=bob)
    assert [(s['Start date'], s['Free hosts']) for s in steps] == [
        (wire(t0), 3), (wire(t0 + HOUR), 1), (wire(t0 + 3 * HOUR), 0),
        (wire(t0 + 5 * HOUR), 3)]
    per_host = cli_json(url, 'calendar', 'show', '--hosts', *frame)
    assert sorted(r['Lease'] for r in per_host if r['Project'] == 'proj1') == \
        [alice_lease['id']] * 2

    # Usage: every project for the admin.
    usage = cli_json(url, 'usage', 'show', *frame)
    assert [(u['Project'], u['Host hours'], u['Leases']) for u in usage] == [
        ('proj1', 4.0, 1), ('proj2', 6.0, 1)]

    # Bad input: the API's message, naming the parameter.
    result = cli(url, 'offering', 'list', '--count', '1', '--duration', '8x',
                 check=False)
    assert result.returncode != 0
    assert 'Invalid duration' in result.stderr


def test_instance_shape_questions_from_the_cli(blazar_all):  # noqa: F811
    """The same questions for a virtual:instance shape (inferred from the
    shape options), on two hosts of their own (a property keeps other
    tests' hosts out)."""
    url = blazar_all
    for name in ('compute-4', 'compute-5'):
        rest(url, 'POST', '/os-hosts', body={'name': name, 'pool': 'inst'})
    pool = '["==", "$pool", "inst"]'
    # Two of these fit on a simulated host (memory: 64 GiB - 512 MiB, x 1.5).
    shape = ('--vcpus', '2', '--memory-mb', '32768', '--disk-gb', '10',
             '--resource-properties', pool)
    t0 = (datetime.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
          + 2 * HOUR)
    bob_lease = rest(url, 'POST', '/leases', token='bob:proj2', body={
        'name': 'bob-secret', 'start_date': fmt(t0 + HOUR),
        'end_date': fmt(t0 + 3 * HOUR), 'events': [],
        'reservations': [{'resource_type': 'virtual:instance', 'vcpus': 2,
                          'memory_mb': 32768, 'disk_gb': 10, 'amount': 3,
                          'affinity': None, 'resource_properties': pool}]})['lease']
    secrets = (bob_lease['id'], bob_lease['reservations'][0]['id'], 'proj2')
    alice = 'alice:proj1'

    shown = cli_json(url, 'availability', 'show', '--start-date', fmt(t0 + HOUR),
                     '--end-date', fmt(t0 + 2 * HOUR), *shape, token=alice)
    assert (shown['resource_type'], shown['amount'], shown['matching']) == (
        'virtual:instance', 1, 2)
    shown = cli_json(url, 'availability', 'duration', '--amount', '2',
                     '--start-date', fmt(t0), *shape, token=alice)
    assert (shown['end_date'], shown['duration'], shown['amount']) == (
        wire(t0 + HOUR), 60, 2)
    listed = cli_json(url, 'offering', 'list', '--amount', '4', '--duration', '2h',
                      '--earliest-start', fmt(t0), '--limit', '1', *shape,
                      token=alice)
    assert [(o['Start date'], o['End date'], o['Free instances']) for o in listed] \
        == [(wire(t0 + 3 * HOUR), wire(t0 + 5 * HOUR), 4)]
    reserved = cli_json(url, 'offering', 'reserve', '--amount', '4', '--duration',
                        '2h', '--earliest-start', fmt(t0), '--name', 'alices',
                        *shape, token=alice)
    assert (reserved['name'], reserved['start_date'], reserved['project_id']) == (
        'alices', wire(t0 + 3 * HOUR), 'proj1')
    assert '"amount": 4' in reserved['reservations']

    frame = ('--start-date', fmt(t0), '--end-date', fmt(t0 + 6 * HOUR))
    result = cli(url, 'calendar', 'show', *frame, *shape, '-f', 'json', token=alice)
    for secret in secrets:
        assert secret not in result.stdout
    steps = cli_json(url, 'calendar', 'show', *frame, *shape, token=alice)
    assert [(s['Start date'], s['Free instances']) for s in steps] == [
        (wire(t0), 4), (wire(t0 + HOUR), 1), (wire(t0 + 3 * HOUR), 0),
        (wire(t0 + 5 * HOUR), 4)]
    per_host = cli_json(url, 'calendar', 'show', '--hosts', *frame, *shape)
    assert sorted(r['Slots'] for r in per_host if r['Project'] == 'proj2') == [1, 2]
