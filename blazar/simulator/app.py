"""WSGI front end of the simulated Nova, Placement and Neutron (plain WebOb).

Compute is served under ``/v2.1``, Placement under ``/placement``
(``api_placement``) and Neutron under ``/networking`` (``api_neutron``), all
from the one ``cloud`` the app holds, so swapping ``app.cloud`` swaps them.

Auth mimics the Keystone-less real-Nova test stack so one client setup
works against both: ``X-Auth-Token: <user>:<project>``, user ``admin`` is
an admin, anyone else a member of the project.  Every answer under
``/v2.1`` echoes the negotiated microversion the way Nova does.

Each request is first logged and checked against the cloud's injected
faults (``Cloud.inject_fault``), so a fault looks like a real HTTP error
to any client and never touches the cloud's state.
"""
import json
import logging
import uuid

import webob

from blazar.simulator import api_flavors
from blazar.simulator import api_infra
from blazar.simulator import api_neutron
from blazar.simulator import api_placement
from blazar.simulator import api_servers
from blazar.simulator import control
from blazar.simulator import errors
from blazar.simulator import faults
from blazar.simulator import microversion
from blazar.simulator import request
from blazar.simulator import state

LOG = logging.getLogger(__name__)
PREFIX = '/v2.1'
ROUTES = api_infra.ROUTES + api_flavors.ROUTES + api_servers.ROUTES


def authenticate(req, keystone=False):
    """The caller of a request, else 401.

    Without Keystone: ``X-Auth-Token: <user>:<project>``; as in the
    real-Nova test stack, an ``X-Roles`` header overrides the roles (admin
    iff it lists ``admin``). With ``keystone``, keystonemiddleware has
    validated the token (dropping any such headers the client sent) and
    says who it belongs to.
    """
    if keystone:
        if req.headers.get('X-Identity-Status') != 'Confirmed':
            raise errors.Unauthorized('The request you have made requires '
                                      'authentication.')
        roles = [r.strip() for r in req.headers.get('X-Roles', '').split(',')]
        return state.Caller(user_id=req.headers['X-User-Id'],
                            project_id=req.headers['X-Project-Id'],
                            is_admin='admin' in roles)
    token = req.headers.get('X-Auth-Token')
    if not token:
        raise errors.Unauthorized('The request you have made requires '
                                  'authentication.')
    user_id, _sep, project_id = token.partition(':')
    roles = req.headers.get('X-Roles')
    if roles:
        is_admin = 'admin' in [r.strip() for r in roles.split(',')]
    else:
        is_admin = user_id == 'admin'
    return state.Caller(user_id=user_id, project_id=project_id or user_id,
                        is_admin=is_admin)


class _Injected(Exception):
    """An injected fault's error, with the microversion to echo."""

    def __init__(self, error, version):
        super().__init__(error.message)
        self.error = error
        self.version = version


