"""Controllers translate HTTP into policy checks and manager calls, nothing more."""
import pecan

from blazar import policy
from blazar.api import validation
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
    """The request body as a JSON object: parsed and checked once, at the
    edge (blazar/api/middleware/edge.py: 415, 413, 400 there)."""
    from blazar.api.middleware import edge  # imports the route table
    request = pecan.request
    body = request.environ.get(edge.BODY_KEY)
    if body is None:  # not through the edge (a unit test's bare app)
        edge.check_content_type(request.content_type)
        body = validation.parse_body(request.body)
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
