"""Versions, headers, errors and content negotiation of the HTTP API."""
import uuid


def test_versions_document_is_a_300_without_token(api):
    for path in ('/', '/versions'):
        resp = api.as_user(None).get(path)
        assert resp.status_code == 300
        version = resp.json()['versions'][0]
        assert version['id'] == 'v1.0' and version['status'] == 'CURRENT'
        assert version['links'][0]['href'] == api.url + '/v1'


def test_request_id_and_microversion_headers_on_every_answer(api):
    resp = api.get('/v1/leases')
    assert resp.status_code == 200
    assert resp.headers['x-openstack-request-id'].startswith('req-')
    assert resp.headers['OpenStack-API-Version'] == 'reservation 1.0'
    assert 'OpenStack-API-Version' in resp.headers['Vary']


def test_microversion_latest_and_bare_are_accepted(api):
    for value in ('reservation latest', 'reservation 1.0', '1.0'):
        resp = api.get('/v1/leases', headers={'OpenStack-API-Version': value})
        assert resp.status_code == 200, value


def test_bad_microversion_is_400_and_unsupported_is_406(api):
    resp = api.get('/v1/leases', headers={'OpenStack-API-Version': 'reservation 1.a'})
    assert resp.status_code == 400
    assert 'MAJOR.MINOR' in resp.json()['error_message']
    resp = api.get('/v1/leases', headers={'OpenStack-API-Version': 'reservation 2.0'})
    assert resp.status_code == 406
    assert resp.json()['error_code'] == 406


def test_unknown_route_is_json_404(api):
    resp = api.get('/v1/nothing-here')
    assert resp.status_code == 404
    body = resp.json()
    assert body == {'error_code': 404, 'error_message': body['error_message'],
                    'error_name': 404}


def test_wrong_method_is_json_405(api):
    resp = api.patch('/v1/leases', {})
    assert resp.status_code == 405
    assert resp.json()['error_code'] == 405


def test_json_suffix_is_accepted(api):
    assert api.get('/v1/leases.json').status_code == 200


def test_missing_accept_header_is_not_an_error(api):
    resp = api.session.get(api.url + '/v1/leases',
                           headers={'X-Auth-Token': 'admin:admin', 'Accept': None})
    assert resp.status_code == 200


def test_malformed_json_is_400_and_stores_nothing(api):
    resp = api.request('POST', '/v1/leases', data='{"name": ',
                       headers={'Content-Type': 'application/json'})
    assert resp.status_code == 400
    assert 'not valid JSON' in resp.json()['error_message']
    assert api.get('/v1/leases').json() == {'leases': []}


def test_other_content_type_is_415(api):
    resp = api.request('POST', '/v1/leases', data='name=x',
                       headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert resp.status_code == 415
    assert 'Content-Type' in resp.json()['error_message']
    assert api.get('/v1/leases').json() == {'leases': []}


def test_healthcheck(api):
    assert api.as_user(None).get('/healthcheck').status_code == 200


def test_unknown_lease_is_404(api):
    lease_id = str(uuid.uuid4())
    resp = api.get('/v1/leases/%s' % lease_id)
    assert resp.status_code == 404
    # Upstream's words, which clients and scripts match.
    assert resp.json()['error_message'] == "Object with {'lease_id': '%s'} not found" % lease_id


def test_non_ascii_digits_are_not_a_host_id(api):
    resp = api.get('/v1/os-hosts/%C2%B3')
    assert resp.status_code == 404
    assert resp.json()['error_code'] == 404


def test_an_oversized_body_is_a_json_413(api):
    resp = api.request('POST', '/v1/leases', data='{"name": "%s"}' % ('x' * 200000),
                       headers={'Content-Type': 'application/json'})
    assert resp.status_code == 413
    assert resp.json()['error_code'] == 413
