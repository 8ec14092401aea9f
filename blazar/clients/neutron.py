"""The service's only door to Neutron (networking API v2.0), through a
keystoneauth Adapter (python-neutronclient's Python bindings are deprecated).

Why it looks like this:

* Credentials, endpoint and HTTP behaviour come from the standard
  keystoneauth options of ``[neutron]`` (any auth plugin: ``password``
  through Keystone, or ``admin_token`` with a fixed ``endpoint`` + ``token``
  for the simulator), like ``[nova]`` and ``[placement]``. The endpoint is
  Neutron's root (as in the catalog); paths start with ``/v2.0``.
* Callers get plain dicts and lists and ``blazar.exceptions`` errors:
  ``NeutronUnavailable`` (503) when Neutron cannot be reached or says it is
  unavailable, ``NeutronNotFound`` for a missing object, ``NeutronConflict``
  when Neutron refuses a change (an address in use), ``NeutronError`` (502)
  with Neutron's message otherwise.
* Clean-up calls are idempotent: deleting what is already gone is a no-op.
* One client per process (``get_client``), built lazily and thread-safely;
  ``reset_client`` drops it when the configuration changes (tests).
"""
import functools
import logging
from urllib import parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading

from blazar import clients
from blazar import exceptions
from blazar.conf import CONF

LOG = logging.getLogger(__name__)
GROUP = 'neutron'
API = '/v2.0'


class _HttpError(Exception):
    """A non-2xx answer; never leaves this module."""

    def __init__(self, status, detail, kind=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind

    @property
    def reason(self):
        return '%s (HTTP %s)' % (self.detail, self.status)


def _http_error(resp):
    detail, kind = resp.reason or 'HTTP %s' % resp.status_code, None
    try:
        error = resp.json()['NeutronError']
        detail = error.get('message') or detail
        kind = error.get('type')
    except (ValueError, KeyError, TypeError):
        if resp.text:
            detail = resp.text.strip()[:500]
    return _HttpError(resp.status_code, detail, kind)


def _to_blazar(error):
    if error.status in (503, 504):
        return exceptions.NeutronUnavailable(reason=error.reason)
    if error.status == 409:
        return exceptions.NeutronConflict(reason=error.reason)
    if error.status == 404:
        return exceptions.NeutronNotFound(reason=error.reason)
    return exceptions.NeutronError(reason=error.reason)


def _public(method):
    """Leave no ``_HttpError`` escape ``method``."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except _HttpError as error:
            raise _to_blazar(error) from error
    return wrapper


def build_adapter(session=None):
    """A keystoneauth ``Adapter`` for Neutron, configured from ``[neutron]``."""
    opts = CONF[GROUP]
    try:
        if session is None:
            auth = ks_loading.load_auth_from_conf_options(CONF, GROUP)
            if auth is None:
                raise exceptions.NeutronUnavailable(
                    reason='no credentials in [neutron] (set auth_type)')
            session = ks_loading.load_session_from_conf_options(CONF, GROUP, auth=auth)
        return ks_loading.load_adapter_from_conf_options(
            CONF, GROUP, session=session, raise_exc=False,
            service_type=opts.service_type or 'network',
            interface=opts.valid_interfaces or ['internal', 'public'])
    except ks_exc.ClientException as exc:
        raise exceptions.NeutronUnavailable(reason=str(exc)) from exc


def _query(**params):
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            pairs.append((key, str(item)))
    return ('?' + parse.urlencode(pairs)) if pairs else ''


def _fip_dict(body):
    return {key: body.get(key) for key in (
        'id', 'floating_ip_address', 'floating_network_id', 'subnet_id', 'project_id',
        'port_id', 'fixed_ip_address', 'status', 'description')} | {
        'tags': list(body.get('tags') or [])}


class NeutronClient:
    """Blazar's operations on Neutron, answering plain dicts."""

    def __init__(self, adapter=None):
        self.adapter = adapter if adapter is not None else build_adapter()

    def _call(self, method, path, body=None):
        kwargs = {'raise_exc': False}
        if body is not None:
            kwargs['json'] = body
        try:
            resp = self.adapter.request(API + path, method, **kwargs)
        except (ks_exc.ConnectionError, ks_exc.EndpointNotFound, ks_exc.MissingAuthPlugin,
                ks_exc.AuthorizationFailure, ks_exc.DiscoveryFailure) as exc:
            raise exceptions.NeutronUnavailable(reason=str(exc)) from exc
        except ks_exc.ClientException as exc:
            raise exceptions.NeutronError(reason=str(exc)) from exc
        if not 200 <= resp.status_code < 300:
            raise _http_error(resp)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise exceptions.NeutronError(
                reason='invalid JSON from %s %s' % (method, path)) from exc

    # --- networks and subnets ----------------------------------------------
    @_public
    def get_network(self, network_id):
        """The network, or None when Neutron has none of that id."""
        try:
            return self._call('GET', '/networks/%s' % parse.quote(network_id, safe=''))[
                'network']
        except _HttpError as error:
            if error.status == 404:
                return None
            raise

    @_public
    def list_subnets(self, network_id):
        return self._call('GET', '/subnets' + _query(network_id=network_id))['subnets']

    # --- floating IPs --------------------------------------------------------
    @_public
    def list_floatingips(self, address=None, network_id=None, tags=None, project_id=None):
        body = self._call('GET', '/floatingips' + _query(
            floating_ip_address=address, floating_network_id=network_id,
            tags=','.join(tags) if tags else None, project_id=project_id))
        return [_fip_dict(f) for f in body['floatingips']]

    @_public
    def create_floatingip(self, network_id, subnet_id, address, project_id,
                          description=None):
        body = {'floating_network_id': network_id, 'subnet_id': subnet_id,
                'floating_ip_address': address, 'project_id': project_id}
        if description:
            body['description'] = description
        return _fip_dict(self._call('POST', '/floatingips', {'floatingip': body})[
            'floatingip'])

    @_public
    def set_tags(self, fip_id, tags):
        self._call('PUT', '/floatingips/%s/tags' % fip_id, {'tags': sorted(tags)})

    @_public
    def disassociate(self, fip_id):
        """Take the address off its port (no-op when it has none or is gone)."""
        try:
            self._call('PUT', '/floatingips/%s' % fip_id, {'floatingip': {'port_id': None}})
        except _HttpError as error:
            if error.status != 404:
                raise

    @_public
    def delete_floatingip(self, fip_id):
        """Delete the floating IP; gone already is fine."""
        try:
            self._call('DELETE', '/floatingips/%s' % fip_id)
        except _HttpError as error:
            if error.status != 404:
                raise


_cached = clients.Cached(lambda: NeutronClient())


def get_client():
    """The process-wide ``NeutronClient``, built on first use."""
    return _cached.get()


def reset_client():
    """Forget the cached client (after ``[neutron]`` options changed)."""
    _cached.reset()
