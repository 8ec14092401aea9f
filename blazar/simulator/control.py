"""The simulator's control API, for tests only: ``/_simulator/...``.

Off unless ``[simulator] control_api = true`` (a 404, as from Nova,
otherwise). It lets a test that runs the simulator as a separate process
(``blazar-simulator``: a tempest run, an operator's drill) do what an
in-process test does with the ``Cloud`` object. No authentication: never
enable it where anyone but the tester reaches the simulator.

``GET /_simulator/faults``
    The armed faults: ``{"faults": [{"id", "method", "path_pattern",
    "action", "status", "message", "delay", "remaining", "skip",
    "probability", "hits"}]}``.
``POST /_simulator/faults``
    Arm one (``Cloud.inject_fault``'s arguments as JSON; ``method`` and
    ``path_pattern`` required, ``times: null`` until cleared): 201 with
    ``{"fault": {...}}``, 400 for a bad argument.
``DELETE /_simulator/faults``
    Disarm them all (requests being delayed go on at once): 204.
``GET /_simulator/requests`` / ``DELETE /_simulator/requests``
    The request log ``{"requests": [[method, path, action]...]}``, or empty
    it.
``PUT /_simulator/hosts/<host>/failure``
    ``{"mode": "down"}``: the silent failure (nova-compute stops reporting,
    no notification, as in Nova); ``forced_down`` and ``disabled`` (with a
    ``reason``) as an operator's. 200 with the compute service.
``DELETE /_simulator/hosts/<host>/failure``
    Every failure of the host undone: 200 with the compute service.
"""
import json
import re

from blazar.simulator import errors

PREFIX = '/_simulator'
_FAILURE = re.compile(r'^/hosts/(?P<host>[^/]+)/failure$')
_FAULT_ARGS = ('status', 'times', 'message', 'action', 'delay', 'skip', 'probability')


def fault_view(fault):
    return {'id': fault.id, 'method': fault.method, 'path_pattern': fault.path_pattern,
            'action': fault.action, 'status': fault.status, 'message': fault.message,
            'delay': fault.delay, 'remaining': fault.remaining, 'skip': fault.skip,
            'probability': fault.probability, 'hits': fault.hits}


def _plain(value):
    """JSON-ready (dates as ISO 8601 strings)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


def _body(req):
    try:
        body = json.loads(req.body or b'{}')
    except ValueError:
        raise errors.BadRequest('The body is not JSON.')
    if not isinstance(body, dict):
        raise errors.BadRequest('The body must be a JSON object.')
    return body


def dispatch(req, path, cloud):
    """(status, body) of a control request; ``path`` after the prefix."""
    if path == '/faults':
        if req.method == 'GET':
            return 200, {'faults': [fault_view(f) for f in cloud.faults.pending]}
        if req.method == 'DELETE':
            cloud.clear_faults()
            return 204, None
        if req.method == 'POST':
            body = _body(req)
            unknown = set(body) - set(_FAULT_ARGS) - {'method', 'path_pattern'}
            if unknown or not body.get('method') or not body.get('path_pattern'):
                raise errors.BadRequest(
                    'A fault needs method and path_pattern, and takes %s only%s.'
                    % (', '.join(_FAULT_ARGS),
                       ' (not %s)' % ', '.join(sorted(unknown)) if unknown else ''))
            try:
                re.compile(body['path_pattern'])
                fault = cloud.inject_fault(
                    body['method'], body['path_pattern'],
                    **{k: body[k] for k in _FAULT_ARGS if k in body})
            except (ValueError, TypeError, re.error) as exc:
                raise errors.BadRequest(str(exc))
            return 201, {'fault': fault_view(fault)}
        raise errors.MethodNotAllowed('GET, POST or DELETE.')
    if path == '/requests':
        if req.method == 'GET':
            return 200, {'requests': [list(r) for r in cloud.requests]}
        if req.method == 'DELETE':
            cloud.clear_requests()
            return 204, None
        raise errors.MethodNotAllowed('GET or DELETE.')
    match = _FAILURE.match(path)
    if match is not None:
        host = match.group('host')
        try:
            if req.method == 'PUT':
                body = _body(req)
                return 200, {'service': _plain(cloud.fail_host(
                    host, mode=body.get('mode', 'down'), reason=body.get('reason')))}
            if req.method == 'DELETE':
                return 200, {'service': _plain(cloud.recover_host(host))}
        except ValueError as exc:
            raise errors.BadRequest(str(exc))
        raise errors.MethodNotAllowed('PUT or DELETE.')
    raise errors.NotFound('The resource could not be found.')
