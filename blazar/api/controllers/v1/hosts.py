"""/v1/os-hosts, its allocations and its resource properties."""
import pecan

from blazar import policy
from blazar.api import controllers as c
from blazar.api import paging
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


def _window(field, word):
    return dict(schemas.DATE, description="reservations whose %s is %s this UTC "
                "date ('YYYY-MM-DD HH:MM' or 'now')" % (field, word))


WINDOW = ('start_before', 'start_after', 'end_before', 'end_after')
# GET /v1/os-hosts/allocations: a page of hosts (by id) with the
# reservations holding them.
ALLOCATIONS_LIST = {'type': 'object', 'properties': dict(
    ALLOCATION_QUERY['properties'],
    **paging.page_params(('resource_id',), 'resource_id'),
    resource_id={'type': 'string', 'pattern': schemas.digits(2 ** 31 - 1),
                 'description': 'only this host (its id)'},
    start_before=_window('start', 'before'), start_after=_window('start', 'at or after'),
    end_before=_window('end', 'before'), end_after=_window('end', 'at or after'))}
HOST_SORT_KEYS = ('id', 'hypervisor_hostname', 'created_at')
HOST_STATES = ('available', 'failed', 'maintenance')
MAX_CAPABILITY_FILTER = 255 + 1 + schemas.MAX_CAPABILITY_VALUE
# GET /v1/os-hosts (others are ignored, as upstream does).
HOSTS_LIST = {'type': 'object', 'properties': dict(
    paging.page_params(HOST_SORT_KEYS, 'id'),
    reservable={'type': 'string',
                'pattern': schemas.any_case('true', 'false', 'yes', 'no', '1', '0'),
                'description': 'true or false: hosts that are (not) reservable'},
    state={'type': 'string', 'enum': list(HOST_STATES),
           'description': 'hosts in this health state'},
    capability={'type': 'string', 'pattern': '^[^=]+=', 'maxLength': MAX_CAPABILITY_FILTER,
                'description': "'name=value': hosts whose extra capability name "
                               "has exactly this value"})}


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
        params = paging.read(ALLOCATIONS_LIST)
        pager = paging.Pager(params)
        window = {key: params[key] for key in WINDOW if key in params}
        if pager.page is None and not window and 'resource_id' not in params:
            allocations = c.manager().list_host_allocations(c.context(),
                                                            **_allocation_filters())
        else:
            page = pager.page and {k: v for k, v in pager.page.items() if k != 'sort_key'}
            allocations = c.manager().list_host_allocations(
                c.context(), window=window, host_id=params.get('resource_id'),
                page=page, **_allocation_filters())
        return pager.answer('allocations', [views.allocation(a) for a in allocations],
                            id_of=lambda a: a['resource_id'])


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
        params = paging.read(HOSTS_LIST)
        pager = paging.Pager(params)
        filters = {}
        if 'reservable' in params:
            filters['reservable'] = params['reservable'].lower() in ('true', 'yes', '1')
        if 'state' in params:
            filters['state'] = params['state']
        if 'capability' in params:
            filters['capability'] = params['capability'].split('=', 1)
        if not filters and pager.page is None:  # as before paging existed
            hosts = c.manager().list_hosts(c.context())
        else:
            hosts = c.manager().list_hosts(c.context(), filters=filters, page=pager.page)
        return pager.answer('hosts', [views.host(h) for h in hosts],
                            id_of=lambda h: h['id'])

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
