"""/v1/leases without reservations: shapes, validation, ownership, lifecycle."""
import datetime
import re
import time

import pytest

WIRE_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$')
TIMESTAMP = re.compile(r'^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$')


def in_minutes(minutes):
    moment = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
    return moment.strftime('%Y-%m-%d %H:%M')


def lease_body(name='l1', start=60, end=120, **extra):
    body = {'name': name, 'start_date': in_minutes(start), 'end_date': in_minutes(end),
            'reservations': [], 'events': []}
    body.update(extra)
    return body


def wait_for_status(api, lease_id, wanted, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        lease = api.get('/v1/leases/%s' % lease_id).json()['lease']
        if lease['status'] == wanted:
            return lease
        time.sleep(0.2)
    raise AssertionError('lease %s is %s, not %s' % (lease_id, lease['status'], wanted))


def test_create_returns_the_lease_in_the_client_formats(api):
    resp = api.as_user('alice:proj1').post('/v1/leases', lease_body())
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    assert lease['name'] == 'l1'
    assert lease['status'] == 'PENDING'
    assert lease['degraded'] is False
    assert (lease['user_id'], lease['project_id']) == ('alice', 'proj1')
    assert WIRE_DATE.match(lease['start_date']) and WIRE_DATE.match(lease['end_date'])
    assert TIMESTAMP.match(lease['created_at'])
    assert lease['reservations'] == []
    assert sorted(e['event_type'] for e in lease['events']) == ['end_lease', 'start_lease']
    for event in lease['events']:
        assert event['status'] == 'UNDONE' and WIRE_DATE.match(event['time'])


def test_before_end_date_adds_an_event(api):
    lease = api.post('/v1/leases', lease_body(before_end_date=in_minutes(90))).json()['lease']
    assert 'before_end_lease' in [e['event_type'] for e in lease['events']]


@pytest.mark.parametrize('body, field', [
    ({'start_date': 'now', 'end_date': '2099-01-01 00:00'}, 'name'),
    ({'name': 'x', 'end_date': '2099-01-01 00:00'}, 'start_date'),
    ({'name': 'x', 'start_date': 'now'}, 'end_date'),
])
def test_missing_parameters_are_named(api, body, field):
    resp = api.post('/v1/leases', body)
    assert resp.status_code == 400
    assert resp.json()['error_message'] == 'Missing parameter %s' % field


@pytest.mark.parametrize('changes, words', [
    ({'start_date': '2030-13-01 10:00'}, 'start_date'),
    ({'end_date': 'tomorrow'}, 'end_date'),
    ({'name': 42}, 'name'),
    ({'reservations': 'none'}, 'reservations'),
    ({'unexpected': 1}, 'unexpected'),
    ({'reservations': [{'min': 1}]}, 'resource_type'),
    ({'reservations': [{'resource_type': 'physical:widget'}]}, 'physical:widget'),
    ({'start_date': '2001-01-01 10:00'}, 'Start date must be later than current date'),
    ({'end_date': in_minutes(30)}, 'End date must be later than start date.'),
])
def test_bad_input_is_a_400_that_says_what_and_stores_nothing(api, changes, words):
    resp = api.post('/v1/leases', lease_body(**changes))
    assert resp.status_code == 400, resp.text
    assert words in resp.json()['error_message']
    assert api.get('/v1/leases').json()['leases'] == []


def test_before_end_date_outside_the_lease_is_a_403_as_upstream(api):
    resp = api.post('/v1/leases', lease_body(before_end_date=in_minutes(200)))
    assert resp.status_code == 403, resp.text
    message = resp.json()['error_message']
    assert message.startswith('Datetime is out of lease limits')
    assert 'before_end_date' in message
    assert api.get('/v1/leases').json()['leases'] == []


def test_tenants_see_only_their_leases_and_admins_all(api):
    alice, bob = api.as_user('alice:proj1'), api.as_user('bob:proj2')
    mine = alice.post('/v1/leases', lease_body('a')).json()['lease']
    theirs = bob.post('/v1/leases', lease_body('b')).json()['lease']
    assert [item['id'] for item in alice.get('/v1/leases').json()['leases']] == [mine['id']]
    assert {item['id'] for item in api.get('/v1/leases').json()['leases']} == {
        mine['id'], theirs['id']}
    for method in ('get', 'delete'):
        resp = getattr(alice, method)('/v1/leases/%s' % theirs['id'])
        assert resp.status_code == 403, method
    resp = alice.put('/v1/leases/%s' % theirs['id'], {'name': 'stolen'})
    assert resp.status_code == 403
    assert api.get('/v1/leases/%s' % theirs['id']).json()['lease']['name'] == 'b'


def _counting_manager_calls(monkeypatch):
    from blazar.manager import service
    calls = []
    for name in ('get_lease', 'update_lease', 'delete_lease'):
        method = getattr(service.ManagerEndpoint, name)

        def counted(self, *args, _name=name, _method=method, **kwargs):
            calls.append(_name)
            return _method(self, *args, **kwargs)
        monkeypatch.setattr(service.ManagerEndpoint, name, counted)
    return calls


def test_an_owner_s_update_and_delete_are_one_manager_call_each(api, monkeypatch):
    """Issue 14: each update and delete read the lease over RPC for the
    policy check, then wrote it: two round trips. The owner's own target
    is checked first, and the manager writes only a lease of that owner."""
    alice = api.as_user('alice:proj1')
    lease = alice.post('/v1/leases', lease_body()).json()['lease']
    calls = _counting_manager_calls(monkeypatch)
    assert alice.put('/v1/leases/%s' % lease['id'], {'name': 'mine'}).status_code == 200
    assert alice.delete('/v1/leases/%s' % lease['id']).status_code == 204
    assert calls == ['update_lease', 'delete_lease']
    assert alice.delete('/v1/leases/%s' % lease['id']).status_code == 404


def test_another_s_lease_is_written_only_as_the_policy_allows_on_its_owner(
        api, monkeypatch):
    """A write the manager refuses as not the caller's falls back on the
    policy check against the lease's owner: a project member and an
    administrator may write it, another project may not, and what the
    refused caller asked is not written."""
    lease = api.as_user('alice:proj1').post('/v1/leases', lease_body()).json()['lease']
    url = '/v1/leases/%s' % lease['id']
    calls = _counting_manager_calls(monkeypatch)
    assert api.as_user('bob:proj2').put(url, {'name': 'bob'}).status_code == 403
    assert api.as_user('bob:proj2').delete(url).status_code == 403
    assert api.as_user('carol:proj1').put(url, {'name': 'carol'}).status_code == 200
    assert api.get(url).json()['lease']['name'] == 'carol'
    assert calls.count('get_lease') == 4
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_an_owner_s_write_reaches_a_manager_older_than_the_owner_check(
        api, monkeypatch):
    """An API upgraded before its managers: the 1.0 manager refuses the
    1.1 call, and the API reads the lease first, as before."""
    import oslo_messaging as messaging

    from blazar.manager import service
    monkeypatch.setattr(service.ManagerEndpoint, 'target',
                        messaging.Target(version='1.0'))
    alice = api.as_user('alice:proj1')
    lease = alice.post('/v1/leases', lease_body()).json()['lease']
    calls = _counting_manager_calls(monkeypatch)
    resp = alice.put('/v1/leases/%s' % lease['id'], {'name': 'mine'})
    assert resp.status_code == 200, resp.text
    assert resp.json()['lease']['name'] == 'mine'
    assert alice.delete('/v1/leases/%s' % lease['id']).status_code == 204
    assert calls == ['get_lease', 'update_lease', 'get_lease', 'delete_lease']


def test_same_project_members_share_leases(api):
    lease = api.as_user('alice:proj1').post('/v1/leases', lease_body()).json()['lease']
    resp = api.as_user('carol:proj1').get('/v1/leases/%s' % lease['id'])
    assert resp.status_code == 200


def test_rename_and_empty_update(api):
    lease = api.post('/v1/leases', lease_body()).json()['lease']
    url = '/v1/leases/%s' % lease['id']
    assert api.put(url, {}).json()['lease']['name'] == 'l1'
    renamed = api.put(url, {'name': 'renamed'}).json()['lease']
    assert renamed['name'] == 'renamed'
    assert renamed['status'] == 'PENDING'


def at_minutes(*minutes):
    """Dates ``minutes`` from one same moment (no minute turns between)."""
    now = datetime.datetime.utcnow()
    return [(now + datetime.timedelta(minutes=m)).strftime('%Y-%m-%d %H:%M')
            for m in minutes]


def test_move_and_extend_a_pending_lease(api):
    start, end, before_end, new_start, new_end, new_before_end = at_minutes(
        60, 120, 110, 90, 240, 230)
    lease = api.post('/v1/leases', lease_body(start_date=start, end_date=end,
                                              before_end_date=before_end)).json()['lease']
    resp = api.put('/v1/leases/%s' % lease['id'],
                   {'start_date': new_start, 'end_date': new_end})
    assert resp.status_code == 200, resp.text
    updated = resp.json()['lease']
    assert updated['start_date'][:16] == new_start.replace(' ', 'T')
    assert updated['end_date'][:16] == new_end.replace(' ', 'T')
    times = {e['event_type']: e['time'][:16] for e in updated['events']}
    assert times['start_lease'] == new_start.replace(' ', 'T')
    assert times['end_lease'] == new_end.replace(' ', 'T')
    # The before-end event keeps its distance (10 minutes) to the end.
    assert times['before_end_lease'] == new_before_end.replace(' ', 'T')


@pytest.mark.parametrize('changes, words', [
    ({'start_date': '2001-01-01 10:00'}, 'Start date must be later than current date'),
    ({'end_date': in_minutes(30)}, 'End date must be later than current and start date'),
    ({'end_date': 'soon'}, 'end_date'),
    ({'reservations': [{'id': 'nope'}]}, 'nope'),
    ({'status': 'ACTIVE'}, 'status'),
])
def test_rejected_update_leaves_the_lease_as_it_was(api, changes, words):
    lease = api.post('/v1/leases', lease_body()).json()['lease']
    url = '/v1/leases/%s' % lease['id']
    resp = api.put(url, changes)
    assert resp.status_code == 400, resp.text
    assert words in resp.json()['error_message']
    after = api.get(url).json()['lease']
    assert after == lease


def test_delete(api):
    lease = api.post('/v1/leases', lease_body()).json()['lease']
    resp = api.delete('/v1/leases/%s' % lease['id'])
    assert resp.status_code == 204 and resp.content == b''
    # Nothing after the headers either (requests would not read it; it
    # would be taken for the next response of the connection).
    assert resp.headers.get('Content-Length') in (None, '0')
    assert api.get('/v1/leases/%s' % lease['id']).status_code == 404
    assert api.delete('/v1/leases/%s' % lease['id']).status_code == 404


def test_lease_starting_now_becomes_active_and_ends_on_request(api):
    lease = api.post('/v1/leases', lease_body(start=0, end=60) | {
        'start_date': 'now'}).json()['lease']
    active = wait_for_status(api, lease['id'], 'ACTIVE')
    assert {e['event_type']: e['status'] for e in active['events']}['start_lease'] == 'DONE'
    resp = api.put('/v1/leases/%s' % lease['id'], {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    ended = wait_for_status(api, lease['id'], 'TERMINATED')
    assert all(e['status'] == 'DONE' for e in ended['events'])
    resp = api.put('/v1/leases/%s' % lease['id'], {'end_date': in_minutes(60)})
    assert resp.status_code == 400
    assert 'Terminated leases can only be renamed' in resp.json()['error_message']
    assert api.put('/v1/leases/%s' % lease['id'], {'name': 'old'}).status_code == 200
