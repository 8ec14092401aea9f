"""OpenStack-API-Version negotiation for the 'reservation' service type."""
import json

import pytest
import webob

from blazar.api.middleware import microversion as mv


@pytest.mark.parametrize('header', [None, ''])
def test_absent_header_means_the_latest_version(header):
    assert mv.requested_version(header) == mv.MAX_VERSION == (1, 0)


@pytest.mark.parametrize('header', [
    'reservation 1.0',
    'Reservation 1.0',
    'RESERVATION   1.0',
    'reservation latest',
    'compute 2.1, reservation 1.0',
    'reservation 1.0, compute 2.95',
    ' reservation 1.0 ,identity 3.0',
])
def test_reservation_version_is_picked(header):
    assert mv.requested_version(header) == (1, 0)


@pytest.mark.parametrize('header', [
    '1.0',            # bare version: no service type, ignored
    '1.a',            # ignored too, even though malformed
    'compute 2.1',
    'compute 2.1, placement 1.39',
    'reservation',    # no version at all
    'reservation 1.0 extra',
])
def test_header_without_a_reservation_entry_means_the_minimum(header):
    assert mv.requested_version(header) == mv.MIN_VERSION


@pytest.mark.parametrize('version', ['1.a', '01.0', '1', '1.', '.0', '1.00', '1.01',
                                     'v1.0', '1.0.0', '0.9', '-1.0', 'newest'])
def test_malformed_version_is_a_value_error(version):
    with pytest.raises(ValueError) as info:
        mv.requested_version('reservation %s' % version)
    assert str(info.value) == version


@pytest.mark.parametrize('version', ['2.0', '1.1', '10.0', '1.10'])
def test_unsupported_version_is_a_lookup_error(version):
    with pytest.raises(LookupError) as info:
        mv.requested_version('compute 2.1, reservation %s' % version)
    assert not isinstance(info.value, ValueError)
    assert str(info.value) == version


def test_last_reservation_entry_wins():
    with pytest.raises(LookupError):
        mv.requested_version('reservation 1.0, reservation 2.0')
    assert mv.requested_version('reservation 2.0, reservation 1.0') == (1, 0)


# --- the middleware ------------------------------------------------------

class App:
    """A tiny WSGI app recording the environ it was called with."""

    def __init__(self):
        self.calls = []

    def __call__(self, environ, start_response):
        self.calls.append(environ)
        response = webob.Response(json_body={'ok': True})
        return response(environ, start_response)


def call(header=None, app=None):
    app = app or App()
    request = webob.Request.blank('/v1/leases')
    if header is not None:
        request.headers[mv.HEADER] = header
    return request.get_response(mv.Microversion(app)), app


@pytest.mark.parametrize('header', [None, 'reservation 1.0', 'reservation latest',
                                    'compute 2.1'])
def test_supported_request_reaches_the_app_with_the_version(header):
    response, app = call(header)
    assert response.status_int == 200
    assert response.json == {'ok': True}
    assert len(app.calls) == 1
    assert app.calls[0]['blazar.api_version'] == (1, 0)
    assert response.headers[mv.HEADER] == 'reservation 1.0'
    assert mv.HEADER in response.headers.getall('Vary')


def test_malformed_version_is_a_json_400_and_app_is_not_called():
    response, app = call('reservation 1.a')
    assert response.status_int == 400
    assert response.content_type == 'application/json'
    body = json.loads(response.text)
    assert set(body) == {'error_code', 'error_message', 'error_name'}
    assert body['error_code'] == 400
    assert '1.a' in body['error_message']
    assert 'MAJOR.MINOR' in body['error_message']
    assert app.calls == []
    assert response.headers[mv.HEADER] == 'reservation 1.0'
    assert mv.HEADER in response.headers.getall('Vary')


def test_unsupported_version_is_a_json_406_naming_the_range():
    response, app = call('reservation 2.0')
    assert response.status_int == 406
    assert response.content_type == 'application/json'
    body = json.loads(response.text)
    assert body['error_code'] == 406
    assert body['error_message'] == ('Version 2.0 is not supported by the API. '
                                     'Minimum is 1.0 and maximum is 1.0.')
    assert app.calls == []
    assert response.headers[mv.HEADER] == 'reservation 1.0'
    assert mv.HEADER in response.headers.getall('Vary')


def test_vary_of_the_app_is_kept():
    def app(environ, start_response):
        response = webob.Response(json_body={}, headers={'Vary': 'Accept'})
        return response(environ, start_response)

    response, _ = call('reservation 1.0', app)
    vary = ','.join(response.headers.getall('Vary'))
    assert 'Accept' in vary and mv.HEADER in vary


def test_app_error_status_passes_through_with_the_headers():
    def app(environ, start_response):
        response = webob.Response(status=404, json_body={'error_code': 404})
        return response(environ, start_response)

    response, _ = call(None, app)
    assert response.status_int == 404
    assert response.json == {'error_code': 404}
    assert response.headers[mv.HEADER] == 'reservation 1.0'


def test_latest_is_case_insensitive():
    assert mv.requested_version("reservation LATEST") == mv.MAX_VERSION
