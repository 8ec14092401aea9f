"""Admin APIs of the infrastructure: hypervisors, services, zones, aggregates.

These are what Blazar uses to enroll hosts, discover their zone, watch
their health and move them between aggregates.
"""
from oslo_utils import uuidutils

from blazar.simulator import errors
from blazar.simulator import request
from blazar.simulator import views
from blazar.simulator.request import Route

V2_53 = (2, 53)
V2_52 = (2, 52)
HYP_POLICY = 'os_compute_api:os-hypervisors:%s'
AGG_POLICY = 'os_compute_api:os-aggregates:%s'


# --- hypervisors -----------------------------------------------------------
def list_hypervisors(call, detail=False):
    pattern = with_servers = None
    if call.v >= V2_53:
        pattern = call.param('hypervisor_hostname_pattern')
        with_servers = call.bool_param('with_servers')
        if pattern is not None and (call.param('marker')
                                    or call.param('limit')):
            raise errors.BadRequest('Paging over hypervisors with the '
                                    'hypervisor_hostname_pattern query '
                                    'parameter is not supported.')
    found = call.cloud.list_hypervisors(pattern, with_servers)
    key = 'id' if call.v >= V2_53 else 'int_id'
    found = request.paginate(found, call, key=key)
    return 200, {'hypervisors': [views.hypervisor(h, call.v, detail)
                                 for h in found]}


def list_hypervisors_detail(call):
    return list_hypervisors(call, detail=True)


def show_hypervisor(call, ref):
    with_servers = False
    if call.v >= V2_53:
        if not uuidutils.is_uuid_like(ref):
            raise errors.BadRequest('Invalid uuid %s' % ref)
        with_servers = call.bool_param('with_servers')
    elif not ref.isdigit():
        raise errors.NotFound('Hypervisor with ID %s could not be found.'
                              % ref)
    hyp = call.cloud.get_hypervisor(ref, with_servers)
    return 200, {'hypervisor': views.hypervisor(hyp, call.v)}


def search_hypervisors(call, pattern, with_servers=False):
    found = call.cloud.list_hypervisors(pattern, with_servers)
    return 200, {'hypervisors': [views.hypervisor(h, call.v, detail=False)
                                 for h in found]}


def hypervisor_servers(call, pattern):
    return search_hypervisors(call, pattern, with_servers=True)


# --- services ----------------------------------------------------------------
def list_services(call):
    found = call.cloud.list_services(host=call.param('host'),
                                     binary=call.param('binary'))
    return 200, {'services': [views.service(s, call.v) for s in found]}


def update_service(call, ref):
    body = call.body()
    if not ({'status', 'forced_down'} & set(body)):
        raise errors.BadRequest('No updates were requested. Fields '
                                "'status' or 'forced_down' should be "
                                'specified.')
    if 'disabled_reason' in body and body.get('status') != 'disabled':
        raise errors.BadRequest('Specifying a disabled_reason is only '
                                'supported when the status is disabled.')
    forced = body.get('forced_down')
    if forced is not None and not isinstance(forced, bool):
        raise errors.BadRequest('Invalid input for field/attribute '
                                'forced_down.')
    service = call.cloud.update_service(
        ref, status=body.get('status'),
        disabled_reason=body.get('disabled_reason'), forced_down=forced)
    return 200, {'service': views.service(service, call.v)}


def legacy_update_service(call, action):
    body = call.body()
    host, binary = body.get('host'), body.get('binary')
    if not call.cloud.list_services(host=host, binary=binary):
        raise errors.NotFound('Service %s/%s not found.' % (host, binary))
    changes = {'enable': {'status': 'enabled'},
               'disable': {'status': 'disabled'},
               'disable-log-reason': {
                   'status': 'disabled',
                   'disabled_reason': body.get('disabled_reason')},
               'force-down': {'forced_down': body.get('forced_down')}}
    service = call.cloud.update_service(host, **changes[action])
    reply = {'host': host, 'binary': binary, 'status': service['status']}
    if action == 'disable-log-reason':
        reply['disabled_reason'] = service['disabled_reason']
    if action == 'force-down':
        reply['forced_down'] = service['forced_down']
    return 200, {'service': reply}


# --- availability zones ------------------------------------------------------
def list_zones(call):
    return 200, views.zones(call.cloud.list_zones(), detail=False)


def list_zones_detail(call):
    return 200, views.zones(call.cloud.list_zones(), detail=True)


