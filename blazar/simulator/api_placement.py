"""HTTP front end of the simulated Placement (served under ``/placement``).

It speaks Placement's wire format so keystoneauth adapters, osc-placement
and Blazar's client parse it the way they parse the real service:
microversions ``OpenStack-API-Version: placement 1.0`` .. ``1.39`` (echoed
back, ``latest`` allowed), JSON bodies and errors as ``{"errors": [{"status",
"title", "detail", "request_id", "code"}]}``.  Auth is the compute side's
(``X-Auth-Token: <user>:<project>`` or just ``admin``); like Placement's
default policy, only administrators may call it.  Handlers parse and shape;
``placement_state.Placement`` holds the rules.
"""
import json

from blazar.simulator import errors
from blazar.simulator import placement_state as ps
from blazar.simulator import request
from blazar.simulator.errors import PlacementError
from blazar.simulator.request import Route

PREFIX = '/placement'
MIN = (1, 0)
MAX = (1, 39)
HEADER = 'OpenStack-API-Version'
VARY = 'openstack-api-version'


# --- microversions ---------------------------------------------------------
def to_str(version):
    return '%d.%d' % version


def negotiate(headers):
    """The placement microversion asked for (default 1.0), or 400/406."""
    value = None
    for item in (headers.get(HEADER) or '').split(','):
        service, _sep, text = item.strip().partition(' ')
        if service.lower() == 'placement':
            value = text.strip()
    if not value:
        return MIN
    if value.lower() == 'latest':
        return MAX
    major, sep, minor = value.partition('.')
    if not (sep and major.isdigit() and minor.isdigit()):
        raise PlacementError(400, 'invalid version string: %s' % value)
    version = (int(major), int(minor))
    if not MIN <= version <= MAX:
        raise PlacementError(406, 'Unacceptable version header: %s' % value)
    return version


def versions_doc():
    return {'versions': [{'id': 'v1.0', 'max_version': to_str(MAX),
                          'min_version': to_str(MIN), 'status': 'CURRENT',
                          'links': [{'rel': 'self', 'href': ''}]}]}


# --- helpers ---------------------------------------------------------------
def _state(call):
    return call.cloud.placement


def _only(call, allowed):
    unexpected = sorted(set(call.req.GET) - set(allowed))
    if unexpected:
        raise ps.bad('Invalid query string parameters: Additional properties '
                     'are not allowed (%s was unexpected)'
                     % ', '.join(repr(k) for k in unexpected))


def _body(call, required=(), optional=()):
    if call.req.body and call.req.content_type != 'application/json':
        raise PlacementError(415, 'The media type %s is not supported, use '
                             'application/json' % call.req.content_type)
    try:
        data = json.loads(call.req.body or b'null')
    except ValueError as exc:
        raise ps.bad('Malformed JSON: %s' % exc)
    if not isinstance(data, dict):
        raise ps.bad('JSON does not validate: the body must be an object')
    for key in required:
        if key not in data:
            raise ps.bad("JSON does not validate: '%s' is a required "
                         'property' % key)
    unexpected = sorted(set(data) - set(required) - set(optional))
    if unexpected:
        raise ps.bad('JSON does not validate: Additional properties are not '
                     'allowed (%s were unexpected)'
                     % ', '.join(repr(k) for k in unexpected))
    return data


def _generation(data, key='resource_provider_generation'):
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ps.bad("JSON does not validate: '%s' must be an integer" % key)
    return value


def _uuid_param(value, name):
    if not ps.is_uuid(value):
        raise ps.bad("Invalid query string parameters: '%s' is not a "
                     "'uuid'" % name)
    return ps.normalize_uuid(value)


def parse_resources(call, text):
    """``VCPU:2,MEMORY_MB:1024`` -> {'VCPU': 2, 'MEMORY_MB': 1024}."""
    resources = {}
    for item in text.split(','):
        rc, sep, amount = item.strip().partition(':')
        if not sep or not rc or not amount.strip().isdigit():
            raise ps.bad('Badly formed resources parameter. Expected '
                         'resources query string parameter in form: '
                         '?resources=VCPU:2,MEMORY_MB:1024. Got: %s.' % text)
        if rc in resources:
            raise ps.bad('Badly formed resources parameter: %s appears '
                         'twice.' % rc, 'placement.query.duplicate_key')
        if not _state(call).resource_class_exists(rc):
            raise ps.bad('Invalid resource class in resources parameter: No '
                         'such resource class %s.' % rc)
        amount = int(amount)
        if amount < 1:
            raise ps.bad('Requested resource %s expected positive integer '
                         'amount.' % rc, 'placement.query.bad_value')
        resources[rc] = amount
    return resources


