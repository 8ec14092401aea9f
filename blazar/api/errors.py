"""The one error body of the API: {"error_code", "error_message", "error_name"}."""
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
        return response(environ, start_response)


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
