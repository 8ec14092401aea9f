"""Controllers translate HTTP into policy checks and manager calls, nothing more."""
import json

import pecan

from blazar import exceptions
from blazar import policy
from blazar.manager import rpcapi

_manager = None


def manager():
    global _manager
    if _manager is None:
        _manager = rpcapi.ManagerAPI()
    return _manager


def reset_manager():
    global _manager
    _manager = None


def context():
    return pecan.request.context


def authorize(action, target=None):
    policy.authorize(context(), action, target)


def json_body():
    """The request body as a JSON object (400 if it is anything else)."""
    request = pecan.request
    content_type = request.content_type or 'application/json'
    if content_type != 'application/json':
        raise exceptions.InvalidInput(
            reason='Content-Type must be application/json, not %s' % content_type)
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise exceptions.InvalidInput(reason='the body is not valid JSON: %s' % exc)
    if not isinstance(body, dict):
        raise exceptions.InvalidInput(reason='the body must be a JSON object')
    return body


def flag(name):
    """A boolean query parameter: true/1/yes are true, anything else false."""
    return str(pecan.request.GET.get(name, '')).lower() in ('true', '1', 'yes', 'on')


def read_only(handler):
    """Mark the default handler of a generic controller: it answers GET and
    HEAD only; other methods without a handler of their own get a 405."""
    handler.read_only = True
    return handler


def status(code):
    pecan.response.status = code
