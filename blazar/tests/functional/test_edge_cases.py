"""Every input of issue 16 ("no input makes a 500"), on each database: the
answer is the expected status with a message that says what is wrong and
where, never a 5xx; a refused request changes nothing stored and sends no
notification, and leaves exactly one INFO line in the log (request id,
project, route, message; never the body)."""
import json
import logging

import pytest
import sqlalchemy as sa

from blazar.api import schemas
from blazar.db import api as db_api
from blazar.db import models
from blazar.tests.functional.conftest import settled

START, END = '2030-01-01 10:00', '2030-01-01 12:00'
MULTIPART = {'Content-Type': 'multipart/form-data'}


def lease_body(**changes):
    body = {'name': 'edge', 'start_date': '2030-02-01 10:00',
            'end_date': '2030-02-01 12:00',
            'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                              'hypervisor_properties': '', 'resource_properties': ''}]}
    body.update(changes)
    return body


def nested_query(depth):
    query = '["==", "$gpu", "a100"]'
    for _ in range(depth):
        query = '["not", %s]' % query
    return query


def raw(text):
    """A body sent as it is (JSON text the client library would not write)."""
    return {'data': text.encode('utf-8', 'surrogatepass'),
            'headers': {'Content-Type': 'application/json'}}


# (id, method, path, request keywords, status, words in the message)
# {lease}, {reservation} and {host}: those of the fixture's lease and host.
CASES = [
    # --- content types -------------------------------------------------
    ('multipart-no-boundary-delete-ignored', 'DELETE', '/v1/leases/{lease}',
     {'headers': MULTIPART}, 204, None),
    ('multipart-no-boundary-delete-unknown', 'DELETE', '/v1/leases/nothing',
     {'headers': MULTIPART}, 404, "Object with {'lease_id': 'nothing'} not found"),
    ('multipart-no-boundary-get-ignored', 'GET', '/v1/leases/{lease}',
     {'headers': MULTIPART, 'data': b'--x'}, 200, None),
    ('multipart-no-boundary-post', 'POST', '/v1/leases',
     {'headers': MULTIPART, 'data': b'--x'}, 415, 'Content-Type multipart/form-data'),
    ('multipart-no-boundary-put', 'PUT', '/v1/leases/{lease}',
     {'headers': MULTIPART, 'data': b'{}'}, 415, 'send the body as application/json'),
    ('multipart-boundary-host-put', 'PUT', '/v1/os-hosts/{host}',
     {'headers': {'Content-Type': 'multipart/form-data; boundary=x'},
      'data': b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'},
     415, 'Content-Type multipart/form-data; boundary=x is not supported'),
    ('form-urlencoded', 'POST', '/v1/os-hosts',
     {'headers': {'Content-Type': 'application/x-www-form-urlencoded'},
      'data': b'name=compute-2'}, 415, 'application/x-www-form-urlencoded'),
    ('text-plain', 'PATCH', '/v1/os-hosts/properties/gpu',
     {'headers': {'Content-Type': 'text/plain'}, 'data': b'{"private": true}'},
     415, 'text/plain'),
    ('json-in-latin-1', 'POST', '/v1/leases',
     {'headers': {'Content-Type': 'application/json; charset=latin-1'},
      'data': json.dumps(lease_body()).encode()}, 415, 'a JSON body is UTF-8'),
    ('json-utf-8-charset', 'PUT', '/v1/leases/{lease}',
     {'headers': {'Content-Type': 'application/json; charset=UTF-8'},
      'data': b'{"name": "renamed"}'}, 200, None),
    ('no-content-type-is-json', 'PUT', '/v1/leases/{lease}',
     {'headers': {'Content-Type': None}, 'data': b'{"name": "renamed"}'}, 200, None),
    ('body-not-utf-8', 'PUT', '/v1/leases/{lease}',
     {'headers': {'Content-Type': 'application/json'}, 'data': b'{"name": "\xff"}'},
     400, 'the body is not valid UTF-8'),
    # --- dates ---------------------------------------------------------
    ('usage-year-1', 'GET', '/v1/usage',
     {'params': {'start_date': '0001-01-01 00:00', 'end_date': '2030-01-01 00:00'}},
     200, None),
    ('usage-ends-in-year-1', 'GET', '/v1/usage',
     {'params': {'end_date': '0001-01-02 00:00'}}, 200, None),
    ('calendar-year-1', 'GET', '/v1/calendar',
     {'params': {'start_date': '0001-01-01 00:00', 'end_date': '0001-01-02 00:00'}},
     200, None),
    ('calendar-year-1-to-9999', 'GET', '/v1/calendar',
     {'params': {'start_date': '0001-01-01 00:00', 'end_date': '9999-12-31 23:59'}},
     200, None),
    ('calendar-year-9999', 'GET', '/v1/calendar',
     {'params': {'start_date': '9999-12-31 23:00'}}, 200, None),
    ('availability-to-9999', 'GET', '/v1/availability',
     {'params': {'end_date': '9999-12-31 23:59'}}, 200, None),
    ('offerings-in-9999', 'GET', '/v1/offerings',
     {'params': {'count': '1', 'duration': '1h', 'earliest_start': '9999-12-31 22:00'}},
     200, None),
    ('lease-in-9999', 'POST', '/v1/leases',
     {'json': lease_body(start_date='9999-12-31 22:00', end_date='9999-12-31 23:59')},
     201, None),
    ('year-0', 'GET', '/v1/calendar', {'params': {'start_date': '0000-01-01 00:00'}},
     400, 'is not a date of the calendar'),
    ('seconds-refused', 'POST', '/v1/leases',
     {'json': lease_body(start_date='2030-02-01 10:00:59')}, 400,
     '2030-02-01 10:00:59 is an invalid date. Required format: %Y-%m-%d %H:%M '
     '(start_date has seconds: dates have minute precision'),
    ('seconds-refused-on-update', 'PUT', '/v1/leases/{lease}',
     {'json': {'end_date': '2030-01-01 13:00:00'}}, 400, 'end_date has seconds'),
    ('seconds-refused-in-query', 'GET', '/v1/availability',
     {'params': {'end_date': '2030-01-01 13:00:30'}}, 400, 'end_date has seconds'),
    ('full-width-digits', 'POST', '/v1/leases',
     {'json': lease_body(start_date='\uff12\uff10\uff13\uff10-02-01 10:00')}, 400,
     'start_date must be written with ASCII digits'),
    ('arabic-indic-digits-in-query', 'GET', '/v1/calendar',
     {'params': {'start_date': '2030-01-01 \u0661\u0660:00'}}, 400,
     'start_date must be written with ASCII digits'),
    ('usage-start-now', 'GET', '/v1/usage', {'params': {'start_date': 'now'}}, 400,
     "start_date must be a UTC date 'YYYY-MM-DD HH:MM'"),
    # --- nesting -------------------------------------------------------
    ('query-990-deep-in-lease', 'POST', '/v1/leases',
     {'json': lease_body(reservations=[{
         'resource_type': 'physical:host', 'min': 1, 'max': 1,
         'hypervisor_properties': nested_query(990)}])}, 400,
     'is not a property query: JSON text (at most 4096 characters, nested at most '
     '32 levels)'),
    ('query-600-deep-in-lease', 'POST', '/v1/leases',
     {'json': lease_body(reservations=[{
         'resource_type': 'physical:host', 'min': 1, 'max': 1,
         'resource_properties': '[' * 600 + ']' * 600}])}, 400,
     'query nested more than 32 levels deep'),
    ('query-40-deep-availability', 'GET', '/v1/availability',
     {'params': {'end_date': '2030-01-01 13:00',
                 'hypervisor_properties': nested_query(40)}}, 400,
     'hypervisor_properties: Malformed requirements'),
    ('query-990-deep-offerings', 'GET', '/v1/offerings',
     {'params': {'count': '1', 'duration': '1h',
                 'resource_properties': '[' * 990 + ']' * 990}}, 400,
     'query nested more than 32 levels deep'),
    ('query-990-deep-availability-url', 'GET', '/v1/availability',
     {'params': {'end_date': '2030-01-01 13:00',
                 'hypervisor_properties': nested_query(990)}}, 414,
     'The URL is longer than'),
    ('query-as-deep-list', 'POST', '/v1/leases',
     {'json': lease_body(reservations=[{
         'resource_type': 'physical:host', 'min': 1, 'max': 1,
         'hypervisor_properties': json.loads(nested_query(40))}])}, 400,
     'query nested more than 32 levels deep'),
    ('json-1000-deep-in-body', 'POST', '/v1/leases',
     raw('{"name": "x", "start_date": "%s", "end_date": "%s", "events": %s}'
         % (START, END, '[' * 1000 + ']' * 1000)), 400,
     'the body is nested more than 64 levels deep'),
    # --- strings -------------------------------------------------------
    ('lone-surrogate-in-name', 'POST', '/v1/leases',
     raw(json.dumps(lease_body(name='a\ud800b'))), 400,
     'Invalid body: name contains a lone UTF-16 surrogate (U+D800)'),
    ('lone-surrogate-in-capability', 'PUT', '/v1/os-hosts/{host}',
     raw('{"rack": "\\udfff"}'), 400, 'rack contains a lone UTF-16 surrogate'),
    ('surrogate-pair-is-fine', 'PUT', '/v1/leases/{lease}',
     raw('{"name": "\\ud83d\\ude00"}'), 200, None),
    ('nul-in-lease-name', 'POST', '/v1/leases', {'json': lease_body(name='a\x00b')},
     400, 'Invalid body: name contains U+0000 (NUL)'),
    ('nul-in-capability-key', 'PUT', '/v1/os-hosts/{host}', {'json': {'gp\x00u': 'x'}},
     400, "the key 'gp\\x00u' in body contains U+0000 (NUL)"),
    ('nul-in-capability-value', 'POST', '/v1/os-hosts',
     {'json': {'name': 'compute-2', 'rack': '\x00'}}, 400, 'rack contains U+0000'),
    ('nul-in-lease-path', 'GET', '/v1/leases/%00', {}, 400,
     "the path segment 3 ('\\x00') contains U+0000 (NUL)"),
    ('nul-in-host-path', 'DELETE', '/v1/os-hosts/a%00b', {}, 400,
     'contains U+0000 (NUL)'),
    ('nul-in-query', 'GET', '/v1/os-hosts/allocations?lease_id=%00', {}, 400,
     'query parameter lease_id contains U+0000 (NUL)'),
    ('path-not-utf-8', 'GET', '/v1/leases/%ff', {}, 400, 'the path is not valid UTF-8'),
    ('query-not-utf-8', 'GET', '/v1/leases?x=%ff', {}, 400,
     'the query string is not valid UTF-8'),
    ('query-lone-surrogate', 'GET', '/v1/calendar?start_date=%ED%A0%80', {}, 400,
     'the query string is not valid UTF-8'),
    ('capability-value-over-64-kb', 'PUT', '/v1/os-hosts/{host}',
     {'json': {'notes': 'x' * 70000}}, 400,
     'is not a string (of at most %d characters)' % schemas.MAX_CAPABILITY_VALUE),
    ('capability-value-at-the-limit', 'PUT', '/v1/os-hosts/{host}',
     {'json': {'notes': '\U0001f600' * schemas.MAX_CAPABILITY_VALUE}}, 200, None),
    ('capability-value-one-over', 'PUT', '/v1/os-hosts/{host}',
     {'json': {'notes': 'x' * (schemas.MAX_CAPABILITY_VALUE + 1)}}, 400,
     'Invalid notes:'),
    ('empty-capability-name', 'PUT', '/v1/os-hosts/{host}', {'json': {'': 'x'}}, 400,
     'an extra capability needs a name'),
    ('empty-capability-name-on-create', 'POST', '/v1/os-hosts',
     {'json': {'name': 'compute-2', '': 'x'}}, 400, 'an extra capability needs a name'),
    ('capability-name-65', 'PUT', '/v1/os-hosts/{host}', {'json': {'k' * 65: 'x'}},
     400, 'is longer than 64 characters'),
    ('host-update-empty', 'PUT', '/v1/os-hosts/{host}', {'json': {}}, 400,
     'No data to update'),
    ('project-id-over-255', 'POST', '/v1/leases',
     {'json': lease_body(), 'token': 'u:' + 'p' * 256}, 400,
     "the caller's project id is longer than 255 characters"),
    ('project-id-over-255-read', 'GET', '/v1/leases', {'token': 'u:' + 'p' * 256},
     400, "the caller's project id is longer than 255 characters"),
    ('user-id-over-255', 'PUT', '/v1/leases/{lease}',
     {'json': {'name': 'x'}, 'token': 'u' * 256 + ':admin'}, 400,
     "the caller's user id is longer than 255 characters"),
    ('name-over-255', 'PUT', '/v1/leases/{lease}', {'json': {'name': 'x' * 256}}, 400,
     'Invalid name:'),
    ('host-id-beyond-32-bits', 'GET', '/v1/os-hosts/99999999999999999999', {}, 404,
     "Object with {'host_id': '99999999999999999999'} not found"),
    ('null-capability-deletes-it', 'PUT', '/v1/os-hosts/{host}', {'json': {'gpu': None}},
     200, None),
    ('null-capability-on-create', 'POST', '/v1/os-hosts',
     {'json': {'name': 'compute-2', 'gpu': None}}, 400, 'Invalid gpu:'),
    # --- numbers -------------------------------------------------------
    ('huge-float', 'PUT', '/v1/os-hosts/{host}', raw('{"ghz": 1e999}'), 400,
     'the body holds the number 1e999, which is out of range'),
    ('nan', 'PUT', '/v1/os-hosts/{host}', raw('{"ghz": NaN}'), 400,
     'NaN is not a JSON value'),
    ('huge-integer', 'PUT', '/v1/os-hosts/{host}', raw('{"cores": %s}' % ('9' * 5000)),
     400, 'the body is not valid JSON'),
    ('max-beyond-32-bits', 'POST', '/v1/leases', {'json': lease_body(reservations=[{
        'resource_type': 'physical:host', 'min': 1, 'max': 2 ** 31}])}, 400,
     'Invalid reservations.0.max: 2147483648 is not a whole number'),
    ('count-beyond-32-bits', 'PUT', '/v1/leases/{lease}',
     {'json': {'reservations': [{'id': '{reservation}', 'max': '99999999999'}]}}, 400,
     "Invalid reservations.0.max: '99999999999'"),
    # --- bodies --------------------------------------------------------
    ('same-reservation-twice', 'PUT', '/v1/leases/{lease}',
     {'json': {'reservations': [{'id': '{reservation}', 'max': 1},
                                {'id': '{reservation}', 'max': 1}]}}, 400,
     'Invalid reservations.1.id: reservation {reservation} is given more than once'),
    ('events-are-ignored', 'POST', '/v1/leases', {'json': lease_body(events=[{}])},
     201, None),
    ('empty-lease-id-filter-is-refused', 'GET', '/v1/preemptions?lease_id=', {}, 400,
     "Invalid lease_id: '' is not a non-empty string of at most 255 characters"),
    ('empty-allocation-filter-is-ignored', 'GET', '/v1/os-hosts/allocations?lease_id=',
     {}, 200, None),
    # --- answers -------------------------------------------------------
    ('body-over-the-limit', 'POST', '/v1/leases',
     raw('{"name": "%s"}' % ('x' * 200000)), 413,
     'The request body is larger than 114688 bytes ([oslo_middleware] '
     'max_request_body_size)'),
    ('method-not-allowed', 'PATCH', '/v1/leases', {'json': {}}, 405,
     'PATCH is not allowed on /v1/leases'),
    ('method-not-allowed-on-an-id', 'POST', '/v1/os-hosts/{host}', {'json': {}}, 405,
     'POST is not allowed on /v1/os-hosts/{host_id}'),
    ('url-too-long', 'GET', '/v1/leases/' + 'x' * 20000, {}, 414,
     'The URL is longer than 16384 characters'),
]
ALLOW = {'method-not-allowed': 'GET, HEAD, OPTIONS, POST',
         'method-not-allowed-on-an-id': 'DELETE, GET, HEAD, OPTIONS, PUT'}


def snapshot():
    """Every row of every table, as text."""
    engine = db_api.get_engine()
    rows = {}
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(str(v) for v in row) for row in conn.execute(
                sa.select(table).order_by(*order))]
    return rows


@pytest.fixture
def world(api):
    return make_world(api)


def make_world(api):
    """A host with a capability and a lease on it, and a registered
    floating IP: their ids."""
    host = api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100'})
    assert host.status_code == 201, host.text
    lease = api.post('/v1/leases', lease_body(name='l1', start_date=START, end_date=END))
    assert lease.status_code == 201, lease.text
    lease = lease.json()['lease']
    # The converger makes the lease's objects after the 201: done before
    # any snapshot, so that it alone is compared.
    settled()
    from blazar.simulator import neutron_state
    fip = api.post('/v1/floatingips', {
        'floating_network_id': neutron_state.fixed_id('network', 'public'),
        'floating_ip_address': '172.24.4.100'})
    assert fip.status_code == 201, fip.text
    return {'lease': lease['id'], 'reservation': lease['reservations'][0]['id'],
            'host': host.json()['host']['id'], 'floatingip': fip.json()['floatingip']['id']}


def _fill(value, world):
    if isinstance(value, str):
        for key, replacement in world.items():
            value = value.replace('{%s}' % key, replacement)
        return value
    if isinstance(value, dict):
        return {_fill(k, world): _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_edge_case(api, world, notifications, caplog, case):
    name, method, path, request, status, words = case
    request = _fill(dict(request), world)
    token = request.pop('token', None)
    caller = api.as_user(token) if token else api
    before = snapshot()
    sent = len(notifications())
    caplog.set_level(logging.INFO, logger='blazar.api.errors')
    caplog.clear()

    resp = caller.request(method, _fill(path, world), request.pop('json', None),
                          **request)

    assert resp.status_code == status, resp.text[:500]
    if status >= 400:
        body = resp.json()
        assert body['error_code'] == status and body['error_name'] == status
        message = body['error_message']
        assert _fill(words, world) in message
        assert snapshot() == before, 'a refused request changed the store'
        assert len(notifications()) == sent, 'a refused request notified'
        lines = [r.getMessage() for r in caplog.records if r.name == 'blazar.api.errors'
                 and r.levelno == logging.INFO]
        assert len(lines) == 1, lines
        assert resp.headers['x-openstack-request-id'] in lines[0]
        assert message[:100] in lines[0]
        assert lines[0].startswith('%d %s ' % (status, method))
        if name in ALLOW:
            assert resp.headers['Allow'] == ALLOW[name]
    elif words:
        assert words in resp.text


@pytest.mark.parametrize('names', [('gpu', 'GPU'), ('\U00024d2b', '\U00020000')])
def test_capability_names_the_database_compares_equal(api, world, database, names):
    # MariaDB compares names by its collation (case- and accent-insensitive,
    # one weight for the supplementary planes): there the second name is the
    # first one, a 409; SQLite and PostgreSQL keep them apart. Never a 500.
    first, second = names
    assert api.put('/v1/os-hosts/%s' % world['host'], {first: 'a'}).status_code == 200
    before = snapshot()
    resp = api.put('/v1/os-hosts/%s' % world['host'], {second: 'b'})
    if database.backend == 'mariadb':
        assert resp.status_code == 409, resp.text
        assert 'is the same name as' in resp.json()['error_message']
        assert snapshot() == before
    else:
        assert resp.status_code == 200, resp.text
        assert resp.json()['host'][second] == 'b'
    resp = api.put('/v1/os-hosts/%s' % world['host'], {first + 'x': '1', second + 'x': '2'})
    assert resp.status_code in ((409,) if database.backend == 'mariadb' else (200,)), resp.text
    # Deleting one spelling and setting the other in one request.
    resp = api.put('/v1/os-hosts/%s' % world['host'], {first: None, second.upper() + 'y': '3',
                                                       second: 'c'})
    assert resp.status_code in ((409,) if database.backend == 'mariadb' else (200,)), resp.text
