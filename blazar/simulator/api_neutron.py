"""HTTP front of the simulated Neutron, served under ``/networking``
(the endpoint a catalog names; paths go on with ``/v2.0``)."""
import json
import re

from blazar.simulator import errors
from blazar.simulator import neutron_state

PREFIX = '/networking'
VERSION = '/v2.0'
# List filters the simulator understands (others are ignored, as Neutron
# ignores unknown ones only for some resources: enough for Blazar).
FILTERS = {
    'networks': ('id', 'name', 'router:external', 'project_id'),
    'subnets': ('id', 'network_id', 'ip_version', 'cidr'),
    'floatingips': ('id', 'floating_ip_address', 'floating_network_id', 'project_id',
                    'port_id', 'subnet_id'),
}


def versions_doc(root):
    return {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
        {'href': root + VERSION, 'rel': 'self'}]}]}


def _filters(req, kind):
    found = {}
    for key in FILTERS[kind]:
        values = req.GET.getall(key)
        if values:
            found[key] = values
    return found


def _body(req, key):
    try:
        data = json.loads(req.body or b'null')
    except ValueError:
        raise neutron_state.bad_request('Malformed request body')
    if not isinstance(data, dict) or not isinstance(data.get(key), (dict, list)):
        raise neutron_state.bad_request('Resource body required')
    return data[key]


def dispatch(req, cloud, caller, path):
    """``(status, body)`` of one request under ``/v2.0``."""
    neutron = cloud.neutron
    method = req.method
    match = re.fullmatch(r'/(networks|subnets|floatingips)(?:/([^/]+))?(/tags)?', path)
    if match is None:
        raise neutron_state.not_found('HTTPNotFound', 'The resource could not be found.')
    kind, ident, tags = match.groups()
    if kind in ('networks', 'subnets'):
        if method != 'GET' or tags:
            raise neutron_state.NeutronError(405, 'HTTPMethodNotAllowed',
                                             'The method is not allowed.')
        if ident is None:
            lister = neutron.list_networks if kind == 'networks' else neutron.list_subnets
            return 200, {kind: lister(_filters(req, kind))}
        getter = neutron.get_network if kind == 'networks' else neutron.get_subnet
        return 200, {kind[:-1]: getter(ident)}
    if tags:
        if method != 'PUT' or ident is None:
            raise neutron_state.NeutronError(405, 'HTTPMethodNotAllowed',
                                             'The method is not allowed.')
        return 200, {'tags': neutron.set_tags(caller, ident, _body(req, 'tags'))}
    if ident is None:
        if method == 'GET':
            wanted = [t for value in req.GET.getall('tags') for t in value.split(',') if t]
            return 200, {'floatingips': neutron.list_floatingips(
                caller, _filters(req, 'floatingips'), wanted)}
        if method == 'POST':
            return 201, {'floatingip': neutron.create_floatingip(
                caller, _body(req, 'floatingip'))}
    else:
        if method == 'GET':
            return 200, {'floatingip': neutron.get_floatingip(caller, ident)}
        if method == 'PUT':
            return 200, {'floatingip': neutron.update_floatingip(
                caller, ident, _body(req, 'floatingip'))}
        if method == 'DELETE':
            neutron.delete_floatingip(caller, ident)
            return 204, None
    raise neutron_state.NeutronError(405, 'HTTPMethodNotAllowed',
                                     'The method is not allowed.')


def as_neutron_error(error):
    """Any simulator error (an injected fault) in Neutron's shape."""
    if isinstance(error, neutron_state.NeutronError):
        return error
    if error is None:
        return neutron_state.NeutronError(500, 'HTTPInternalServerError',
                                          'Request Failed: internal server error while '
                                          'processing your request.')
    kinds = {400: 'BadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden',
             404: 'HTTPNotFound', 409: 'Conflict', 503: 'ServiceUnavailable'}
    return neutron_state.NeutronError(error.code, kinds.get(error.code, 'HTTPError'),
                                      error.message)


__all__ = ['PREFIX', 'dispatch', 'as_neutron_error', 'versions_doc', 'errors']
