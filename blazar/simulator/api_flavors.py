"""Flavors, extra specs and flavor access.

Blazar's instance reservations create a private flavor per reservation,
tag it with extra specs and share it with the owner at lease start.
"""
import re

from blazar.simulator import errors
from blazar.simulator import request
from blazar.simulator import views
from blazar.simulator.request import Route

POLICY = 'os_compute_api:os-flavor-%s'
# Nova (2.86+) validates the extra specs of the namespaces it knows; these
# are the two whose values matter to Blazar. A class or trait name is only
# checked for its form (Nova also knows the standard ones by name).
_SPEC_GROUP = r'(?:[a-zA-Z0-9_-]{1,64})?'
_RESOURCE_SPEC = re.compile(r'resources%s:[A-Z0-9_]+' % _SPEC_GROUP)
_TRAIT_SPEC = re.compile(r'trait%s:[A-Z0-9_]+' % _SPEC_GROUP)
_KNOWN_NAMESPACE = re.compile(r'(?:resources|trait)%s' % _SPEC_GROUP)


def _is_public_param(call):
    value = call.param('is_public')
    if value is None:
        return True
    if value.lower() == 'none':
        return None
    return call.bool_param('is_public')


def list_flavors(call, detail=False):
    found = call.cloud.list_flavors(call.caller, _is_public_param(call))
    min_ram = call.int_param('minRam', default=0)
    min_disk = call.int_param('minDisk', default=0)
    found = [f for f in found if f['ram'] >= min_ram and f['disk'] >= min_disk]
    found = request.paginate(found, call)
    return 200, {'flavors': [views.flavor(f, call.v, call.base, detail)
                             for f in found]}


def list_flavors_detail(call):
    return list_flavors(call, detail=True)


def show_flavor(call, flavor_id):
    flavor = call.cloud.get_flavor(call.caller, flavor_id)
    return 200, {'flavor': views.flavor(flavor, call.v, call.base)}


def create_flavor(call):
    body = call.body('flavor')
    public = body.get('os-flavor-access:is_public', True)
    if not isinstance(public, bool):
        raise errors.BadRequest('Invalid input for field/attribute '
                                'os-flavor-access:is_public.')
    flavor_id = body.get('id')
    if flavor_id is not None:
        flavor_id = request.text(str(flavor_id), 'id')
    try:
        rxtx = float(body.get('rxtx_factor', 1.0))
    except (TypeError, ValueError):
        raise errors.BadRequest('Invalid input for field/attribute '
                                'rxtx_factor.')
    flavor = call.cloud.create_flavor(
        name=request.text(body.get('name'), 'name').strip(),
        ram=request.integer(body.get('ram'), 'ram', 1),
        vcpus=request.integer(body.get('vcpus'), 'vcpus', 1),
        disk=request.integer(body.get('disk'), 'disk', 0),
        flavor_id=flavor_id,
        ephemeral=request.integer(body.get('OS-FLV-EXT-DATA:ephemeral', 0),
                                  'OS-FLV-EXT-DATA:ephemeral', 0),
        swap=request.integer(body.get('swap') or 0, 'swap', 0),
        rxtx_factor=rxtx, is_public=public,
        description=body.get('description'))
    return 200, {'flavor': views.flavor(flavor, call.v, call.base)}


def delete_flavor(call, flavor_id):
    call.cloud.delete_flavor(flavor_id)
    return 202, None


# --- extra specs -----------------------------------------------------------
def list_extra_specs(call, flavor_id):
    return 200, {'extra_specs': call.cloud.get_extra_specs(call.caller,
                                                           flavor_id)}


def _check_extra_specs(call, specs):
    if call.v < (2, 86) or not isinstance(specs, dict):
        return
    for name, value in specs.items():
        value = str(value)
        if _RESOURCE_SPEC.fullmatch(name):
            try:
                int(value)
            except ValueError:
                raise errors.BadRequest("Validation failed; '%s' is not a valid "
                                        "integer value." % value)
        elif _TRAIT_SPEC.fullmatch(name):
            if value not in ('required', 'forbidden'):
                raise errors.BadRequest("Validation failed; '%s' is not one of: "
                                        "required, forbidden." % value)
        elif ':' in name and _KNOWN_NAMESPACE.fullmatch(name.split(':', 1)[0]):
            raise errors.BadRequest("Validation failed; extra spec '%s' does not "
                                    "appear to be a valid extra spec." % name)


def create_extra_specs(call, flavor_id):
    specs = call.body('extra_specs')
    _check_extra_specs(call, specs)
    return 200, {'extra_specs': call.cloud.set_extra_specs(flavor_id, specs)}


def show_extra_spec(call, flavor_id, key):
    specs = call.cloud.get_extra_specs(call.caller, flavor_id)
    if key not in specs:
        raise errors.NotFound('Flavor %s has no extra specs with key %s.'
                              % (flavor_id, key))
    return 200, {key: specs[key]}


def update_extra_spec(call, flavor_id, key):
    body = call.body()
    if list(body) != [key]:
        raise errors.BadRequest('Request body and URI mismatch')
    _check_extra_specs(call, body)
    return 200, call.cloud.set_extra_specs(flavor_id, body)


def delete_extra_spec(call, flavor_id, key):
    call.cloud.delete_extra_spec(flavor_id, key)
    return 200, None


# --- access ------------------------------------------------------------------
def list_access(call, flavor_id):
    projects = call.cloud.list_flavor_access(flavor_id)
    return 200, views.flavor_access(flavor_id, projects)


def flavor_action(call, flavor_id):
    body = call.body()
    if len(body) != 1 or not isinstance(next(iter(body.values())), dict):
        raise errors.BadRequest('Invalid flavor action')
    action, args = next(iter(body.items()))
    tenant = request.text(args.get('tenant'), 'tenant')
    if action == 'addTenantAccess':
        projects = call.cloud.add_flavor_access(flavor_id, tenant)
    elif action == 'removeTenantAccess':
        projects = call.cloud.remove_flavor_access(flavor_id, tenant)
    else:
        raise errors.BadRequest('There is no such action: %s' % action)
    return 200, views.flavor_access(flavor_id, projects)


FLAVOR = r'/flavors/(?P<flavor_id>[^/]+)'
SPECS = FLAVOR + r'/os-extra_specs'
KEY = SPECS + r'/(?P<key>[^/]+)'
ROUTES = [
    Route('GET', r'/flavors', list_flavors),
    Route('GET', r'/flavors/detail', list_flavors_detail),
    Route('POST', r'/flavors', create_flavor, POLICY % 'manage:create'),
    Route('GET', FLAVOR, show_flavor),
    Route('DELETE', FLAVOR, delete_flavor, POLICY % 'manage:delete'),
    Route('GET', SPECS, list_extra_specs),
    Route('POST', SPECS, create_extra_specs,
          'os_compute_api:os-flavor-extra-specs:create'),
    Route('GET', KEY, show_extra_spec),
    Route('PUT', KEY, update_extra_spec,
          'os_compute_api:os-flavor-extra-specs:update'),
    Route('DELETE', KEY, delete_extra_spec,
          'os_compute_api:os-flavor-extra-specs:delete'),
    Route('GET', FLAVOR + r'/os-flavor-access', list_access,
          POLICY % 'access'),
    Route('POST', FLAVOR + r'/action', flavor_action,
          POLICY % 'access:add_tenant_access'),
]