def parse_traits(call, values, allow_forbidden):
    """``required`` values -> (list of any-of sets, forbidden set)."""
    required, forbidden = [], set()
    placement = _state(call)
    for value in values:
        if call.v >= (1, 39) and value.startswith('in:'):
            names = [n.strip() for n in value[3:].split(',')]
            groups = [set(names)]
            negated = []
        else:
            names = [n.strip() for n in value.split(',')]
            negated = [n[1:] for n in names
                       if allow_forbidden and n.startswith('!')]
            groups = [{n} for n in names
                      if not (allow_forbidden and n.startswith('!'))]
        every = [n for group in groups for n in group] + negated
        if not value or any(not n for n in every):
            raise ps.bad("Invalid query string parameters: Expected "
                         "'required' parameter value of the form: "
                         "HW_CPU_X86_VMX,CUSTOM_MAGIC.",
                         'placement.query.bad_value')
        missing = sorted({n for n in every if not placement.trait_exists(n)})
        if missing:
            raise ps.bad('No such trait(s): %s.' % ', '.join(missing))
        required.extend(groups)
        forbidden.update(negated)
    return required, forbidden


def _links(rp_uuid, v):
    base = '%s/resource_providers/%s' % (PREFIX, rp_uuid)
    links = [{'rel': 'self', 'href': base},
             {'rel': 'inventories', 'href': base + '/inventories'},
             {'rel': 'usages', 'href': base + '/usages'}]
    if v >= (1, 1):
        links.append({'rel': 'aggregates', 'href': base + '/aggregates'})
    if v >= (1, 6):
        links.append({'rel': 'traits', 'href': base + '/traits'})
    if v >= (1, 11):
        links.append({'rel': 'allocations', 'href': base + '/allocations'})
    return links


def provider_view(p, v):
    body = {'uuid': p['uuid'], 'name': p['name'],
            'generation': p['generation'], 'links': _links(p['uuid'], v)}
    if v >= (1, 14):
        body['parent_provider_uuid'] = p['parent_provider_uuid']
        body['root_provider_uuid'] = p['root_provider_uuid']
    return body


def _location(path):
    return {'Location': PREFIX + path}


# --- resource providers ------------------------------------------------------
def list_providers(call):
    allowed = ['name', 'uuid']
    if call.v >= (1, 4):
        allowed.append('resources')
    if call.v >= (1, 14):
        allowed.append('in_tree')
    if call.v >= (1, 18):
        allowed.append('required')
    _only(call, allowed)
    kwargs = {'name': call.param('name')}
    if call.param('uuid') is not None:
        kwargs['rp_uuid'] = _uuid_param(call.param('uuid'), 'uuid')
    if call.param('in_tree') is not None:
        kwargs['in_tree'] = _uuid_param(call.param('in_tree'), 'in_tree')
    if call.param('resources') is not None:
        kwargs['resources'] = parse_resources(call, call.param('resources'))
    if 'required' in call.req.GET:
        kwargs['required'], kwargs['forbidden'] = parse_traits(
            call, call.req.GET.getall('required'), call.v >= (1, 22))
    found = _state(call).list_providers(**kwargs)
    return 200, {'resource_providers': [provider_view(p, call.v)
                                        for p in found]}


def create_provider(call):
    optional = ['uuid'] + (['parent_provider_uuid'] if call.v >= (1, 14)
                           else [])
    data = _body(call, required=['name'], optional=optional)
    rp_uuid = data.get('uuid')
    if rp_uuid is not None and not ps.is_uuid(rp_uuid):
        raise ps.bad("JSON does not validate: %r is not a 'uuid'" % rp_uuid)
    parent = data.get('parent_provider_uuid')
    if parent is not None:
        if not ps.is_uuid(parent):
            raise ps.bad("JSON does not validate: %r is not a 'uuid'"
                         % parent)
        parent = ps.normalize_uuid(parent)
    provider = _state(call).create_provider(data['name'], rp_uuid, parent)
    headers = _location('/resource_providers/%s' % provider['uuid'])
    if call.v >= (1, 20):
        return 200, provider_view(provider, call.v), headers
    return 201, None, headers


