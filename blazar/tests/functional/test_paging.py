"""Pages and filters of the lists (blazar/api/paging.py) through the real
WSGI app, on each database: pages are disjoint and cover the list, stay so
while items are inserted between requests, bad markers and filters are
400s, and a page costs the same statements whatever the number of rows."""
import datetime
import threading
import urllib.parse

import pytest
import sqlalchemy as sa

from blazar import context as blazar_context
from blazar.api import paging as api_paging
from blazar.api.controllers.v1 import hosts as host_controllers
from blazar.api.controllers.v1 import leases as lease_controllers
from blazar.api.controllers.v1 import preemptions as preemption_controllers
from blazar.db import api as db_api

BASE = datetime.datetime(2031, 1, 1)
STATUSES = ('PENDING', 'ACTIVE', 'TERMINATED')


def ctx():
    return blazar_context.get_admin_context()


def seed_leases(count, first=0, project='proj1', created=None):
    """``count`` leases straight into the store; creation times repeat in
    threes (ties the id must break), names are the zero-padded number."""
    ids = []
    for n in range(first, first + count):
        row = db_api.lease_create(ctx(), {
            'name': 'lease-%04d' % n, 'user_id': 'u', 'project_id': project,
            'start_date': BASE + datetime.timedelta(hours=n % 7),
            'end_date': BASE + datetime.timedelta(hours=8 + n % 5),
            'status': STATUSES[n % 3],
            'created_at': created or BASE - datetime.timedelta(minutes=n // 3)})
        ids.append(row['id'])
    return ids


def seed_hosts(count, first=0):
    ids = []
    for n in range(first, first + count):
        host = db_api.host_create(ctx(), {
            'hypervisor_hostname': 'node-%04d' % n, 'service_name': 'node-%04d' % n,
            'vcpus': 8, 'memory_mb': 8192, 'local_gb': 100,
            'reservable': n % 4 != 0}, {'rack': 'r%d' % (n % 3)}, 'physical:host')
        ids.append(host['id'])
    return ids


def walk(api, path, key, **params):
    """Every page of a list, following next links: (pages, requests made)."""
    url = path + '?' + urllib.parse.urlencode(params)
    pages = []
    while url:
        answer = api.get(url)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body[key])
        links = body.get(key + '_links')
        if links:
            assert links[0]['rel'] == 'next'
            href = urllib.parse.urlsplit(links[0]['href'])
            url = href.path + '?' + href.query
            assert len(body[key]) == int(params.get('limit', 0) or len(body[key]))
        else:
            url = None
        assert len(pages) < 200
    return pages


def ids_of(pages, field='id'):
    return [item[field] for page in pages for item in page]


@pytest.mark.parametrize('sort_key', lease_controllers.SORT_KEYS)
def test_lease_pages_are_disjoint_and_cover_the_list_in_order(api, sort_key):
    seed_leases(23)
    for sort_dir in ('asc', 'desc'):
        whole = api.get('/v1/leases?sort_key=%s&sort_dir=%s' % (sort_key, sort_dir))
        assert whole.status_code == 200 and 'leases_links' not in whole.json()
        expected = [lease['id'] for lease in whole.json()['leases']]
        assert len(expected) == 23
        pages = walk(api, '/v1/leases', 'leases', limit=5, sort_key=sort_key,
                     sort_dir=sort_dir)
        assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
        assert ids_of(pages) == expected
        values = [lease[sort_key] for lease in whole.json()['leases']]
        if sort_key != 'id':  # ids order by the database's collation
            assert values == sorted(values, reverse=sort_dir == 'desc')


def test_without_paging_the_lease_list_is_as_before(api):
    ids = seed_leases(7)
    answer = api.get('/v1/leases?unknown=1&marker_typo=x').json()
    assert set(answer) == {'leases'}
    # Creation order (the seed's creation times go backwards in threes).
    created = [(lease['created_at'], lease['id']) for lease in answer['leases']]
    assert created == sorted(created) and set(ids) == {i for _c, i in created}
    exact = api.get('/v1/leases?limit=7').json()
    assert set(exact) == {'leases'} and len(exact['leases']) == 7


def test_pages_stay_disjoint_while_leases_are_inserted(api):
    originals = set(seed_leases(20))
    seen, url, inserted = [], '/v1/leases?limit=4&sort_key=name', 0
    while url:
        body = api.get(url).json()
        seen += [lease['id'] for lease in body['leases']]
        # New leases sorting before and after the marker, and at its name.
        seed_leases(2, first=1000 + inserted)
        db_api.lease_create(ctx(), {
            'name': body['leases'][-1]['name'], 'project_id': 'proj1',
            'start_date': BASE, 'end_date': BASE + datetime.timedelta(hours=1),
            'status': 'PENDING'})
        seed_leases(1, first=-100 - inserted)
        inserted += 1
        links = body.get('leases_links')
        url = links and urllib.parse.urlsplit(links[0]['href'])
        url = url and url.path + '?' + url.query
    assert len(seen) == len(set(seen))
    assert originals <= set(seen) and inserted >= 5


def test_the_limit_is_capped_and_bad_parameters_are_400(api, config):
    config.set_override('max_limit', 4, group='api')
    seed_leases(6)
    body = api.get('/v1/leases?limit=999999999999').json()
    assert len(body['leases']) == 4
    assert 'limit=4' in body['leases_links'][0]['href']
    assert len(api.get('/v1/leases?marker=%s' % body['leases'][0]['id'])
               .json()['leases']) == 4
    for query in ('limit=0', 'limit=-1', 'limit=x', 'sort_key=trust_id',
                  'sort_dir=up', 'status=RUNNING', 'start_after=2030-02-30 10:00',
                  'end_before=tomorrow', 'name=', 'marker=nosuchlease',
                  'marker=', 'limit=2&limit=x'):
        answer = api.get('/v1/leases?' + query)
        assert answer.status_code == 400, (query, answer.text)
    answer = api.get('/v1/leases?marker=nosuchlease')
    assert 'Marker nosuchlease not found' in answer.json()['error_message']


def test_lease_filters(api):
    seed_leases(12)
    seed_leases(3, first=100, project='proj2')

    def names(query, token='admin:admin'):
        answer = api.as_user(token).get('/v1/leases?' + query)
        assert answer.status_code == 200, answer.text
        return sorted(lease['name'] for lease in answer.json()['leases'])

    everyone = list(range(12)) + [100, 101, 102]
    assert names('status=ACTIVE') == ['lease-%04d' % n for n in everyone if n % 3 == 1]
    assert names('name=lease-0004') == ['lease-0004']
    assert names('project_id=proj2') == ['lease-0100', 'lease-0101', 'lease-0102']
    assert names('start_after=2031-01-01 05:00') == sorted(
        'lease-%04d' % n for n in everyone if n % 7 >= 5)
    assert names('start_before=2031-01-01 01:00&end_after=2031-01-01 11:00') == sorted(
        'lease-%04d' % n for n in everyone
        if n % 7 == 0 and n % 5 >= 3)
    assert names('end_before=2031-01-01 09:00&status=PENDING') == sorted(
        'lease-%04d' % n for n in everyone
        if n % 5 == 0 and n % 3 == 0)
    # A member sees its own project only; naming another is a 403.
    assert names('', 'alice:proj2') == ['lease-0100', 'lease-0101', 'lease-0102']
    assert names('project_id=proj2', 'alice:proj2') == names('', 'alice:proj2')
    assert api.as_user('alice:proj2').get(
        '/v1/leases?project_id=proj1').status_code == 403
    # Another project's lease is no marker for a member.
    other = api.get('/v1/leases?project_id=proj1&limit=1').json()['leases'][0]['id']
    assert api.as_user('alice:proj2').get(
        '/v1/leases?marker=%s' % other).status_code == 400


def test_host_pages_and_filters(api):
    ids = seed_hosts(11)
    for sort_key in host_controllers.HOST_SORT_KEYS:
        for sort_dir in ('asc', 'desc'):
            whole = api.get('/v1/os-hosts?sort_key=%s&sort_dir=%s'
                            % (sort_key, sort_dir)).json()['hosts']
            pages = walk(api, '/v1/os-hosts', 'hosts', limit=3, sort_key=sort_key,
                         sort_dir=sort_dir)
            assert ids_of(pages) == [h['id'] for h in whole]
            assert sorted(ids_of(pages)) == sorted(str(i) for i in ids)
    assert [h['id'] for h in api.get('/v1/os-hosts').json()['hosts']] == [
        str(i) for i in ids]

    def names(query):
        answer = api.get('/v1/os-hosts?' + query)
        assert answer.status_code == 200, answer.text
        return sorted(h['hypervisor_hostname'] for h in answer.json()['hosts'])

    assert names('reservable=false') == ['node-%04d' % n for n in range(11) if n % 4 == 0]
    assert names('reservable=True&capability=rack=r1') == [
        'node-%04d' % n for n in range(11) if n % 4 and n % 3 == 1]
    assert names('capability=rack=r9') == []
    assert names('state=available') == names('')
    db_api.host_update(ctx(), ids[2], {'failure_reason': 'nova-compute down'})
    db_api.host_update(ctx(), ids[3], {'maintenance_start': BASE - datetime.timedelta(
        days=3650), 'failure_reason': 'down too'})
    db_api.host_update(ctx(), ids[4], {'maintenance_start': BASE})  # later
    assert names('state=failed') == ['node-0002']
    assert names('state=maintenance') == ['node-0003']
    assert len(names('state=available')) == 9
    for query in ('reservable=maybe', 'state=broken', 'capability=rack',
                  'marker=99999', 'marker=node-0001', 'sort_key=vcpus', 'limit=0'):
        assert api.get('/v1/os-hosts?' + query).status_code == 400, query


def test_allocation_pages_and_filters(api):
    host_ids = seed_hosts(7)
    lease_ids = seed_leases(3)
    reservations = []
    for n, lease_id in enumerate(lease_ids):
        res = db_api.reservation_create(ctx(), {
            'lease_id': lease_id, 'resource_type': 'physical:host', 'status': 'pending'})
        start = BASE + datetime.timedelta(days=n)
        db_api.allocations_create(ctx(), res['id'], host_ids[n:n + 3], start,
                                  start + datetime.timedelta(hours=10))
        reservations.append(res['id'])
    whole = api.get('/v1/os-hosts/allocations').json()
    assert set(whole) == {'allocations'}
    pages = walk(api, '/v1/os-hosts/allocations', 'allocations', limit=2)
    assert [p for page in pages for p in page] == whole['allocations']
    pages = walk(api, '/v1/os-hosts/allocations', 'allocations', limit=3,
                 sort_dir='desc')
    assert ids_of(pages, 'resource_id') == [str(i) for i in reversed(host_ids)]

    def held(query):
        answer = api.get('/v1/os-hosts/allocations?' + query)
        assert answer.status_code == 200, answer.text
        return {a['resource_id']: sorted(r['id'] for r in a['reservations'])
                for a in answer.json()['allocations'] if a['reservations']}

    assert held('resource_id=%d' % host_ids[2]) == {
        str(host_ids[2]): sorted(reservations)}
    assert held('lease_id=%s' % lease_ids[1]) == {
        str(h): [reservations[1]] for h in host_ids[1:4]}
    assert held('reservation_id=%s&resource_id=%d' % (reservations[2], host_ids[4])) == {
        str(host_ids[4]): [reservations[2]]}
    assert held('start_after=2031-01-02 00:00') == {
        str(h): sorted(r for n, r in enumerate(reservations) if n >= 1 and n <= i < n + 3)
        for i, h in enumerate(host_ids) if 1 <= i < 5}
    assert held('end_before=2031-01-01 11:00') == {
        str(h): [reservations[0]] for h in host_ids[:3]}
    for query in ('resource_id=x', 'resource_id=99999999999', 'start_before=soon',
                  'marker=99999', 'sort_key=lease_id', 'sort_dir=sideways'):
        assert api.get('/v1/os-hosts/allocations?' + query).status_code == 400, query
    assert held('resource_id=424242') == {}


def test_preemption_pages(api):
    lease_id = seed_leases(1)[0]
    for n in range(9):
        db_api.preemption_record(ctx(), {
            'lease_id': lease_id, 'reservation_id': 'r%d' % (n % 2),
            'server_id': 's%d' % n, 'action': 'delete', 'status': 'noticed',
            'project_id': 'p%d' % (n % 3)})
    whole = api.get('/v1/preemptions').json()
    assert set(whole) == {'preemptions'} and len(whole['preemptions']) == 9
    pages = walk(api, '/v1/preemptions', 'preemptions', limit=4)
    assert ids_of(pages) == [p['id'] for p in whole['preemptions']]
    for key in preemption_controllers.SORT_KEYS:
        pages = walk(api, '/v1/preemptions', 'preemptions', limit=2, sort_key=key,
                     sort_dir='asc', reservation_id='r1')
        assert sorted(ids_of(pages)) == sorted(
            p['id'] for p in whole['preemptions'] if p['reservation_id'] == 'r1')
    assert api.get('/v1/preemptions?marker=123456').status_code == 400
    assert api.get('/v1/preemptions?limit=two').status_code == 400


class Statements:
    """Statements this thread sends to the database while counting (the
    manager's background workers share the engine: theirs are not
    counted)."""

    def __init__(self):
        self.count = 0
        self.engine = db_api.get_engine()
        self.thread = threading.get_ident()

    def __enter__(self):
        sa.event.listen(self.engine, 'before_cursor_execute', self._seen)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, 'before_cursor_execute', self._seen)

    def _seen(self, *args):
        if threading.get_ident() == self.thread:
            self.count += 1


def _page(limit, **extra):
    """A page as the API asks the manager for it (one more than the limit)."""
    return dict({'limit': limit + 1, 'marker': None, 'sort_key': None,
                 'sort_dir': None}, **extra)


def test_a_page_costs_the_same_statements_whatever_the_number_of_rows(api, stack):
    """What the manager's RPC endpoint runs for a page (the API adds no
    statement) is a constant number of statements."""
    lease_ids = seed_leases(10)
    host_ids = seed_hosts(10)
    for lease_id in lease_ids:
        res = db_api.reservation_create(ctx(), {
            'lease_id': lease_id, 'resource_type': 'physical:host', 'status': 'pending'})
        db_api.allocations_create(ctx(), res['id'], host_ids[:2], BASE,
                                  BASE + datetime.timedelta(hours=1))
        db_api.event_create(ctx(), {'lease_id': lease_id, 'event_type': 'start_lease',
                                    'time': BASE, 'status': 'UNDONE'})
        db_api.preemption_record(ctx(), {
            'lease_id': lease_id, 'reservation_id': res['id'], 'server_id': 's',
            'action': 'delete', 'status': 'noticed'})
    endpoint = stack.manager.endpoint
    reads = {
        'leases': lambda: endpoint.list_leases(ctx(), filters={}, page=_page(5)),
        'leases after a marker': lambda: endpoint.list_leases(
            ctx(), filters={}, page=_page(5, marker=lease_ids[3])),
        'a project\'s leases by name': lambda: endpoint.list_leases(
            ctx(), project_id='proj1', filters={'status': 'PENDING'},
            page=_page(5, sort_key='name', sort_dir='desc')),
        'hosts': lambda: endpoint.list_hosts(ctx(), filters={}, page=_page(5)),
        'hosts after a marker': lambda: endpoint.list_hosts(
            ctx(), filters={}, page=_page(5, marker=str(host_ids[2]))),
        'hosts filtered': lambda: endpoint.list_hosts(
            ctx(), filters={'capability': ['rack', 'r1'], 'state': 'available',
                            'reservable': True}, page=_page(5)),
        'allocations': lambda: endpoint.list_host_allocations(
            ctx(), window={}, page=_page(5)),
        'allocations after a marker': lambda: endpoint.list_host_allocations(
            ctx(), window={}, page=_page(5, marker=str(host_ids[1]))),
        'preemptions': lambda: endpoint.list_preemptions(ctx(), page=_page(5)),
    }

    def statements():
        counts = {}
        for name, read in reads.items():
            read()  # warm
            with Statements() as counted:
                assert len(read()) in range(1, 7), name
            counts[name] = counted.count
        return counts

    before = statements()
    more = seed_leases(40, first=10)
    more_hosts = seed_hosts(40, first=10)
    for lease_id in more:
        res = db_api.reservation_create(ctx(), {
            'lease_id': lease_id, 'resource_type': 'physical:host', 'status': 'pending'})
        db_api.allocations_create(ctx(), res['id'], more_hosts[:3], BASE,
                                  BASE + datetime.timedelta(hours=1))
    assert statements() == before
    # A handful each (8 for a lease page after a marker on SQLite, its
    # lookup included); what matters is that none grows with the rows.
    assert 1 <= min(before.values()) and max(before.values()) <= 9, before
    # Through the API the pages answer the same.
    assert len(api.get('/v1/leases?limit=5').json()['leases']) == 5


def test_the_page_parameters_are_the_stores_sort_keys():
    assert set(lease_controllers.SORT_KEYS) == set(db_api.LEASE_SORT_KEYS)
    assert set(host_controllers.HOST_SORT_KEYS) == set(db_api.HOST_SORT_KEYS)
    assert set(host_controllers.HOST_STATES) == set(db_api.HOST_STATES)
    assert set(preemption_controllers.SORT_KEYS) == set(db_api.PREEMPTION_SORT_KEYS)
    assert set(lease_controllers.FILTERS) == set(db_api.LEASE_FILTERS)
    assert api_paging.PAGE_KEYS == ('limit', 'marker', 'sort_key', 'sort_dir')


def test_calendar_host_detail_pages(api):
    for n in range(1, 5):
        assert api.post('/v1/os-hosts', {'name': 'compute-%d' % n}).status_code == 201
    whole = api.get('/v1/calendar?hosts=true').json()['calendar']
    assert 'hosts_links' not in whole and len(whole['hosts']) == 4
    first = api.get('/v1/calendar?hosts=true&limit=3').json()['calendar']
    assert len(first['hosts']) == 3 and first['free'] == whole['free']
    href = urllib.parse.urlsplit(first['hosts_links'][0]['href'])
    assert 'hosts=true' in href.query
    second = api.get(href.path + '?' + href.query).json()['calendar']
    assert 'hosts_links' not in second
    assert sorted(h['id'] for h in first['hosts'] + second['hosts']) == sorted(
        h['id'] for h in whole['hosts'])
    assert [int(h['id']) for h in first['hosts'] + second['hosts']] == sorted(
        int(h['id']) for h in whole['hosts'])
    for query in ('marker=424242', 'limit=0', 'marker='):
        answer = api.get('/v1/calendar?hosts=true&' + query)
        assert answer.status_code == 400, (query, answer.text)
    # Without the detail there is nothing to page.
    assert 'hosts' not in api.get('/v1/calendar?hosts=false&limit=1').json()['calendar']
    # The instance calendar's hosts page the same way.
    shape = 'resource_type=virtual:instance&vcpus=1&memory_mb=512&disk_gb=1&hosts=true'
    whole = api.get('/v1/calendar?' + shape).json()['calendar']
    first = api.get('/v1/calendar?%s&limit=2' % shape).json()['calendar']
    assert first['free'] == whole['free'] and len(first['hosts']) == 2
    href = urllib.parse.urlsplit(first['hosts_links'][0]['href'])
    second = api.get(href.path + '?' + href.query).json()['calendar']
    assert [h['id'] for h in first['hosts'] + second['hosts']] == sorted(
        (h['id'] for h in whole['hosts']), key=int)
