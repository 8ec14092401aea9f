"""The edge of the API (blazar/api/middleware/edge.py, blazar/api/validation.py):
what reaches Pecan, and the 4xx of what does not."""
import io
import json
import logging

import pytest
import webob

from blazar import exceptions
from blazar.api import errors
from blazar.api import openapi
from blazar.api import validation
from blazar.api.middleware import edge


def inner(seen):
    def app(environ, start_response):
        seen.append(dict(environ, body=environ['wsgi.input'].read()))
        response = webob.Response(json={'ok': True})
        return response(environ, start_response)
    return app


def call(path, method='GET', body=None, content_type=None, headers=None,
         query=''):
    seen = []
    request = webob.Request.blank(path, method=method, headers=headers or {})
    request.environ['QUERY_STRING'] = query
    if body is not None:
        request.body = body
    if content_type is not None:
        request.environ['CONTENT_TYPE'] = content_type
    else:
        request.environ.pop('CONTENT_TYPE', None)
    response = request.get_response(errors.JsonErrors(edge.Edge(inner(seen))))
    return response, (seen[0] if seen else None)


def message(response):
    return json.loads(response.text)['error_message']


@pytest.mark.parametrize('content_type', [
    'multipart/form-data', 'multipart/form-data; boundary=x', 'text/plain',
    'application/x-www-form-urlencoded', 'application/xml',
    'application/json; charset=latin-1', 'application/jsonx'])
def test_a_body_route_refuses_other_content_types(content_type):
    response, seen = call('/v1/leases', 'POST', b'{"name": "x"}', content_type)
    assert response.status_int == 415
    assert seen is None
    assert message(response).startswith('Content-Type %s is not supported' % content_type)


@pytest.mark.parametrize('content_type', [None, '', 'application/json',
                                          'Application/JSON; charset="UTF-8"'])
def test_json_or_nothing_is_parsed_once(content_type):
    response, seen = call('/v1/leases', 'POST', b'{"name": "x"}', content_type)
    assert response.status_int == 200
    assert seen[edge.BODY_KEY] == {'name': 'x'}
    assert seen['CONTENT_TYPE'] == 'application/json'  # Pecan reads no form
    assert seen['body'] == b'{"name": "x"}'


@pytest.mark.parametrize('method, path', [('DELETE', '/v1/leases/l1'),
                                          ('GET', '/v1/leases'),
                                          ('GET', '/v1/nothing')])
def test_other_routes_never_see_a_body_or_its_type(method, path):
    response, seen = call(path, method, b'--x\r\n', 'multipart/form-data')
    assert response.status_int == 200
    assert 'CONTENT_TYPE' not in seen and seen['body'] == b''


def test_an_empty_body_is_the_empty_object():
    response, seen = call('/v1/leases/l1', 'PUT', b'', 'application/json')
    assert seen[edge.BODY_KEY] == {}


@pytest.mark.parametrize('path, allow', [
    ('/v1/leases', 'GET, HEAD, OPTIONS, POST'),
    ('/v1/leases/l1', 'DELETE, GET, HEAD, OPTIONS, PUT'),
    ('/v1/os-hosts/1/maintenance', 'DELETE, OPTIONS, PUT'),
    ('/v1/leases.json', 'GET, HEAD, OPTIONS, POST'),
])
def test_a_method_the_document_does_not_list_is_a_405_with_allow(path, allow):
    response, seen = call(path, 'PATCH', b'{}', 'application/json')
    assert response.status_int == 405 and seen is None
    assert response.headers['Allow'] == allow
    response, seen = call(path, 'OPTIONS')
    assert response.status_int == 200 and seen is None
    assert response.headers['Allow'] == allow


def test_head_goes_with_get():
    response, seen = call('/v1/leases', 'HEAD')
    assert seen is not None


def test_a_body_over_the_limit_is_a_formatted_413():
    response, seen = call('/v1/leases', 'POST', b'{"name": "%s"}' % (b'x' * 120000),
                          'application/json')
    assert response.status_int == 413 and seen is None
    assert message(response) == ('The request body is larger than 114688 bytes '
                                 '([oslo_middleware] max_request_body_size)')
    assert '%s' not in response.text


def test_a_long_url_is_a_414():
    response, seen = call('/v1/leases/' + 'x' * validation.MAX_URL_LENGTH)
    assert response.status_int == 414 and seen is None
    response, seen = call('/v1/leases', query='a=' + 'x' * validation.MAX_URL_LENGTH)
    assert response.status_int == 414


@pytest.mark.parametrize('path, query, words', [
    ('/v1/leases/a%00b', '', "the path segment 3 ('a\\x00b') contains U+0000"),
    ('/v1/leases/%ff', '', 'the path is not valid UTF-8'),
    ('/v1/leases', 'x=%ff', 'the query string is not valid UTF-8'),
    ('/v1/leases', 'x=%ED%A0%80', 'the query string is not valid UTF-8'),
    ('/v1/leases', 'lease_id=a%00', 'query parameter lease_id contains U+0000'),
    ('/v1/leases', 'a%00=1', 'the name of query parameter'),
])
def test_paths_and_queries_are_utf_8_without_nul(path, query, words):
    response, seen = call(path, query=query)
    assert response.status_int == 400 and seen is None
    assert words in message(response)


