"""The edge of the API: what a request must be before Pecan routes it.

Driven by the route table of the OpenAPI document (blazar/api/openapi.py),
so that the document and the server agree:

* a URL longer than :data:`MAX_URL_LENGTH` is a 414;
* a path or query string that is not UTF-8, or holds NUL, is a 400;
* the caller's ids must fit their columns (400);
* a method the document does not list for a documented path is a 405
  with ``Allow`` (HEAD goes with GET); OPTIONS answers 200 with ``Allow``;
* on an operation that takes a body, a Content-Type other than
  ``application/json`` (UTF-8) is a 415, a body over
  ``[oslo_middleware] max_request_body_size`` a 413, and the body must be
  a JSON object that passes blazar/api/validation.py (400); it is parsed
  once, here, and handed to the controller in the WSGI environment;
* on every other request the body and its Content-Type are ignored: they
  never reach Pecan (which would parse a form while routing).
"""
import io

from oslo_config import cfg
from oslo_middleware import sizelimit
import webob
import webob.exc

from blazar import exceptions
from blazar.api import errors
from blazar.api import openapi
from blazar.api import validation

CONF = cfg.CONF
CONF.register_opts(sizelimit.OPTS, group='oslo_middleware')

BODY_KEY = 'blazar.body'
READ_KEY = 'blazar.body_read'
ROUTE_KEY = 'blazar.route'
JSON = 'application/json'


class _Refusal(exceptions.BlazarException):
    """A 4xx of the edge (414, 415, 413, 405 with its Allow header)."""

    def __init__(self, code, message, headers=None):
        super().__init__(message)
        self.code = code
        self.headers = headers or {}


def _media_type(value):
    """(type, {param: value}) of a Content-Type header, lower-cased."""
    kind, _sep, rest = value.partition(';')
    params = {}
    for item in rest.split(';'):
        name, _sep, param = item.partition('=')
        if name.strip():
            params[name.strip().lower()] = param.strip().strip('"').lower()
    return kind.strip().lower(), params


def check_content_type(value):
    """415 unless the Content-Type is JSON in UTF-8 (absent counts as JSON)."""
    if not value or not value.strip():
        return
    kind, params = _media_type(value)
    if kind != JSON:
        raise _Refusal(415, 'Content-Type %s is not supported: send the body as '
                            '%s' % (value[:100], JSON))
    charset = params.get('charset')
    if charset not in (None, 'utf-8', 'utf8'):
        raise _Refusal(415, 'Content-Type %s is not supported: a JSON body is '
                            'UTF-8' % value[:100])


class _Options(Exception):
    """An OPTIONS request on a documented path: answered here."""

    def __init__(self, allow):
        super().__init__(allow)
        self.allow = allow


def allowed_methods(operations):
    """The Allow header of a documented path."""
    methods = {m.upper() for m in operations} | {'OPTIONS'}
    if 'GET' in methods:
        methods.add('HEAD')
    return ', '.join(sorted(methods))


def _read_body(environ):
    environ[READ_KEY] = True
    limit = CONF.oslo_middleware.max_request_body_size
    too_large = _Refusal(413, 'The request body is larger than %d bytes '
                              '([oslo_middleware] max_request_body_size)' % limit)
    length = environ.get('CONTENT_LENGTH')
    if length:
        try:
            length = int(length)
        except ValueError:
            raise _Refusal(400, 'Content-Length %r is not a number' % length[:20])
        if length > limit:
            raise too_large
    stream = environ.get('wsgi.input')
    if stream is None:
        return b''
    if length:
        data = stream.read(length)
    elif environ.get('HTTP_TRANSFER_ENCODING', '').lower() == 'chunked' or \
            environ.get('wsgi.input_terminated'):
        reader = sizelimit.LimitingReader(stream, limit)
        try:
            data = reader.read()
        except webob.exc.HTTPRequestEntityTooLarge:
            raise too_large
    else:
        data = b''
    if len(data) > limit:
        raise too_large
    return data


def drain(environ):
    """Read and drop a body nobody read, up to the size limit: a server
    that answers without reading what the client sent makes its socket
    reset the connection before the client reads the answer."""
    if environ.get(READ_KEY):
        return
    try:
        _read_body(environ)
    except (exceptions.BlazarException, OSError):
        pass


def _hide_body(environ):
    drain(environ)
    environ['wsgi.input'] = io.BytesIO(b'')
    environ['CONTENT_LENGTH'] = '0'
    environ.pop('CONTENT_TYPE', None)
    environ.pop('HTTP_TRANSFER_ENCODING', None)


def check(environ):
    """Apply the edge checks; returns nothing or raises _Refusal /
    InvalidInput. Leaves the parsed body in environ[BODY_KEY]."""
    url_length = (len(environ.get('SCRIPT_NAME', '')) + len(environ.get('PATH_INFO', ''))
                  + len(environ.get('QUERY_STRING', '')))
    if url_length > validation.MAX_URL_LENGTH:
        raise _Refusal(414, 'The URL is longer than %d characters'
                       % validation.MAX_URL_LENGTH)
    path = validation.check_path(environ.get('PATH_INFO', ''))
    validation.check_query(environ.get('QUERY_STRING', ''))
    validation.check_identity(environ)
    method = environ.get('REQUEST_METHOD', 'GET').upper()
    template, operations = openapi.path_operations(path)
    operation = None
    if operations is not None:
        environ[ROUTE_KEY] = template
        if method == 'OPTIONS':
            raise _Options(allowed_methods(operations))
        operation = operations.get('get' if method == 'HEAD' else method.lower())
        if operation is None:
            raise _Refusal(405, '%s is not allowed on %s' % (method, template),
                           {'Allow': allowed_methods(operations)})
    if operation is None or 'requestBody' not in operation:
        _hide_body(environ)
        return
    check_content_type(environ.get('CONTENT_TYPE'))
    raw = _read_body(environ)
    environ['wsgi.input'] = io.BytesIO(raw)
    environ['CONTENT_LENGTH'] = str(len(raw))
    environ.pop('HTTP_TRANSFER_ENCODING', None)
    # Pecan must not read a form while routing.
    environ['CONTENT_TYPE'] = JSON
    environ[BODY_KEY] = validation.parse_body(raw)


class Edge:

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            check(environ)
        except _Options as options:
            drain(environ)
            response = webob.Response(status=200, headers={'Allow': options.allow})
            del response.content_type
            return response(environ, start_response)
        except exceptions.BlazarException as exc:
            drain(environ)
            response = errors.error_response(exc.code, exc.message)
            response.headers.update(getattr(exc, 'headers', {}))
            return response(environ, start_response)
        return self.app(environ, start_response)
