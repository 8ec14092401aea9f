"""What the keystoneauth-based clients (Placement, Neutron) share.

Each builds its Adapter from its own configuration group, reads a non-2xx
answer into an :class:`HttpError` that never leaves the client, and turns
that error into the client's ``blazar.exceptions`` at its public methods
(:func:`translating`); only the shape of the service's error body and the
mapping to exceptions differ.
"""
import functools

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading

from blazar.conf import CONF


class HttpError(Exception):
    """A non-2xx answer; never leaves its client module. ``code`` is the
    service's own error code or type, when its body gives one."""

    def __init__(self, status, detail, code=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code

    @property
    def reason(self):
        return '%s (HTTP %s)' % (self.detail, self.status)


def http_error(resp, read_body, error_class=HttpError):
    """The error of a non-2xx ``resp``; ``read_body(json)`` gives (detail,
    code) from the service's error shape. A body of another shape gives its
    text (cut), or the HTTP reason."""
    detail, code = resp.reason or 'HTTP %s' % resp.status_code, None
    try:
        found, code = read_body(resp.json())
        detail = found or detail
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        if resp.text:
            detail = resp.text.strip()[:500]
    return error_class(resp.status_code, detail, code)


# keystoneauth's failures that mean the service cannot be reached now.
UNREACHABLE = (ks_exc.ConnectionError, ks_exc.EndpointNotFound, ks_exc.MissingAuthPlugin,
               ks_exc.AuthorizationFailure, ks_exc.DiscoveryFailure)


def call(adapter, method, path, body, read_error, unavailable, failed):
    """``(status, JSON body or None)`` of a 2xx answer; otherwise the
    ``read_error(resp)`` error. A service out of reach raises
    ``unavailable``, any other transport failure or a body that is not JSON
    ``failed``."""
    kwargs = {'raise_exc': False}
    if body is not None:
        kwargs['json'] = body
    try:
        resp = adapter.request(path, method, **kwargs)
    except UNREACHABLE as exc:
        raise unavailable(reason=str(exc)) from exc
    except ks_exc.ClientException as exc:
        raise failed(reason=str(exc)) from exc
    if not 200 <= resp.status_code < 300:
        raise read_error(resp)
    if resp.status_code == 204 or not resp.content:
        return resp.status_code, None
    try:
        return resp.status_code, resp.json()
    except ValueError as exc:
        raise failed(reason='invalid JSON from %s %s' % (method, path)) from exc


def translating(to_blazar):
    """Decorator of a client's public methods: no :class:`HttpError` leaves
    them, ``to_blazar(error)`` is raised instead."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except HttpError as error:
                raise to_blazar(error) from error
        return wrapper
    return decorate


def adapter_from_conf(group, service_type, unavailable, session=None, **extra):
    """A keystoneauth Adapter configured from ``[group]`` (errors are
    answered, not raised: ``raise_exc=False``). ``unavailable`` is the
    client's 503 exception, raised when there are no credentials or
    keystoneauth cannot build the adapter. The set_default()s of a group do
    not survive CONF.reset(): the service type and interfaces fall back
    explicitly."""
    opts = CONF[group]
    try:
        if session is None:
            auth = ks_loading.load_auth_from_conf_options(CONF, group)
            if auth is None:
                raise unavailable(reason='no credentials in [%s] (set auth_type)' % group)
            session = ks_loading.load_session_from_conf_options(CONF, group, auth=auth)
        return ks_loading.load_adapter_from_conf_options(
            CONF, group, session=session, raise_exc=False,
            service_type=opts.service_type or service_type,
            interface=opts.valid_interfaces or ['internal', 'public'], **extra)
    except ks_exc.ClientException as exc:
        raise unavailable(reason=str(exc)) from exc