class NovaApp:
    """The WSGI application; one per ``Cloud``."""

    def __init__(self, cloud, routes=ROUTES, keystone=False, control_api=False):
        self.cloud = cloud
        self.routes = list(routes)
        self.keystone = keystone
        # /_simulator/...: tests only (blazar/simulator/control.py).
        self.control_api = control_api

    def __call__(self, environ, start_response):
        req = webob.Request(environ)
        request_id = 'req-' + str(uuid.uuid4())
        version = None
        path = req.path_info.rstrip('/')
        if self.control_api and path.startswith(control.PREFIX + '/'):
            try:
                status, body = control.dispatch(req, path[len(control.PREFIX):], self.cloud)
                resp = self._json(status, body)
            except errors.SimError as exc:
                resp = self._json(exc.code, exc.body())
            LOG.info('Control: %s %s -> %s', req.method, req.path_qs, resp.status_int)
            return resp(environ, start_response)
        if path == api_placement.PREFIX or \
                path.startswith(api_placement.PREFIX + '/'):
            return self._placement(req, path, request_id)(environ,
                                                           start_response)
        if path == api_neutron.PREFIX or path.startswith(api_neutron.PREFIX + '/'):
            return self._neutron(req, path, request_id)(environ, start_response)
        try:
            root = req.host_url + req.script_name
            self._intercept(req, path)
            if path == '':
                resp = self._json(200, microversion.versions_doc(root))
            elif path == PREFIX:
                resp = self._json(200, {
                    'version': microversion.version_doc(root)})
            elif not path.startswith(PREFIX + '/'):
                raise errors.NotFound('The resource could not be found.')
            else:
                caller = authenticate(req, self.keystone)
                version = microversion.negotiate(req.headers)
                resp = self._dispatch(req, path[len(PREFIX):], caller,
                                      version)
        except _Injected as exc:
            version = exc.version
            resp = self._json(exc.error.code, exc.error.body())
        except errors.SimError as exc:
            resp = self._json(exc.code, exc.body())
        except Exception:   # a bug here must look like Nova's 500
            LOG.exception('Simulated Nova failed on %s %s', req.method,
                          req.path_qs)
            resp = self._json(500, errors.SimError(
                'Unexpected API Error.').body())
        resp.headers['x-openstack-request-id'] = request_id
        resp.headers['x-compute-request-id'] = request_id
        if version is not None:
            text = microversion.to_str(version)
            resp.headers[microversion.HEADER] = 'compute ' + text
            resp.headers[microversion.LEGACY_HEADER] = text
            resp.headers['Vary'] = microversion.VARY
        LOG.debug('%s %s -> %s', req.method, req.path_qs, resp.status_int)
        return resp(environ, start_response)

    def _placement(self, req, path, request_id):
        """Serve one Placement request; errors in Placement's shape."""
        version = None
        headers = {}
        try:
            self._intercept(req, path)
            sub = path[len(api_placement.PREFIX):]
            if sub == '':
                status, body = 200, api_placement.versions_doc()
            else:
                caller = authenticate(req, self.keystone)
                version = api_placement.negotiate(req.headers)
                status, body, headers = api_placement.dispatch(
                    req, self.cloud, caller, sub, version)
        except _Injected as exc:
            error = api_placement.as_placement_error(exc.error)
            try:
                version = api_placement.negotiate(req.headers)
            except errors.SimError:
                version = None
            status, body = error.code, error.body(version, request_id)
        except errors.SimError as exc:
            error = api_placement.as_placement_error(exc)
            status, body = error.code, error.body(version, request_id)
        except Exception:   # a bug here must look like Placement's 500
            LOG.exception('Simulated Placement failed on %s %s', req.method,
                          req.path_qs)
            error = api_placement.as_placement_error(None)
            status, body = error.code, error.body(version, request_id)
        resp = self._json(status, body)
        for key, value in headers.items():
            resp.headers[key] = value
        resp.headers['x-openstack-request-id'] = request_id
        if version is not None:
            resp.headers[api_placement.HEADER] = (
                'placement ' + api_placement.to_str(version))
            resp.headers['Vary'] = api_placement.VARY
        LOG.debug('%s %s -> %s', req.method, req.path_qs, resp.status_int)
        return resp

    def _neutron(self, req, path, request_id):
        """Serve one Neutron request; errors in Neutron's shape."""
        try:
            self._intercept(req, path)
            sub = path[len(api_neutron.PREFIX):]
            if sub == '':
                status, body = 200, api_neutron.versions_doc(
                    req.host_url + req.script_name + api_neutron.PREFIX)
            elif not (sub == api_neutron.VERSION
                      or sub.startswith(api_neutron.VERSION + '/')):
                raise errors.NotFound('The resource could not be found.')
            else:
                caller = authenticate(req, self.keystone)
                status, body = api_neutron.dispatch(
                    req, self.cloud, caller, sub[len(api_neutron.VERSION):])
        except _Injected as exc:
            error = api_neutron.as_neutron_error(exc.error)
            status, body = error.code, error.body()
        except errors.SimError as exc:
            error = api_neutron.as_neutron_error(exc)
            status, body = error.code, error.body()
        except Exception:   # a bug here must look like Neutron's 500
            LOG.exception('Simulated Neutron failed on %s %s', req.method, req.path_qs)
            error = api_neutron.as_neutron_error(None)
            status, body = error.code, error.body()
        resp = self._json(status, body)
        resp.headers['x-openstack-request-id'] = request_id
        LOG.debug('%s %s -> %s', req.method, req.path_qs, resp.status_int)
        return resp

    def _intercept(self, req, path):
        """Log the request and apply the injected fault it triggers.

        Raises ``_Injected`` when the fault answers with an error.
        """
        if path == PREFIX or path.startswith(PREFIX + '/'):
            logged = path[len(PREFIX):]
        else:
            logged = req.path_info       # version discovery and strays
        action = None
        if req.method == 'POST' and logged.endswith('/action'):
            action = faults.action_name(req.body)
        fault = self.cloud.faults.intercept(req.method, logged, action)
        if fault is None:
            return
        LOG.debug('Injected fault on %s %s: %s after %ss', req.method,
                  req.path_qs, fault.status, fault.delay)
        self.cloud.faults.wait(fault.delay)
        if fault.status is None:
            return
        version = None
        if path.startswith(PREFIX + '/'):
            try:
                version = microversion.negotiate(req.headers)
            except errors.SimError:
                pass
        raise _Injected(fault.error(), version)

    def _dispatch(self, req, path, caller, version):
        path_known = False
        for route in self.routes:
            match = route.regex.match(path)
            if match is None or not route.accepts(version):
                continue
            path_known = True
            if route.method != req.method:
                continue
            call = request.Call(req, self.cloud, caller, version)
            if route.admin:
                call.admin_only(route.admin)
            result = route.handler(call, **match.groupdict())
            status, body = result[:2]
            resp = self._json(status, body)
            for key, value in (result[2] if len(result) > 2 else {}).items():
                resp.headers[key] = value
            return resp
        if path_known:
            raise errors.MethodNotAllowed('The method specified is not '
                                          'allowed for this resource.')
        raise errors.NotFound('The resource could not be found.')

    @staticmethod
    def _json(status, body):
        resp = webob.Response(status=status)
        if body is None:
            resp.content_type = None
            resp.body = b''
        else:
            resp.content_type = 'application/json'
            resp.charset = None
            resp.body = json.dumps(body).encode()
        return resp
