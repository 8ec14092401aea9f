"""Every error the API answers has the same JSON body."""
import json
import logging

import pytest
import webob
import webob.exc

from blazar import exceptions
from blazar.api import errors

KEYS = {'error_code', 'error_message', 'error_name'}


def body_of(response):
    assert response.content_type == 'application/json'
    body = json.loads(response.text)
    assert set(body) == KEYS
    assert body['error_code'] == body['error_name'] == response.status_int
    return body


def test_error_response_shape():
    response = errors.error_response(409, 'Lease «été» is ACTIVE')
    assert response.status_int == 409
    assert json.loads(response.body.decode('utf-8'))['error_message'] == \
        'Lease «été» is ACTIVE'
    assert body_of(response)['error_message'] == 'Lease «été» is ACTIVE'


@pytest.mark.parametrize('exc, code, message', [
    (exceptions.InvalidInput(reason='bad name'), 400, 'bad name'),
    (exceptions.InvalidDate(date='x', field='end_date'), 400,
     "x is an invalid date for end_date. Required format: 'YYYY-MM-DD HH:MM' "
     "(UTC) or 'now'"),
    (exceptions.UnsupportedResourceType(resource_type='virtual:floatingip'), 400,
     'The virtual:floatingip resource type is not supported'),
    (exceptions.NotAuthenticated(), 401, 'Authentication required'),
    (exceptions.PolicyNotAuthorized(action='blazar:leases:post'), 403,
     "Policy doesn't allow blazar:leases:post to be performed"),
    (exceptions.LeaseNotFound(id='l1'), 404, "Object with {'lease_id': 'l1'} not found"),
    (exceptions.HostNotFound(host='compute-9'), 404, "Host 'compute-9' not found!"),
    (exceptions.HostNotEnrolled(host='7'), 404, "Object with {'host_id': '7'} not found"),
    (exceptions.ExtraCapabilityTooLong(key='k' * 65), 400,
     'Extra capability key too long: %s is longer than 64 characters' % ('k' * 65)),
    (exceptions.OutOfLeaseLimits(reason='before_end_date after the end'), 403,
     'Datetime is out of lease limits: before_end_date after the end'),
    (exceptions.MicroversionNotAcceptable(version='2.0', min='1.0', max='1.0'), 406,
     'Version 2.0 is not supported by the API. Minimum is 1.0 and maximum is 1.0.'),
    (exceptions.NotEnoughHostsAvailable(reason='0 of 2'), 409,
     'Not enough hosts available: 0 of 2'),
    (exceptions.InvalidStatus(id='l1', status='DELETING', reason='busy'), 409,
     'Invalid lease status. Lease l1 is DELETING: busy'),
    (exceptions.BlazarException(), 500, 'An unknown error occurred.'),
    (exceptions.NovaError(reason='boom'), 502, 'Compute service (Nova) error: boom'),
    (exceptions.DatabaseUnavailable(reason='gone'), 503,
     'The database is unavailable: gone'),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None)
def test_blazar_exceptions_keep_status_and_message(exc, code, message):
    response = errors.from_exception(exc)
    assert response.status_int == code
    assert body_of(response)['error_message'] == message


def test_server_side_blazar_errors_are_logged_client_errors_are_not(caplog):
    with caplog.at_level(logging.WARNING, logger=errors.__name__):
        errors.from_exception(exceptions.LeaseNotFound(id='l1'))
        assert caplog.records == []
        errors.from_exception(exceptions.NovaUnavailable(reason='timeout'))
    assert len(caplog.records) == 1
    assert 'NovaUnavailable' in caplog.text and 'timeout' in caplog.text


def test_webob_not_found_without_detail():
    response = errors.from_exception(webob.exc.HTTPNotFound())
    assert response.status_int == 404
    assert body_of(response)['error_message'] == 'The resource could not be found.'


def test_webob_not_found_with_detail_keeps_it():
    response = errors.from_exception(webob.exc.HTTPNotFound(detail='No such lease'))
    assert body_of(response)['error_message'] == 'No such lease'


def test_webob_method_not_allowed_keeps_allow_header():
    exc = webob.exc.HTTPMethodNotAllowed(headers={'Allow': 'GET, POST'})
    response = errors.from_exception(exc)
    assert response.status_int == 405
    assert response.headers['Allow'] == 'GET, POST'
    assert body_of(response)['error_message']


def test_webob_method_not_allowed_without_allow_header():
    response = errors.from_exception(webob.exc.HTTPMethodNotAllowed())
    assert response.status_int == 405
    assert 'Allow' not in response.headers


@pytest.mark.parametrize('exc', [webob.exc.HTTPBadRequest(), webob.exc.HTTPConflict(),
                                 webob.exc.HTTPUnsupportedMediaType()])
def test_other_webob_errors_keep_their_status(exc):
    response = errors.from_exception(exc)
    assert response.status_int == exc.code
    assert body_of(response)['error_message']


@pytest.mark.parametrize('exc', [
    RuntimeError('secret dsn mysql://root:hunter2@db'),
    KeyError('reservations'),
    ZeroDivisionError(),
])
def test_unknown_exception_is_a_bare_500(exc, caplog):
    try:
        raise exc
    except Exception as raised:
        with caplog.at_level(logging.ERROR, logger=errors.__name__):
            response = errors.from_exception(raised)
    assert response.status_int == 500
    assert body_of(response)['error_message'] == 'Internal Server Error'
    assert 'Traceback' not in response.text
    assert 'hunter2' not in response.text and 'reservations' not in response.text
    # ...but the operator gets the traceback in the log.
    assert 'Traceback' in caplog.text


# --- the JsonErrors middleware -------------------------------------------

def through(app, method='GET'):
    request = webob.Request.blank('/v1/leases', method=method)
    return request.get_response(errors.JsonErrors(app))


def raising(exc):
    def app(environ, start_response):
        raise exc
    return app


def answering(status, body=b'', content_type='text/html', headers=None):
    def app(environ, start_response):
        response = webob.Response(status=status, body=body, headers=headers or {})
        response.content_type = content_type
        return response(environ, start_response)
    return app


@pytest.mark.parametrize('exc, code, message', [
    (exceptions.LeaseNotFound(id='l1'), 404, "Object with {'lease_id': 'l1'} not found"),
    (exceptions.InvalidInput(reason='Missing parameter name'), 400,
     'Missing parameter name'),
    (webob.exc.HTTPNotFound(), 404, 'The resource could not be found.'),
    (ValueError('internal detail'), 500, 'Internal Server Error'),
])
def test_app_that_raises_answers_json(exc, code, message):
    response = through(raising(exc))
    assert response.status_int == code
    assert body_of(response)['error_message'] == message


def test_raised_method_not_allowed_keeps_allow():
    response = through(raising(webob.exc.HTTPMethodNotAllowed(
        headers={'Allow': 'GET'})), method='PATCH')
    assert response.status_int == 405
    assert response.headers['Allow'] == 'GET'
    body_of(response)


def test_html_404_is_rewritten_as_json_text():
    html = (b'<html><head><title>404 Not Found</title></head><body>'
            b'<h1>Not Found</h1>\n<p>The   resource could not be found.</p></body></html>')
    response = through(answering(404, html))
    assert response.status_int == 404
    message = body_of(response)['error_message']
    assert '<' not in message and '>' not in message
    assert 'The resource could not be found.' in message
    assert '  ' not in message


def test_plain_text_error_is_rewritten():
    response = through(answering(409, b'Conflict: busy', content_type='text/plain'))
    assert response.status_int == 409
    assert body_of(response)['error_message'] == 'Conflict: busy'


def test_empty_error_body_gets_the_reason_phrase():
    response = through(answering(503, b''))
    assert response.status_int == 503
    assert body_of(response)['error_message'] == 'Service Unavailable'


def test_long_error_text_is_truncated():
    response = through(answering(400, b'x' * 5000, content_type='text/plain'))
    assert len(body_of(response)['error_message']) == 500


def test_rewritten_error_keeps_allow_and_www_authenticate():
    response = through(answering(
        401, b'<p>Authentication required</p>',
        headers={'WWW-Authenticate': 'Keystone uri="http://ks/v3"',
                 'X-Other': 'dropped'}))
    assert response.status_int == 401
    assert response.headers['WWW-Authenticate'] == 'Keystone uri="http://ks/v3"'
    assert 'X-Other' not in response.headers
    assert body_of(response)['error_message'] == 'Authentication required'
    response = through(answering(405, b'', headers={'Allow': 'GET, PUT'}))
    assert response.headers['Allow'] == 'GET, PUT'


def test_json_error_passes_unchanged():
    payload = {'error_code': 409, 'error_message': 'busy', 'error_name': 409}
    response = through(answering(409, json.dumps(payload).encode(),
                                 content_type='application/json',
                                 headers={'X-Request': 'r1'}))
    assert response.status_int == 409
    assert response.json == payload
    assert response.headers['X-Request'] == 'r1'


@pytest.mark.parametrize('status', [200, 201, 204, 302])
def test_success_and_redirects_pass_unchanged(status):
    body = b'' if status == 204 else b'<p>hello</p>'
    response = through(answering(status, body))
    assert response.status_int == status
    assert response.content_type == 'text/html'
    assert response.body == body


@pytest.mark.parametrize('status', [204, 304])
def test_no_content_answers_carry_no_body(status):
    # Pecan renders None as 'null' even under a 204.
    response = through(answering(status, b'null', content_type='application/json'))
    assert response.status_int == status
    assert response.body == b''
    assert response.headers.get('Content-Length') in (None, '0')
