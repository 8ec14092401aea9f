"""Servers and server groups.

Users boot into reservations here (scheduler hint ``reservation=<id>`` or a
reservation flavor); Blazar lists servers by host or flavor, snapshots and
deletes them at lease end.
"""
from blazar.simulator import errors
from blazar.simulator import request
from blazar.simulator import views
from blazar.simulator.request import Route

LIST_FILTERS = ('all_tenants', 'project_id', 'tenant_id', 'host', 'node',
                'flavor', 'name', 'status', 'image', 'reservation_id')


# --- server groups ---------------------------------------------------------
def create_server_group(call):
    body = call.body('server_group')
    name = request.text(body.get('name'), 'name')
    if call.v >= (2, 64):
        policy, rules = body.get('policy'), body.get('rules') or {}
        if not isinstance(rules, dict):
            raise errors.BadRequest('Invalid input for field/attribute '
                                    'rules.')
    else:
        policies = body.get('policies')
        if not isinstance(policies, list) or len(policies) != 1:
            raise errors.BadRequest('Invalid input for field/attribute '
                                    'policies.')
        policy, rules = policies[0], {}
    group = call.cloud.create_server_group(call.caller, name, policy, rules)
    return 200, {'server_group': views.server_group(group, call.v)}


def list_server_groups(call):
    groups = call.cloud.list_server_groups(
        call.caller, all_projects=call.bool_param('all_projects'))
    offset = call.int_param('offset', default=0)
    limit = call.int_param('limit', default=1000)
    groups = groups[offset:offset + limit]
    return 200, {'server_groups': [views.server_group(g, call.v)
                                   for g in groups]}


def show_server_group(call, group_id):
    group = call.cloud.get_server_group(call.caller, group_id)
    return 200, {'server_group': views.server_group(group, call.v)}


def delete_server_group(call, group_id):
    call.cloud.delete_server_group(call.caller, group_id)
    return 204, None


# --- servers -----------------------------------------------------------------
def _count(value, name):
    return request.integer(1 if value is None else value, name, 1)


def create_server(call):
    data = call.body()
    body = call.body('server')
    hints = data.get('os:scheduler_hints',
                     data.get('OS-SCH-HNT:scheduler_hints')) or {}
    if not isinstance(hints, dict):
        raise errors.BadRequest('Invalid input for field/attribute '
                                'os:scheduler_hints.')
    if call.v >= (2, 37) and 'networks' not in body:
        raise errors.BadRequest("Invalid input for field/attribute server. "
                                "Value: %s. 'networks' is a required "
                                "property" % body)
    if call.v < (2, 74) and ({'host', 'hypervisor_hostname'} & set(body)):
        raise errors.BadRequest("Additional properties are not allowed "
                                "('host' was unexpected)")
    flavor_ref = request.text(str(body.get('flavorRef', '')), 'flavorRef')
    image_ref = body.get('imageRef') or None
    min_count = _count(body.get('min_count'), 'min_count')
    max_count = _count(body.get('max_count', min_count), 'max_count')
    servers = call.cloud.create_servers(
        call.caller, request.text(body.get('name'), 'name'),
        flavor_ref.rstrip('/').split('/')[-1],
        image_id=image_ref.rstrip('/').split('/')[-1] if image_ref else None,
        min_count=min_count, max_count=max_count,
        availability_zone=body.get('availability_zone'),
        scheduler_hints=hints, host=body.get('host'),
        node=body.get('hypervisor_hostname'),
        metadata=body.get('metadata'), description=body.get('description'))
    if body.get('return_reservation_id'):
        return 202, {'reservation_id': servers[0]['reservation_id']}
    return 202, {'server': views.server_created(servers[0], call.base)}


def list_servers(call, detail=False):
    filters = {k: call.param(k) for k in LIST_FILTERS
               if call.param(k) is not None}
    found = call.cloud.list_servers(call.caller, filters)
    found = request.paginate(found, call)
    if detail:
        body = [views.server(s, call.v, call.base, call.caller)
                for s in found]
    else:
        body = [views.server_brief(s, call.base) for s in found]
    return 200, {'servers': body}


def list_servers_detail(call):
    return list_servers(call, detail=True)


def show_server(call, server_id):
    server = call.cloud.get_server(call.caller, server_id)
    return 200, {'server': views.server(server, call.v, call.base,
                                        call.caller, show=True)}


def delete_server(call, server_id):
    call.cloud.delete_server(call.caller, server_id)
    return 204, None


def server_action(call, server_id):
    body = call.body()
    if len(body) != 1:
        raise errors.BadRequest('Invalid server action')
    action, args = next(iter(body.items()))
    if args is not None and not isinstance(args, dict):
        raise errors.BadRequest('Invalid input for field/attribute %s.'
                                % action)
    result = call.cloud.server_action(call.caller, server_id, action, args)
    if action == 'createImage':
        if call.v >= (2, 45):
            return 202, result
        location = '%s/v2/images/%s' % (call.base, result['image_id'])
        return 202, None, {'Location': location}
    return 202, None


GROUP = r'/os-server-groups/(?P<group_id>[^/]+)'
SERVER = r'/servers/(?P<server_id>[^/]+)'
ROUTES = [
    Route('GET', r'/os-server-groups', list_server_groups),
    Route('POST', r'/os-server-groups', create_server_group),
    Route('GET', GROUP, show_server_group),
    Route('DELETE', GROUP, delete_server_group),
    Route('GET', r'/servers', list_servers),
    Route('POST', r'/servers', create_server),
    Route('GET', r'/servers/detail', list_servers_detail),
    Route('GET', SERVER, show_server),
    Route('DELETE', SERVER, delete_server),
    Route('POST', SERVER + r'/action', server_action),
]