def show_provider(call, rp_uuid):
    return 200, provider_view(_state(call).get_provider(rp_uuid), call.v)


def update_provider(call, rp_uuid):
    optional = ['parent_provider_uuid'] if call.v >= (1, 14) else []
    data = _body(call, required=['name'], optional=optional)
    placement = _state(call)
    current = placement.get_provider(rp_uuid)
    parent = data.get('parent_provider_uuid', current['parent_provider_uuid'])
    if parent is not None and not ps.is_uuid(parent):
        raise ps.bad("JSON does not validate: %r is not a 'uuid'" % parent)
    name = data['name']
    if not isinstance(name, str) or not 0 < len(name) <= ps.NAME_MAX:
        raise ps.bad("JSON does not validate: 'name' must be a string of 1 "
                     'to %d characters' % ps.NAME_MAX)
    provider = placement.update_provider(
        rp_uuid, name, ps.normalize_uuid(parent) if parent else None,
        reparent=call.v >= (1, 37))
    return 200, provider_view(provider, call.v)


def delete_provider(call, rp_uuid):
    _state(call).delete_provider(rp_uuid)
    return 204, None


# --- inventories -------------------------------------------------------------
def _inventories_body(generation, inventories):
    return {'inventories': inventories,
            'resource_provider_generation': generation}


def get_inventories(call, rp_uuid):
    return 200, _inventories_body(*_state(call).get_inventories(rp_uuid))


def set_inventories(call, rp_uuid):
    data = _body(call, required=['resource_provider_generation',
                                 'inventories'])
    if not isinstance(data['inventories'], dict):
        raise ps.bad("JSON does not validate: 'inventories' must be an "
                     'object')
    return 200, _inventories_body(*_state(call).set_inventories(
        rp_uuid, _generation(data), data['inventories'], call.v))


def delete_inventories(call, rp_uuid):
    _state(call).delete_inventories(rp_uuid)
    return 204, None


def _one_inventory(generation, inventory):
    body = dict(inventory)
    body['resource_provider_generation'] = generation
    return body


def add_inventory(call, rp_uuid):
    data = _body(call, required=['resource_class', 'total'],
                 optional=['resource_provider_generation']
                 + list(ps.INVENTORY_DEFAULTS))
    rc = data.pop('resource_class')
    generation = data.pop('resource_provider_generation', None)
    if generation is None:
        generation = _state(call).get_provider(rp_uuid)['generation']
    generation, inventory = _state(call).add_inventory(
        rp_uuid, generation, rc, data, call.v)
    return (201, _one_inventory(generation, inventory),
            _location('/resource_providers/%s/inventories/%s'
                      % (rp_uuid, rc)))


def get_inventory(call, rp_uuid, rc):
    return 200, _one_inventory(*_state(call).get_inventory(rp_uuid, rc))


def update_inventory(call, rp_uuid, rc):
    data = _body(call, required=['resource_provider_generation', 'total'],
                 optional=list(ps.INVENTORY_DEFAULTS))
    generation = _generation(data)
    del data['resource_provider_generation']
    return 200, _one_inventory(*_state(call).update_inventory(
        rp_uuid, generation, rc, data, call.v))


def delete_inventory(call, rp_uuid, rc):
    _state(call).delete_inventory(rp_uuid, rc)
    return 204, None


# --- usages, provider allocations --------------------------------------------
def get_usages(call, rp_uuid):
    generation, usages = _state(call).usages(rp_uuid)
    return 200, {'usages': usages, 'resource_provider_generation': generation}


def provider_allocations(call, rp_uuid):
    generation, allocations = _state(call).provider_allocations(rp_uuid)
    return 200, {'allocations': {c: {'resources': r}
                                 for c, r in allocations.items()},
                 'resource_provider_generation': generation}


