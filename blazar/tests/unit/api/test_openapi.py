"""The OpenAPI document (blazar/api/openapi.py) is true to the API: every
example of the API reference validates against it, and it lists exactly the
Pecan routes of the app."""
import inspect
import json
import os

import jsonschema
import pytest

from blazar.api import openapi
from blazar.api.controllers import root

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
SAMPLES = os.path.join(ROOT, 'doc', 'source', 'api', 'samples')
DOC = openapi.document('http://blazar.example.com:1234')

# doc/source/api/samples/<name>-{req,resp}.json -> (method, concrete path,
# status of the response). A new sample without an entry fails below.
SAMPLE_ROUTES = {
    'versions-list': ('GET', '/', 300),
    'version-show': ('GET', '/v1', 200),
    'host-create': ('POST', '/v1/os-hosts', 201),
    'hosts-list': ('GET', '/v1/os-hosts', 200),
    'host-show': ('GET', '/v1/os-hosts/1', 200),
    'host-update': ('PUT', '/v1/os-hosts/1', 200),
    'properties-list': ('GET', '/v1/os-hosts/properties', 200),
    'properties-list-detail': ('GET', '/v1/os-hosts/properties', 200),
    'property-update': ('PATCH', '/v1/os-hosts/properties/rack', 200),
    'lease-create': ('POST', '/v1/leases', 201),
    'instance-lease-create': ('POST', '/v1/leases', 201),
    'leases-list': ('GET', '/v1/leases', 200),
    'lease-show': ('GET', '/v1/leases/x', 200),
    'lease-update': ('PUT', '/v1/leases/x', 200),
    'allocations-list': ('GET', '/v1/os-hosts/allocations', 200),
    'allocation-show': ('GET', '/v1/os-hosts/1/allocation', 200),
    'allocation-reallocate': ('PUT', '/v1/os-hosts/1/allocation', 200),
    'host-maintenance': ('PUT', '/v1/os-hosts/1/maintenance', 200),
    'floatingip-create': ('POST', '/v1/floatingips', 201),
    'floatingips-list': ('GET', '/v1/floatingips', 200),
    'floatingip-show': ('GET', '/v1/floatingips/x', 200),
    'floatingip-lease-create': ('POST', '/v1/leases', 201),
    'floatingip-delete-refused': ('DELETE', '/v1/floatingips/x', 409),
    'error-400': ('POST', '/v1/leases', 400),
    'error-403': ('GET', '/v1/os-hosts', 403),
    'error-404': ('GET', '/v1/leases/x', 404),
    'error-409': ('POST', '/v1/leases', 409),
    # availability reference examples, once tools/api_samples.py writes them
    'availability-show': ('GET', '/v1/availability', 200),
    'availability-duration': ('GET', '/v1/availability/duration', 200),
    'offerings-list': ('GET', '/v1/offerings', 200),
    'calendar-show': ('GET', '/v1/calendar', 200),
    'usage-show': ('GET', '/v1/usage', 200),
}
# Request examples that are deliberately invalid (the 400 example's body).
INVALID_REQUESTS = {'error-400'}


def _samples():
    return sorted(f for f in os.listdir(SAMPLES) if f.endswith('.json'))


def _sample_key(filename):
    stem = filename[:-len('.json')]
    name, kind = stem.rsplit('-', 1)
    return name, kind


def test_every_sample_is_mapped_to_a_route():
    unmapped = [f for f in _samples() if _sample_key(f)[0] not in SAMPLE_ROUTES]
    assert not unmapped, 'add these examples to SAMPLE_ROUTES: %s' % unmapped


@pytest.mark.parametrize('filename', _samples())
def test_sample_validates_against_the_document(filename):
    name, kind = _sample_key(filename)
    if name not in SAMPLE_ROUTES:
        pytest.skip('unmapped (reported by test_every_sample_is_mapped_to_a_route)')
    method, path, status = SAMPLE_ROUTES[name]
    with open(os.path.join(SAMPLES, filename)) as f:
        body = json.load(f)
    template, op = openapi.operation(DOC, method, path)
    assert op is not None, '%s %s is not in the document' % (method, path)
    if kind == 'req':
        schema = op['requestBody']['content']['application/json']['schema']
        errors = list(jsonschema.Draft7Validator(
            openapi.to_json_schema(schema)).iter_errors(body))
        if name in INVALID_REQUESTS:
            assert errors, '%s should be refused by the request schema' % filename
        else:
            assert not errors, [e.message for e in errors]
    else:
        assert openapi.check_response(DOC, method, path, status, body) == []


def test_request_schemas_are_the_validators():
    """The document reuses blazar/api/schemas.py rather than copies."""
    from blazar.api import schemas
    ops = {(m, p): op for p, ops in DOC['paths'].items() for m, op in ops.items()}
    body = ops[('post', '/v1/leases')]['requestBody']['content']['application/json']
    assert body['schema'] == openapi.to_openapi(schemas.LEASE_CREATE)
    assert openapi.to_json_schema(body['schema'])['required'] == \
        schemas.LEASE_CREATE['required']


def test_conversion_round_trip_keeps_nullable_dates():
    from blazar.api import schemas
    update = openapi.to_openapi(schemas.LEASE_UPDATE)
    before = update['properties']['before_end_date']
    assert before['nullable'] is True and before['type'] == 'string'
    back = openapi.to_json_schema(update)
    validator = jsonschema.Draft7Validator(back)
    assert validator.is_valid({'before_end_date': None})
    assert validator.is_valid({'before_end_date': '2030-01-01 10:00'})
    assert not validator.is_valid({'before_end_date': 'soon'})