# --- aggregates --------------------------------------------------------------
def list_aggregates(call):
    return 200, {'aggregates': [views.aggregate(a, call.v)
                                for a in call.cloud.list_aggregates()]}


def create_aggregate(call):
    body = call.body('aggregate')
    name = request.text(body.get('name'), 'name')
    zone = request.text(body.get('availability_zone'), 'availability_zone',
                        required=False)
    agg = call.cloud.create_aggregate(name.strip(), zone)
    return 200, {'aggregate': views.aggregate(agg, call.v, created=True)}


def show_aggregate(call, agg_id):
    return 200, {'aggregate': views.aggregate(
        call.cloud.get_aggregate(agg_id), call.v)}


def update_aggregate(call, agg_id):
    body = call.body('aggregate')
    values = {k: body[k] for k in ('name', 'availability_zone') if k in body}
    if not values or set(body) - set(values):
        raise errors.BadRequest('Invalid input for field/attribute '
                                'aggregate.')
    if 'name' in values:
        values['name'] = request.text(values['name'], 'name')
    agg = call.cloud.update_aggregate(agg_id, **values)
    return 200, {'aggregate': views.aggregate(agg, call.v)}


def delete_aggregate(call, agg_id):
    call.cloud.delete_aggregate(agg_id)
    return 200, None


def aggregate_action(call, agg_id):
    body = call.body()
    if len(body) != 1:
        raise errors.BadRequest('Invalid aggregate action')
    action, args = next(iter(body.items()))
    if not isinstance(args, dict):
        raise errors.BadRequest('Invalid input for field/attribute %s.'
                                % action)
    if action == 'add_host':
        agg = call.cloud.aggregate_add_host(
            agg_id, request.text(args.get('host'), 'host'))
    elif action == 'remove_host':
        agg = call.cloud.aggregate_remove_host(
            agg_id, request.text(args.get('host'), 'host'))
    elif action == 'set_metadata':
        metadata = args.get('metadata')
        if not isinstance(metadata, dict):
            raise errors.BadRequest('Invalid input for field/attribute '
                                    'metadata.')
        agg = call.cloud.aggregate_set_metadata(agg_id, metadata)
    else:
        raise errors.BadRequest('Invalid aggregate action %s' % action)
    return 200, {'aggregate': views.aggregate(agg, call.v)}


ID = r'(?P<%s>[^/]+)'
ROUTES = [
    Route('GET', r'/os-hypervisors', list_hypervisors, HYP_POLICY % 'list'),
    Route('GET', r'/os-hypervisors/detail', list_hypervisors_detail,
          HYP_POLICY % 'list-detail'),
    Route('GET', r'/os-hypervisors/%s/search' % (ID % 'pattern'),
          search_hypervisors, HYP_POLICY % 'search', max_version=V2_52),
    Route('GET', r'/os-hypervisors/%s/servers' % (ID % 'pattern'),
          hypervisor_servers, HYP_POLICY % 'servers', max_version=V2_52),
    Route('GET', r'/os-hypervisors/%s' % (ID % 'ref'), show_hypervisor,
          HYP_POLICY % 'show'),
    Route('GET', r'/os-services', list_services,
          'os_compute_api:os-services:list'),
    Route('PUT', r'/os-services/(?P<action>enable|disable|'
          r'disable-log-reason|force-down)', legacy_update_service,
          'os_compute_api:os-services:update', max_version=V2_52),
    Route('PUT', r'/os-services/%s' % (ID % 'ref'), update_service,
          'os_compute_api:os-services:update', min_version=V2_53),
    Route('GET', r'/os-availability-zone', list_zones),
    Route('GET', r'/os-availability-zone/detail', list_zones_detail,
          'os_compute_api:os-availability-zone:detail'),
    Route('GET', r'/os-aggregates', list_aggregates, AGG_POLICY % 'index'),
    Route('POST', r'/os-aggregates', create_aggregate, AGG_POLICY % 'create'),
    Route('GET', r'/os-aggregates/%s' % (ID % 'agg_id'), show_aggregate,
          AGG_POLICY % 'show'),
    Route('PUT', r'/os-aggregates/%s' % (ID % 'agg_id'), update_aggregate,
          AGG_POLICY % 'update'),
    Route('DELETE', r'/os-aggregates/%s' % (ID % 'agg_id'), delete_aggregate,
          AGG_POLICY % 'delete'),
    Route('POST', r'/os-aggregates/%s/action' % (ID % 'agg_id'),
          aggregate_action, AGG_POLICY % 'action'),
]