# --- traits ------------------------------------------------------------------
def list_traits(call):
    _only(call, ['name', 'associated'])
    names = prefix = associated = None
    value = call.param('name')
    if value is not None:
        if value.startswith('in:'):
            names = set(value[3:].split(','))
        elif value.startswith('startswith:'):
            prefix = value[len('startswith:'):]
        else:
            raise ps.bad("Badly formatted name parameter. Expected name query "
                         "string parameter in form: ?name=[in|startswith]:"
                         "[name1,name2|prefix]. Got: \"%s\"" % value)
    if call.param('associated') is not None:
        associated = call.bool_param('associated')
    return 200, {'traits': _state(call).list_traits(names, prefix,
                                                    associated)}


def show_trait(call, name):
    _state(call).get_trait(name)
    return 204, None


def put_trait(call, name):
    created = _state(call).ensure_trait(name)
    return (201 if created else 204), None, _location('/traits/%s' % name)


def delete_trait(call, name):
    _state(call).delete_trait(name)
    return 204, None


def get_provider_traits(call, rp_uuid):
    generation, traits = _state(call).get_provider_traits(rp_uuid)
    return 200, {'traits': traits, 'resource_provider_generation': generation}


def set_provider_traits(call, rp_uuid):
    data = _body(call, required=['traits', 'resource_provider_generation'])
    traits = data['traits']
    if not isinstance(traits, list) or not all(isinstance(t, str)
                                               for t in traits):
        raise ps.bad("JSON does not validate: 'traits' must be a list of "
                     'strings')
    generation, traits = _state(call).set_provider_traits(
        rp_uuid, _generation(data), traits)
    return 200, {'traits': traits, 'resource_provider_generation': generation}


def delete_provider_traits(call, rp_uuid):
    _state(call).delete_provider_traits(rp_uuid)
    return 204, None


# --- resource classes --------------------------------------------------------
def _class_view(name):
    return {'name': name, 'links': [{'rel': 'self', 'href': '%s/resource_'
                                     'classes/%s' % (PREFIX, name)}]}


def list_classes(call):
    return 200, {'resource_classes': [
        _class_view(n) for n in _state(call).list_resource_classes()]}


def create_class(call):
    data = _body(call, required=['name'])
    _state(call).create_resource_class(data['name'])
    return 201, None, _location('/resource_classes/%s' % data['name'])


def show_class(call, name):
    return 200, _class_view(_state(call).get_resource_class(name))


def put_class(call, name):
    created = _state(call).ensure_resource_class(name)
    return ((201 if created else 204), None,
            _location('/resource_classes/%s' % name))


def delete_class(call, name):
    _state(call).delete_resource_class(name)
    return 204, None


# --- allocations -------------------------------------------------------------
def get_allocations(call, consumer):
    record = _state(call).get_allocations(consumer)
    if record is None:
        return 200, {'allocations': {}}
    body = {'allocations': record['allocations']}
    if call.v >= (1, 12):
        body.update(project_id=record['project_id'],
                    user_id=record['user_id'])
    if call.v >= (1, 28):
        body['consumer_generation'] = record['consumer_generation']
    if call.v >= (1, 38):
        body['consumer_type'] = record['consumer_type']
    return 200, body


def _amounts(resources, rp_uuid):
    if not isinstance(resources, dict) or not resources:
        raise ps.bad("JSON does not validate: 'resources' of %s must be a "
                     'non-empty object' % rp_uuid)
    for rc, amount in resources.items():
        if isinstance(amount, bool) or not isinstance(amount, int) \
                or not 1 <= amount <= ps.MAX_INT:
            raise ps.bad('JSON does not validate: %r is not a valid amount '
                         'of %s' % (amount, rc))
    return dict(resources)


