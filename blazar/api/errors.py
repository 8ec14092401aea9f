"""The one error body of the API: {"error_code", "error_message", "error_name"},
and the one log line of each refused request."""
import json
import logging
import re

import webob
import webob.exc

from blazar import exceptions

LOG = logging.getLogger(__name__)


def error_response(code, message):
    body = {'error_code': code, 'error_message': message, 'error_name': code}
    response = webob.Response(status=code, content_type='application/json',
                              charset='UTF-8')
    response.text = json.dumps(body)
    return response


def from_exception(exc):
    """A JSON error response for any exception; unknown ones are logged and
    answered with a generic 500, never a traceback."""
    if isinstance(exc, exceptions.BlazarException):
        if exc.code >= 500:
            LOG.warning('%s: %s', exc.name, exc.message)
        return error_response(exc.code, exc.message)
    if isinstance(exc, webob.exc.HTTPException):
        message = exc.detail or exc.explanation or exc.title
        if exc.code == 404 and not exc.detail:
            message = 'The resource could not be found.'
        response = error_response(exc.code, message)
        if exc.code == 405 and exc.headers.get('Allow'):
            response.headers['Allow'] = exc.headers['Allow']
        return response
    LOG.exception('Unexpected error')
    return error_response(500, 'Internal Server Error')


class JsonErrors:
    """Last line of defence: whatever fails below answers JSON, and error
    responses that some layer wrote as text or HTML are rewritten as JSON."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        try:
            response = request.get_response(self.app)
        except Exception as exc:  # noqa: BLE001  nothing may escape as a traceback
            response = from_exception(exc)
        if response.status_int >= 400 and not _ours(response):
            rewritten = error_response(response.status_int, _message(response))
            for header in ('Allow', 'WWW-Authenticate', 'Retry-After'):
                if header in response.headers:
                    rewritten.headers[header] = response.headers[header]
            response = rewritten
        if response.status_int == 405 and 'Allow' not in response.headers:
            allow = _allow(request.path_info)
            if allow:
                response.headers['Allow'] = allow
        if response.status_int in (204, 304) and response.body:
            # Pecan renders a controller's None as ``null`` even for a 204:
            # a body there is left on a persistent connection and read as
            # the start of the next response (``BadStatusLine: nullHTTP/1.1``).
            response.body = b''
        if 400 <= response.status_int < 500:
            log_refusal(environ, response)
        return response(environ, start_response)


def _allow(path):
    from blazar.api import openapi
    from blazar.api.middleware import edge
    operations = openapi.path_operations(path)[1]
    return edge.allowed_methods(operations) if operations else None


_UNPRINTABLE = re.compile(r'[\x00-\x1f\x7f]')


def _printable(text, limit=300):
    """One line of text, control characters escaped, bounded."""
    text = _UNPRINTABLE.sub(lambda m: '\\x%02x' % ord(m.group()), text)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def log_refusal(environ, response):
    """One INFO line per refused request: request id, the caller's project,
    the route and the message (never a body)."""
    from blazar.api import openapi
    path = environ.get('PATH_INFO', '')
    try:
        path = path.encode('latin-1').decode('utf-8', 'replace')
    except UnicodeEncodeError:
        pass
    route = environ.get('blazar.route') or openapi.path_operations(path)[0]
    body = _json(response)
    message = body.get('error_message') if isinstance(body, dict) else None
    LOG.info('%(status)s %(method)s %(route)s (%(path)s) request %(request)s '
             'project %(project)s: %(message)s', {
                 'status': response.status_int,
                 'method': _printable(environ.get('REQUEST_METHOD', '-'), 20),
                 'route': route or 'unknown route',
                 'path': _printable(path, 200),
                 'request': environ.get('openstack.request_id', '-'),
                 'project': _printable(environ.get('HTTP_X_PROJECT_ID') or '-', 64),
                 'message': _printable(str(message or response.status))})


def _json(response):
    if response.content_type != 'application/json' or not response.body:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _ours(response):
    body = _json(response)
    return isinstance(body, dict) and 'error_code' in body


def _message(response):
    """The message of an error written by another layer (text, HTML, or
    JSON such as keystonemiddleware's {"error": {"message": ...}})."""
    body = _json(response)
    if isinstance(body, dict):
        inner = body.get('error', body)
        if isinstance(inner, dict) and inner.get('message'):
            return str(inner['message'])
    text = response.text if response.body and body is None else ''
    text = ' '.join(re.sub(r'<[^>]+>', ' ', text).split())[:500]
    return text or response.status.split(' ', 1)[-1]
