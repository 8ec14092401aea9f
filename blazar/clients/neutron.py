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
import logging
from urllib import parse

from blazar import clients
from blazar import exceptions
from blazar.clients import adapters

LOG = logging.getLogger(__name__)
GROUP = 'neutron'
API = '/v2.0'


def _http_error(resp):
    def neutron_error(body):
        error = body['NeutronError']
        return error.get('message'), error.get('type')
    return adapters.http_error(resp, neutron_error)


def _to_blazar(error):
    if error.status in (503, 504):
        return exceptions.NeutronUnavailable(reason=error.reason)
    if error.status == 409:
        return exceptions.NeutronConflict(reason=error.reason)
    if error.status == 404:
        return exceptions.NeutronNotFound(reason=error.reason)
    return exceptions.NeutronError(reason=error.reason)


_public = adapters.translating(_to_blazar)
_HttpError = adapters.HttpError


def build_adapter(session=None):
    """A keystoneauth ``Adapter`` for Neutron, configured from ``[neutron]``."""
    return adapters.adapter_from_conf(GROUP, 'network', exceptions.NeutronUnavailable,
                                      session=session)


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
        return adapters.call(self.adapter, method, API + path, body, _http_error,
                             exceptions.NeutronUnavailable, exceptions.NeutronError)[1]

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