def put_allocations(call, consumer):
    required = ['allocations']
    if call.v >= (1, 8):
        required += ['project_id', 'user_id']
    if call.v >= (1, 28):
        required.append('consumer_generation')
    if call.v >= (1, 38):
        required.append('consumer_type')
    data = _body(call, required=required,
                 optional=[] if call.v >= (1, 8) else ['project_id',
                                                       'user_id'])
    raw = data['allocations']
    allocations = {}
    if call.v >= (1, 12):
        if not isinstance(raw, dict):
            raise ps.bad("JSON does not validate: 'allocations' must be an "
                         'object')
        for rp_uuid, entry in raw.items():
            if not isinstance(entry, dict) or 'resources' not in entry:
                raise ps.bad("JSON does not validate: 'resources' is a "
                             'required property')
            allocations[rp_uuid] = _amounts(entry['resources'], rp_uuid)
    else:
        if not isinstance(raw, list) or not raw:
            raise ps.bad("JSON does not validate: 'allocations' must be a "
                         'non-empty list')
        for entry in raw:
            try:
                rp_uuid = entry['resource_provider']['uuid']
                resources = entry['resources']
            except (KeyError, TypeError):
                raise ps.bad("JSON does not validate: each allocation needs "
                             "'resource_provider' and 'resources'")
            allocations[rp_uuid] = _amounts(resources, rp_uuid)
    if not allocations and call.v < (1, 28):
        raise ps.bad("JSON does not validate: 'allocations' must not be "
                     'empty')
    _state(call).set_allocations(
        consumer, allocations, project_id=data.get('project_id'),
        user_id=data.get('user_id'), consumer_type=data.get('consumer_type'),
        consumer_generation=data.get('consumer_generation'),
        check_consumer=call.v >= (1, 28))
    return 204, None


def delete_allocations(call, consumer):
    _state(call).delete_allocations(consumer)
    return 204, None


# --- allocation candidates ---------------------------------------------------
def allocation_candidates(call):
    allowed = ['resources']
    if call.v >= (1, 16):
        allowed.append('limit')
    if call.v >= (1, 17):
        allowed.append('required')
    if call.v >= (1, 25):
        allowed.append('group_policy')
    if call.v >= (1, 31):
        allowed.append('in_tree')
    if call.v >= (1, 35):
        allowed.append('root_required')
    _only(call, allowed)
    if not call.param('resources'):
        raise ps.bad("Invalid query string parameters: 'resources' is a "
                     'required property', 'placement.query.missing_value')
    kwargs = {'resources': parse_resources(call, call.param('resources'))}
    if 'required' in call.req.GET:
        kwargs['required'], kwargs['forbidden'] = parse_traits(
            call, call.req.GET.getall('required'), call.v >= (1, 22))
    if 'root_required' in call.req.GET:
        kwargs['root_required'], kwargs['root_forbidden'] = parse_traits(
            call, call.req.GET.getall('root_required'), True)
    if call.param('in_tree') is not None:
        kwargs['in_tree'] = _uuid_param(call.param('in_tree'), 'in_tree')
    if call.param('limit') is not None:
        kwargs['limit'] = call.int_param('limit', minimum=1)
    requests, summaries = _state(call).allocation_candidates(**kwargs)
    return 200, {
        'allocation_requests': [_candidate_view(a, call.v)
                                for a in requests],
        'provider_summaries': {rp: _summary_view(s, call.v)
                               for rp, s in summaries.items()}}


def _candidate_view(allocation, v):
    if v < (1, 12):
        return {'allocations': [{'resource_provider': {'uuid': rp},
                                 'resources': r}
                                for rp, r in allocation.items()]}
    body = {'allocations': {rp: {'resources': r}
                            for rp, r in allocation.items()}}
    if v >= (1, 34):
        body['mappings'] = {'': sorted(allocation)}
    return body


def _summary_view(summary, v):
    body = {'resources': summary['resources']}
    if v >= (1, 17):
        body['traits'] = summary['traits']
    if v >= (1, 29):
        body['parent_provider_uuid'] = summary['parent_provider_uuid']
        body['root_provider_uuid'] = summary['root_provider_uuid']
    return body


# --- routing -----------------------------------------------------------------
RP = r'/resource_providers/(?P<rp_uuid>[^/]+)'
INV = RP + r'/inventories'
ONE_INV = INV + r'/(?P<rc>[^/]+)'
POLICY = 'placement:%s'


def _route(method, pattern, handler, policy, min_version=None):
    return Route(method, pattern, handler, POLICY % policy,
                 min_version=min_version)