@pytest.mark.parametrize('header', ['X-Project-Id', 'X-User-Id'])
def test_identities_fit_their_columns(header):
    response, seen = call('/v1/leases', headers={header: 'p' * 256})
    assert response.status_int == 400 and seen is None
    assert 'longer than 255 characters' in message(response)
    response, seen = call('/v1/leases', headers={header: 'p' * 255})
    assert response.status_int == 200


def test_an_unread_body_is_drained():
    stream = io.BytesIO(b'x' * 100)
    environ = {'CONTENT_LENGTH': '100', 'wsgi.input': stream}
    edge.drain(environ)
    assert stream.tell() == 100
    edge.drain(environ)  # once
    assert stream.tell() == 100


# --- validation ------------------------------------------------------------

@pytest.mark.parametrize('raw, words', [
    (b'[1]', 'the body must be a JSON object'),
    (b'{"a": NaN}', 'NaN is not a JSON value'),
    (b'{"a": Infinity}', 'Infinity is not a JSON value'),
    (b'{"a": 1e400}', 'the body holds the number 1e400, which is out of range'),
    (b'{"a": -1e400}', 'out of range'),
    (b'{"a": ' + b'1' * 4301 + b'}', 'the body is not valid JSON'),
    (b'{"a": ' + b'[' * 65 + b']' * 65 + b'}', 'nested more than 64 levels deep'),
    (b'\xff', 'the body is not valid UTF-8 (byte 0)'),
    (b'{"a": "\\u0000"}', 'Invalid body: a contains U+0000 (NUL)'),
    (b'{"a": ["x", "\\udc00"]}', 'Invalid body: a[1] contains a lone UTF-16 surrogate'),
    (b'{"r": [{"n\\u0000": 1}]}', "the key 'n\\x00' in r[0] contains U+0000"),
])
def test_bodies_are_strict_json(raw, words):
    with pytest.raises(exceptions.InvalidInput) as info:
        validation.parse_body(raw)
    assert words in info.value.message


@pytest.mark.parametrize('raw, value', [
    (b'', {}), (b'  ', {}), (b'\xef\xbb\xbf{"a": 1}', {'a': 1}),
    (b'{"a": "\\ud83d\\ude00"}', {'a': '\U0001f600'}),
    (b'{"a": ' + b'[' * 63 + b']' * 63 + b'}', None),
    (b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', None),
])
def test_bodies_that_pass(raw, value):
    body = validation.parse_body(raw)
    assert value is None or body == value


def test_nesting_depth_skips_strings_and_needs_no_recursion():
    assert validation.nesting_depth('{"a": "[[[[", "b": [[1], {"c": []}]}') == 4
    assert validation.nesting_depth('[' * 100000 + ']' * 100000) == 100000


# --- one log line per refusal ----------------------------------------------

def test_each_4xx_leaves_one_info_line_without_the_body(caplog):
    caplog.set_level(logging.INFO, logger=errors.__name__)
    response, _seen = call('/v1/leases', 'POST', b'{"name": "secret\\u0000"}',
                           'application/json',
                           headers={'X-Project-Id': 'proj1'})
    assert response.status_int == 400
    lines = [r.getMessage() for r in caplog.records if r.name == errors.__name__]
    assert len(lines) == 1
    assert lines[0].startswith('400 POST /v1/leases (/v1/leases) request - project '
                               'proj1: Invalid body: name contains U+0000')
    assert 'secret' not in lines[0]


def test_successes_and_5xx_leave_no_refusal_line(caplog):
    caplog.set_level(logging.INFO, logger=errors.__name__)
    call('/v1/leases')
    assert not [r for r in caplog.records if r.levelno == logging.INFO]


def test_the_route_is_the_template(caplog):
    caplog.set_level(logging.INFO, logger=errors.__name__)
    call('/v1/leases/l1', 'PATCH')
    assert '405 PATCH /v1/leases/{lease_id} (/v1/leases/l1)' in caplog.text


def test_control_characters_are_escaped_in_the_log(caplog):
    caplog.set_level(logging.INFO, logger=errors.__name__)
    call('/v1/leases/a%0ab', 'PATCH')
    assert '\\x0a' in caplog.text and 'a\nb' not in caplog.text


def test_path_operations_follow_pecan():
    assert openapi.path_operations('/v1/openapi')[0] == '/v1/openapi.json'
    assert openapi.path_operations('/v1/leases/')[0] == '/v1/leases'
    assert openapi.path_operations('/v1/os-hosts/a?b/allocation')[0] == \
        '/v1/os-hosts/{host_id}/allocation'
    assert openapi.path_operations('/v1/leases/x/y') == (None, None)
