"""Errors of the simulated cloud, each knowing its Nova fault body name.

Nova wraps every error as ``{"<kind>": {"code": N, "message": "..."}}``;
python-novaclient reads the first key's ``message``, so matching the shape
keeps client-side error messages identical to a real cloud's.  Placement
answers ``{"errors": [{"status", "title", "detail", "request_id", "code"}]}``
instead (``PlacementError``).
"""
import http


class SimError(Exception):
    code = 500
    kind = 'computeFault'

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def body(self):
        return {self.kind: {'code': self.code, 'message': self.message}}


class BadRequest(SimError):
    code = 400
    kind = 'badRequest'


class Unauthorized(SimError):
    code = 401
    kind = 'unauthorized'


class Forbidden(SimError):
    code = 403
    kind = 'forbidden'


class NotFound(SimError):
    code = 404
    kind = 'itemNotFound'


class MethodNotAllowed(SimError):
    code = 405
    kind = 'badMethod'


class NotAcceptable(SimError):
    code = 406
    kind = 'notAcceptable'


class Conflict(SimError):
    code = 409
    kind = 'conflictingRequest'     # Nova's name (not webob's 'conflict')


class Fault(SimError):
    """An arbitrary status, for injected faults (``faults``)."""

    # Nova's fault body names by status (nova.api.openstack.wsgi); the
    # others are 'computeFault'.  409 follows ``Conflict`` above.
    KINDS = {400: 'badRequest', 401: 'unauthorized', 403: 'forbidden',
             404: 'itemNotFound', 405: 'badMethod', 409: 'conflictingRequest',
             413: 'overLimit', 415: 'badMediaType', 429: 'overLimit',
             501: 'notImplemented', 503: 'serviceUnavailable'}

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.kind = self.KINDS.get(code, 'computeFault')


class PlacementError(SimError):
    """An error of the simulated Placement, in Placement's own shape.

    ``error_code`` is Placement's machine-readable code (``code`` in the
    body from microversion 1.23): ``placement.concurrent_update`` for a
    stale generation, ``placement.inventory.inuse``... or
    ``placement.undefined_code``.
    """
    UNDEFINED = 'placement.undefined_code'

    def __init__(self, code, detail, error_code=UNDEFINED):
        super().__init__(detail)
        self.code = code
        self.error_code = error_code

    def body(self, version=None, request_id=None):
        entry = {'status': self.code,
                 'title': http.HTTPStatus(self.code).phrase,
                 'detail': self.message, 'request_id': request_id}
        if version is None or version >= (1, 23):
            entry['code'] = self.error_code
        return {'errors': [entry]}