def test_every_operation_documents_its_errors():
    for path, ops in DOC['paths'].items():
        for method, op in ops.items():
            codes = set(op['responses'])
            assert {'400', '406'} <= codes, (method, path)
            if op.get('security') != []:
                assert '401' in codes, (method, path)
            if '{' in path:
                assert '404' in codes, (method, path)


# --- routes ------------------------------------------------------------------

def _exposed(value):
    """A routable handler (a method's ``when`` handler is not: Pecan
    answers 404 for it by name)."""
    return (callable(value) and hasattr(value, '_pecan')
            and not value._pecan.get('generic_handler'))


def _methods(handler):
    """HTTP methods an exposed handler answers."""
    conf = handler._pecan
    if not conf.get('generic'):
        return {'GET'}
    methods = {m.upper() for m in conf.get('generic_handlers', {}) if m != 'DEFAULT'}
    if getattr(conf.get('generic_handlers', {}).get('DEFAULT'), 'read_only', False):
        methods.add('GET')
    return methods


def _walk(controller, prefix, seen=None):
    """(METHOD, path) of every route under a Pecan controller; a ``_lookup``
    segment is named after its first argument.

    ``seen`` keeps the controllers themselves, not only their ids: a
    controller made by ``_lookup`` is garbage once walked, and a later one
    could be given its id and be skipped."""
    seen = {} if seen is None else seen
    if id(controller) in seen:
        return set()
    seen[id(controller)] = controller
    routes = set()
    for name in dir(controller):
        if name.startswith('__'):
            continue
        value = getattr(controller, name, None)
        if name == 'index' and _exposed(value):
            routes |= {(m, prefix or '/') for m in _methods(value)}
        elif name == '_lookup' and _exposed(value):
            arg = list(inspect.signature(value).parameters)[0]
            child, _ = value('{%s}' % arg)
            routes |= _walk(child, '%s/{%s}' % (prefix, arg), seen)
        elif name.startswith('_'):
            continue
        elif _exposed(value):
            routes |= {(m, '%s/%s' % (prefix, name)) for m in _methods(value)}
        elif not callable(value) and type(value).__module__.startswith(
                'blazar.api.controllers'):
            routes |= _walk(value, '%s/%s' % (prefix, name), seen)
    return routes


# Routes Pecan has that are deliberately not in the document.
NOT_DOCUMENTED = {
    # The default handler only answers 405 (the property is PATCHed).
    ('GET', '/v1/os-hosts/properties/{name}'),
}


def _documented():
    routes = set()
    for path, ops in DOC['paths'].items():
        # Pecan strips a known extension before routing.
        path = path[:-len('.json')] if path.endswith('.json') else path
        routes |= {(m.upper(), path) for m in ops}
    return routes


def test_every_pecan_route_is_documented_and_vice_versa():
    pecan_routes = _walk(root.RootController(), '') - NOT_DOCUMENTED
    documented = _documented()
    assert sorted(pecan_routes - documented) == [], 'routes missing from the document'
    assert sorted(documented - pecan_routes) == [], 'documented routes the app lacks'


# --- what the server takes (issue 16) ---------------------------------------

def _schemas(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_patterns_are_json_schema_patterns():
    # ECMA 262: no Python-only syntax (the server reads \d as ASCII too).
    for schema in _schemas(DOC['paths']):
        pattern = schema.get('pattern')
        if isinstance(pattern, str):
            for python_only in ('\\Z', '(?i', '(?P<'):
                assert python_only not in pattern, pattern


def test_request_examples_are_valid_requests():
    from blazar.api import schemas
    examples = 0
    for route in openapi.ROUTES:
        if route.example is not None:
            schemas.validate(route.request, route.example)
            examples += 1
    assert examples >= 5


def test_an_optional_body_is_documented_as_optional():
    from blazar.api import schemas
    for route in openapi.ROUTES:
        if route.request is None:
            continue
        body = DOC['paths'][route.path][route.method]['requestBody']
        assert body['required'] == (not schemas.Validator(route.request).is_valid({}))
    assert DOC['paths']['/v1/leases']['post']['requestBody']['required'] is True
    assert DOC['paths']['/v1/leases/{lease_id}']['put']['requestBody']['required'] is False


def test_size_type_and_url_refusals_are_documented():
    for path, ops in DOC['paths'].items():
        for method, op in ops.items():
            codes = set(op['responses'])
            assert '414' in codes, (method, path)
            assert ({'413', '415'} <= codes) == ('requestBody' in op), (method, path)


def test_every_operation_lists_its_refusals():
    import re
    for path, ops in DOC['paths'].items():
        for method, op in ops.items():
            refusals = op['x-refusals']
            assert refusals, (method, path)
            for refusal in refusals:
                assert refusal['status'] == 400 and refusal['reason']
                re.compile(refusal['message'])
            described = op['responses']['400']['description']
            assert all(r['reason'] in described for r in refusals)


def test_a_token_is_optional_only_under_noauth():
    assert DOC['security'] == [{'token': []}]
    assert openapi.document(auth_optional=True)['security'] == [{}, {'token': []}]


def test_query_parameters_come_from_the_controllers_schemas():
    from blazar.api.controllers.v1 import availability
    from blazar.api.controllers.v1 import preemptions
    ops = DOC['paths']
    usage = {p['name']: p for p in ops['/v1/usage']['get']['parameters']}
    assert usage['start_date']['schema'] == openapi.to_openapi(
        availability.USAGE['properties']['start_date'])
    listed = {p['name']: p for p in ops['/v1/preemptions']['get']['parameters']}
    assert set(listed) == set(preemptions.LIST['properties'])
    assert listed['lease_id']['schema']['minLength'] == 1
