"""/v1/os-hosts, its allocations and its resource properties."""
import pecan

from blazar import policy
from blazar.api import controllers as c
from blazar.api import schemas
from blazar.api import views

RESOURCE_TYPE = 'physical:host'
_STR = {'type': 'string'}
_FLAG = {'type': 'string', 'description': "true, 1, yes or on; anything else is false"}
# Query parameters (as the OpenAPI document lists them; others are ignored).
ALLOCATION_QUERY = {'type': 'object', 'properties': {
    'lease_id': dict(_STR, description='only this lease (empty: any)'),
    'reservation_id': dict(_STR, description='only this reservation (empty: any)')}}
PROPERTIES_QUERY = {'type': 'object', 'properties': {
    'detail': _FLAG, 'all': dict(_FLAG, description=_FLAG['description']
                                 + ' (administrators: private ones too)')}}


def _allocation_filters():
    return {key: pecan.request.GET[key] for key in ALLOCATION_QUERY['properties']
            if pecan.request.GET.get(key)}


class MaintenanceController:
    """/v1/os-hosts/{host_id}/maintenance: PUT starts it, DELETE ends it."""

    def __init__(self, host_id):
        self.host_id = host_id

    @pecan.expose(generic=True, template='json')
    def index(self):
        pecan.abort(405)

    @index.when(method='PUT', template='json')
    def put(self):
        body = c.json_body()
        c.authorize('blazar:oshosts:maintenance')
        schemas.validate(schemas.HOST_MAINTENANCE, body)
        host = c.manager().set_host_maintenance(c.context(), host_id=self.host_id,
                                                values=body)
        return {'host': views.host(host)}

    @index.when(method='DELETE', template='json')
    def delete(self):
        c.authorize('blazar:oshosts:maintenance')
        c.manager().clear_host_maintenance(c.context(), host_id=self.host_id)
        c.status(204)


class HostController:

    def __init__(self, host_id):
        self.host_id = host_id
        self.maintenance = MaintenanceController(host_id)

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:oshosts:get')
        return {'host': views.host(c.manager().get_host(c.context(),
                                                        host_id=self.host_id))}

    @index.when(method='PUT', template='json')
    def put(self):
        body = c.json_body()
        c.authorize('blazar:oshosts:put')
        schemas.validate(schemas.HOST_UPDATE, body)
        host = c.manager().update_host(c.context(), host_id=self.host_id, values=body)
        return {'host': views.host(host)}

    @index.when(method='DELETE', template='json')
    def delete(self):
        c.authorize('blazar:oshosts:delete')
        c.manager().delete_host(c.context(), host_id=self.host_id)
        c.status(204)

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def allocation(self):
        c.authorize('blazar:oshosts:get_allocations')
        allocation = c.manager().get_host_allocation(
            c.context(), host_id=self.host_id, **_allocation_filters())
        return {'allocation': views.allocation(allocation)}

    @allocation.when(method='PUT', template='json')
    def reallocate(self):
        body = c.json_body()
        c.authorize('blazar:oshosts:reallocate')
        schemas.validate(schemas.HOST_REALLOCATE, body)
        allocation = c.manager().reallocate_host(c.context(), host_id=self.host_id,
                                                 **body)
        return {'allocation': views.allocation(allocation)}


class AllocationsController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:oshosts:get_allocations')
        allocations = c.manager().list_host_allocations(c.context(),
                                                        **_allocation_filters())
        return {'allocations': [views.allocation(a) for a in allocations]}


class PropertyController:

    def __init__(self, name):
        self.name = name

    @pecan.expose(generic=True)
    @c.read_only
    def index(self):
        pecan.abort(405)

    @index.when(method='PATCH', template='json')
    def patch(self):
        body = c.json_body()
        c.authorize('blazar:oshosts:update_resource_properties')
        schemas.validate(schemas.RESOURCE_PROPERTY_UPDATE, body)
        prop = c.manager().update_resource_property(
            c.context(), resource_type=RESOURCE_TYPE, name=self.name, values=body)
        return {'resource_property': views.resource_property(prop)}


class PropertiesController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:oshosts:get_resource_properties')
        ctx = c.context()
        include_private = c.flag('all') and policy.is_admin(ctx)
        props = c.manager().list_resource_properties(
            ctx, resource_type=RESOURCE_TYPE, detail=c.flag('detail'),
            include_private=include_private)
        return {'resource_properties': props}

    @pecan.expose()
    def _lookup(self, name, *remainder):
        if remainder:
            pecan.abort(404)
        return PropertyController(name), remainder


class HostsController:
    allocations = AllocationsController()
    properties = PropertiesController()

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:oshosts:get')
        return {'hosts': [views.host(h) for h in c.manager().list_hosts(c.context())]}

    @index.when(method='POST', template='json')
    def post(self):
        body = c.json_body()
        c.authorize('blazar:oshosts:post')
        schemas.validate(schemas.HOST_CREATE, body)
        host = c.manager().create_host(c.context(), values=body)
        c.status(201)
        return {'host': views.host(host)}

    @pecan.expose()
    def _lookup(self, host_id, *remainder):
        if remainder and remainder not in (('allocation',), ('maintenance',)):
            pecan.abort(404)
        return HostController(host_id), remainder