ROUTES = [
    _route('GET', r'/resource_providers', list_providers,
           'resource_providers:list'),
    _route('POST', r'/resource_providers', create_provider,
           'resource_providers:create'),
    _route('GET', RP, show_provider, 'resource_providers:show'),
    _route('PUT', RP, update_provider, 'resource_providers:update'),
    _route('DELETE', RP, delete_provider, 'resource_providers:delete'),
    _route('GET', INV, get_inventories, 'resource_providers:inventories:list'),
    _route('PUT', INV, set_inventories,
           'resource_providers:inventories:update_all'),
    _route('POST', INV, add_inventory,
           'resource_providers:inventories:create'),
    _route('DELETE', INV, delete_inventories,
           'resource_providers:inventories:delete_all', (1, 5)),
    _route('GET', ONE_INV, get_inventory,
           'resource_providers:inventories:show'),
    _route('PUT', ONE_INV, update_inventory,
           'resource_providers:inventories:update'),
    _route('DELETE', ONE_INV, delete_inventory,
           'resource_providers:inventories:delete'),
    _route('GET', RP + r'/usages', get_usages,
           'resource_providers:usages'),
    _route('GET', RP + r'/allocations', provider_allocations,
           'resource_providers:allocations:list', (1, 11)),
    _route('GET', RP + r'/traits', get_provider_traits,
           'resource_providers:traits:list', (1, 6)),
    _route('PUT', RP + r'/traits', set_provider_traits,
           'resource_providers:traits:update', (1, 6)),
    _route('DELETE', RP + r'/traits', delete_provider_traits,
           'resource_providers:traits:delete', (1, 6)),
    _route('GET', r'/traits', list_traits, 'traits:list', (1, 6)),
    _route('GET', r'/traits/(?P<name>[^/]+)', show_trait, 'traits:show',
           (1, 6)),
    _route('PUT', r'/traits/(?P<name>[^/]+)', put_trait, 'traits:update',
           (1, 6)),
    _route('DELETE', r'/traits/(?P<name>[^/]+)', delete_trait,
           'traits:delete', (1, 6)),
    _route('GET', r'/resource_classes', list_classes, 'resource_classes:list',
           (1, 2)),
    _route('POST', r'/resource_classes', create_class,
           'resource_classes:create', (1, 2)),
    _route('GET', r'/resource_classes/(?P<name>[^/]+)', show_class,
           'resource_classes:show', (1, 2)),
    _route('PUT', r'/resource_classes/(?P<name>[^/]+)', put_class,
           'resource_classes:update', (1, 7)),
    _route('DELETE', r'/resource_classes/(?P<name>[^/]+)', delete_class,
           'resource_classes:delete', (1, 2)),
    _route('GET', r'/allocations/(?P<consumer>[^/]+)', get_allocations,
           'allocations:list'),
    _route('PUT', r'/allocations/(?P<consumer>[^/]+)', put_allocations,
           'allocations:update'),
    _route('DELETE', r'/allocations/(?P<consumer>[^/]+)', delete_allocations,
           'allocations:delete'),
    _route('GET', r'/allocation_candidates', allocation_candidates,
           'allocation_candidates:list', (1, 10)),
]


def dispatch(req, cloud, caller, path, version):
    """Run the route matching ``path`` (after ``/placement``).

    Returns ``(status, body, headers)``; raises ``PlacementError``.
    """
    path_known = False
    for route in ROUTES:
        match = route.regex.match(path)
        if match is None or not route.accepts(version):
            continue
        path_known = True
        if route.method != req.method:
            continue
        if not caller.is_admin:
            raise PlacementError(403, 'Policy does not allow %s to be '
                                 'performed.' % route.admin)
        call = request.Call(req, cloud, caller, version)
        result = route.handler(call, **match.groupdict())
        headers = result[2] if len(result) > 2 else {}
        return result[0], result[1], headers
    if path_known:
        raise PlacementError(405, 'The method specified is not allowed for '
                             'this resource.')
    raise PlacementError(404, 'The resource could not be found.')


def as_placement_error(exc):
    """Any simulator error, worded for Placement's error body."""
    if isinstance(exc, PlacementError):
        return exc
    if isinstance(exc, errors.SimError):
        code = exc.code
        error_code = (ps.CONCURRENT_UPDATE if code == 409
                      else PlacementError.UNDEFINED)
        return PlacementError(code, exc.message, error_code)
    return PlacementError(500, 'Unexpected API Error.')
