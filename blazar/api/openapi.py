"""The OpenAPI 3.0 document of the v1 API, served at ``GET /v1/openapi.json``.

Request bodies are the JSON schemas the controllers validate with
(blazar/api/schemas.py, and the query schemas of the availability
controllers), converted to the OpenAPI 3.0 dialect; response bodies are
described here from the views (blazar/api/views.py). The tests keep it true:
the API reference examples, every response of the functional tests and a
schemathesis run all validate against it, and every Pecan route is in it.

``ROUTES`` is the single table (one :class:`Route` per operation: path,
method, summary, success status and body, request body schema, query
parameters, error statuses, the 400s a valid request may still get). The
server routes by it too: blazar/api/middleware/edge.py answers 405 (with
``Allow``), 415 and 413 from it before Pecan sees the request.
"""
import copy

from blazar.api import schemas
from blazar.api import validation
from blazar.api.controllers.v1 import availability as _availability
from blazar.api.controllers.v1 import hosts as _hosts
from blazar.api.controllers.v1 import leases as _leases
from blazar.api.controllers.v1 import preemptions as _preemptions

# --- response schemas (JSON Schema draft 7 dialect, converted below) -------

_STR = {'type': 'string'}
_NSTR = {'type': ['string', 'null']}
_INT = {'type': 'integer'}
_BOOL = {'type': 'boolean'}
_WIRE_DATE = {'type': 'string',
              'pattern': r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$',
              'description': "UTC date 'YYYY-MM-DDTHH:MM:SS.ffffff'"}
_NWIRE_DATE = dict(_WIRE_DATE, type=['string', 'null'])
_TIMESTAMP = {'type': ['string', 'null'],
              'pattern': r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$',
              'description': "UTC time 'YYYY-MM-DD HH:MM:SS'"}


def _object(properties, required=None, additional=False):
    schema = {'type': 'object', 'properties': properties,
              'required': sorted(properties if required is None else required)}
    if additional is not True:
        schema['additionalProperties'] = additional
    return schema


ERROR = _object({'error_code': _INT, 'error_message': _STR,
                 'error_name': {'type': ['integer', 'string']}})

LINK = _object({'href': _STR, 'rel': _STR})
VERSION = _object({'id': _STR, 'status': _STR, 'min_version': _STR,
                   'max_version': _STR, 'links': {'type': 'array', 'items': LINK}})

EVENT = _object({
    'id': _STR, 'lease_id': _STR, 'event_type': _STR, 'time': _WIRE_DATE,
    'status': _STR, 'attempts': _INT, 'last_error': _NSTR,
    'created_at': _TIMESTAMP, 'updated_at': _TIMESTAMP})

# Common fields, then physical:host's (min...before_end) and
# virtual:instance / flavor:instance's (vcpus...aggregate_id), then
# virtual:floatingip's (network_id, amount, required_floatingips).
RESERVATION = _object({
    'id': _STR, 'lease_id': _STR, 'resource_id': _NSTR, 'resource_type': _STR,
    'status': _STR, 'missing_resources': _BOOL, 'resources_changed': _BOOL,
    'min': _INT, 'max': _INT, 'hypervisor_properties': _NSTR,
    'resource_properties': _NSTR, 'before_end': _NSTR,
    'vcpus': _INT, 'memory_mb': _INT, 'disk_gb': _INT, 'amount': _INT,
    'affinity': {'type': ['boolean', 'null']}, 'flavor_id': _NSTR,
    'server_group_id': _NSTR, 'aggregate_id': {'type': ['integer', 'null']},
    'network_id': _STR, 'required_floatingips': {'type': 'array', 'items': _STR},
    'created_at': _TIMESTAMP, 'updated_at': _TIMESTAMP},
    required=['id', 'lease_id', 'resource_type', 'status'], additional=True)

LEASE = _object({
    'id': _STR, 'name': _STR, 'user_id': _NSTR, 'project_id': _NSTR,
    'start_date': _WIRE_DATE, 'end_date': _WIRE_DATE, 'trust_id': _NSTR,
    'status': _STR, 'status_reason': _NSTR, 'degraded': _BOOL,
    'reservations': {'type': 'array', 'items': RESERVATION},
    'events': {'type': 'array', 'items': EVENT},
    'created_at': _TIMESTAMP, 'updated_at': _TIMESTAMP},
    required=['id', 'name', 'start_date', 'end_date', 'status',
              'reservations', 'events'])

# The host's own fields, and its extra capabilities as further string keys.
HOST = _object({
    'id': _STR, 'hypervisor_id': _NSTR, 'hypervisor_hostname': _STR,
    'service_name': _STR, 'hypervisor_type': _STR, 'hypervisor_version': _INT,
    'vcpus': _INT, 'memory_mb': _INT, 'local_gb': _INT, 'cpu_info': _STR,
    'availability_zone': _STR, 'status': _NSTR, 'trust_id': _NSTR,
    'reservable': _BOOL, 'created_at': _TIMESTAMP, 'updated_at': _TIMESTAMP,
    # health: the monitors' failure, the operator's maintenance, and the
    # state they make (maintenance once in force, then failed)
    'state': {'type': 'string', 'enum': ['available', 'failed', 'maintenance']},
    'state_reason': _NSTR, 'failure_reason': _NSTR,
    'maintenance_start': _NWIRE_DATE, 'maintenance_reason': _NSTR},
    required=['id', 'hypervisor_hostname', 'vcpus', 'memory_mb', 'local_gb'],
    additional={'type': 'string', 'description': 'an extra capability'})

FLOATINGIP = _object({
    'id': _STR, 'floating_network_id': _STR, 'subnet_id': _STR,
    'floating_ip_address': _STR, 'reservable': _BOOL,
    'created_at': _TIMESTAMP, 'updated_at': _TIMESTAMP})

ALLOCATION = _object({
    'resource_id': _STR,
    'reservations': {'type': 'array', 'items': _object({
        'id': _STR, 'lease_id': _STR, 'start_date': _WIRE_DATE,
        'end_date': _WIRE_DATE})}})

PROPERTY = _object({'property': _STR, 'private': _BOOL,
                    'values': {'type': 'array', 'items': _STR}},
                   required=['property'])
RESOURCE_PROPERTY = _object({
    'id': _INT, 'resource_type': _STR, 'property_name': _STR, 'private': _BOOL,
    'created_at': _NWIRE_DATE, 'updated_at': _NWIRE_DATE})

# Availability answers: the fields every answer carries; the reservation
# description asked (property queries; an instance shape or flavor) is
# echoed back as further keys, and each resource type adds its counts
# (physical:host: max; instances: amount).
_NUMBER = {'type': 'number'}
AVAILABILITY = _object({'resource_type': _STR, 'start_date': _WIRE_DATE,
                        'end_date': _NWIRE_DATE},
                       required=['resource_type', 'start_date'], additional=True)
OFFERING = _object({'start_date': _WIRE_DATE, 'end_date': _WIRE_DATE,
                    'count': _INT, 'amount': _INT, 'free': _INT, 'duration': _INT,
                    'lease': {'type': 'object'}},
                   required=['start_date', 'end_date', 'count', 'lease'],
                   additional=True)
CALENDAR = _object({
    'resource_type': _STR, 'start_date': _WIRE_DATE, 'end_date': _WIRE_DATE,
    'total': _INT, 'cleaning_time': _INT,
    'free': {'type': 'array', 'items': _object(
        {'start_date': _WIRE_DATE, 'end_date': _WIRE_DATE, 'free': _INT})},
    'hosts': {'type': 'array', 'items': {'type': 'object'}},
    'hosts_links': {'type': 'array', 'items': LINK,
                    'description': "with limit or marker: [{'rel': 'next', 'href': "
                                   "the next page of hosts}] while more remain"},
    'floatingips': {'type': 'array', 'items': {'type': 'object'}}},
    required=['resource_type', 'start_date', 'end_date', 'free'], additional=True)
USAGE = _object({
    'start_date': _WIRE_DATE, 'end_date': _WIRE_DATE,
    'projects': {'type': 'array', 'items': _object(
        {'project_id': _STR, 'leases': _INT, 'reservations': _INT,
         'host_hours': _NUMBER, 'instance_hours': _NUMBER, 'vcpu_hours': _NUMBER,
         'memory_mb_hours': _NUMBER, 'disk_gb_hours': _NUMBER,
         'floatingip_hours': _NUMBER},
        required=['project_id'], additional=True)}})

PREEMPTION = _object({
    'id': _INT, 'lease_id': _STR, 'reservation_id': _STR, 'server_id': _STR,
    'server_name': _NSTR, 'project_id': _NSTR, 'user_id': _NSTR, 'host': _NSTR,
    'action': _STR, 'status': _STR, 'noticed_at': _NWIRE_DATE,
    'reclaimed_at': _NWIRE_DATE, 'reason': _NSTR,
    'created_at': _TIMESTAMP, 'updated_at': _TIMESTAMP})


def _wrap(key, schema):
    return _object({key: schema})


def _list(key, schema):
    return _object({key: {'type': 'array', 'items': schema}})


def _paged(key, schema):
    """A list that pages (blazar/api/paging.py): the items, and while more
    remain after a page asked with limit or marker, the next page's link."""
    return _object({key: {'type': 'array', 'items': schema},
                    key + '_links': {'type': 'array', 'items': LINK,
                                     'description': "[{'rel': 'next', 'href': the "
                                                    "next page}] while more remain"}},
                   required=[key])


OPENAPI_DOCUMENT = {'type': 'object', 'required': ['openapi', 'info', 'paths'],
                    'properties': {'openapi': _STR, 'paths': {'type': 'object'}}}

# --- query parameters ------------------------------------------------------

def _params(schema):
    """Query parameters from an object schema of string values (the schema a
    controller validates its query with): [(name, required, schema)]."""
    required = set(schema.get('required', ()))
    return [(name, name in required, prop)
            for name, prop in sorted(schema['properties'].items())]


# --- refusals ---------------------------------------------------------------
# What the schemas cannot say: a request the document accepts may still be
# refused with a 400 for these reasons only (message patterns, checked by
# blazar/tests/functional/test_openapi_agreement.py). Other refusals of
# valid requests have their own statuses: 403 (policy, enforcement), 404,
# 409 (the current state), 413, 414, 502 and 503.

def _refusal(message, reason):
    return {'status': 400, 'message': message, 'reason': reason}


# Any operation (blazar/api/validation.py, blazar/api/middleware/).
COMMON_REFUSALS = [
    _refusal(r'contains (U\+0000 \(NUL\)|a lone UTF-16 surrogate)',
             'a string (path, query or body) holds U+0000 or a lone UTF-16 '
             'surrogate'),
    _refusal(r'is not valid UTF-8', 'the path, query string or body is not UTF-8'),
    _refusal(r"the caller's (project|user) id is longer than",
             "the caller's project or user id is longer than %d characters"
             % validation.MAX_IDENTITY_LENGTH),
    _refusal(r'OpenStack-API-Version', 'a malformed OpenStack-API-Version header'),
]
# Any operation with a body.
BODY_REFUSALS = [
    _refusal(r'is nested more than \d+ levels deep',
             'the body nests more than %d levels' % validation.MAX_BODY_DEPTH),
    _refusal(r'is not valid JSON|out of range',
             'the body is not JSON, or holds a number out of range (not finite, '
             'or an integer of more than 4300 digits)'),
]
_CALENDAR_DATE = _refusal(r'is not a date of the calendar',
                          'a date of the right form that the calendar lacks '
                          '(2030-02-30 10:00)')
_QUERY_REFUSALS = [
    _refusal(r'Malformed requirements',
             'a property query that does not parse, or nests too deep'),
]
_RESERVATION_REFUSALS = _QUERY_REFUSALS + [
    _refusal(r'is an invalid IP format', 'a required floating IP that is not an address'),
    _refusal(r'cannot list more addresses than amount',
             'more required floating IPs than amount'),
    _refusal(r'resource type is not supported',
             'a resource type whose plugin is not enabled'),
    _refusal(r'Invalid values for min/max', 'min greater than max'),
    _refusal(r'Unknown parameter\(s\) for |Missing parameter |Malformed parameter ',
             "a parameter the reservation's resource type does not take, or "
             'lacks (types other than those the schema lists)'),
    _refusal(r'flavor .* does not exist or is not available',
             'a flavor Nova does not have for the project'),
]
LEASE_CREATE_REFUSALS = [
    _CALENDAR_DATE,
    _refusal(r'Start date must be later than current date', 'a start in the past'),
    _refusal(r'End date must be later than start date', 'an end not after the start'),
] + _RESERVATION_REFUSALS
LEASE_UPDATE_REFUSALS = [
    _CALENDAR_DATE,
    _refusal(r'Terminated leases can only be renamed', 'the lease has ended'),
    _refusal(r'Cannot modify the start date of already started leases',
             'a new start for a lease that started'),
    _refusal(r'Start date must be later than current date', 'a start in the past'),
    _refusal(r'End date must be later than current and start date',
             'an end in the past or not after the start'),
    _refusal(r'is not a reservation of lease', 'a reservation of another lease'),
    _refusal(r'is given more than once', 'the same reservation twice'),
] + _RESERVATION_REFUSALS
CAPABILITY_REFUSALS = [
    _refusal(r'an extra capability needs a name', 'an extra capability named ""'),
    _refusal(r'Extra capability key .* is longer than',
             'an extra capability name longer than %d characters'
             % schemas.MAX_CAPABILITY_KEY),
]
FLOATINGIP_REFUSALS = [
    _refusal(r'is an invalid IP format', 'an address that is not IPv4 or IPv6'),
    _refusal(r'Failed to find network', 'a network Neutron does not have, or one '
             'that is not external'),
    _refusal(r'is in the allocation pool|is the gateway of subnet',
             "an address Neutron hands out itself (a subnet's allocation pool or "
             'gateway)'),
    _refusal(r'is already registered', 'an address registered already'),
]
MAINTENANCE_REFUSALS = [
    _CALENDAR_DATE,
    _refusal(r'start_date must be now or later', 'a start in the past'),
]
_ANSWER_REFUSALS = [
    _CALENDAR_DATE,
    _refusal(r'Parameter \S+ is given more than once', 'a repeated parameter'),
    _refusal(r'Unknown parameter\(s\): ', 'a parameter the operation does not take'),
]
AVAILABILITY_REFUSALS = _ANSWER_REFUSALS + _RESERVATION_REFUSALS + [
    _refusal(r'End date must be later than start date', 'an end not after the start'),
    _refusal(r'must not be in the past', 'a start in the past'),
    _refusal(r'Give count or amount, not both', 'both count and amount'),
    _refusal(r'Availability queries do not support',
             'a resource type without availability answers'),
    _refusal(r'latest_end must be later than earliest_start',
             'latest_end not after earliest_start (or now)'),
    _refusal(r'Malformed parameter duration', 'a duration of zero minutes'),
]
# Paged lists (blazar/api/paging.py).
_MARKER_REFUSALS = [_refusal(r'Marker [\s\S]* not found',
                             'a marker that is no item of the list')]
_LIST_REFUSALS = [_CALENDAR_DATE] + _MARKER_REFUSALS
USAGE_REFUSALS = _ANSWER_REFUSALS + [
    _refusal(r'End date must be later than start date',
             'an end (now by default) not after the start'),
]

# --- routes ----------------------------------------------------------------

PUBLIC = 'public'
_READ = (403, 503)
_NOVA = (409, 502, 503)
_ANSWER = (403, 409, 503)


class Route:
    """One documented operation. ``query``: [(name, required, schema)],
    usually ``_params(<the controller's query schema>)``; ``errors``: the
    statuses it may answer besides COMMON_ERRORS (and 400/413/414/415 where
    they apply); ``refusals``: the 400s a valid request may still get;
    ``links``: OpenAPI links of the success response."""

    def __init__(self, path, method, summary, status, body, request=None,
                 query=(), errors=(), public=False, refusals=(), links=None,
                 example=None):
        self.path, self.method, self.summary = path, method, summary
        self.status, self.body, self.request = status, body, request
        self.query, self.errors, self.public = list(query), errors, public
        self.refusals, self.links = list(refusals), links
        self.example = example


# Request examples (those of the API reference, doc/source/api/samples).
_HOST_RESERVATION = {'resource_type': 'physical:host', 'min': 1, 'max': 1,
                     'hypervisor_properties': '[">=", "$vcpus", "2"]',
                     'resource_properties': ''}
_LEASE_EXAMPLE = {'name': 'lease-1', 'start_date': '2099-01-01 10:00',
                  'end_date': '2099-01-01 12:00', 'reservations': [_HOST_RESERVATION],
                  'events': []}
_LEASE_LINKS = {'lease_id': '$response.body#/lease/id'}
_HOST_LINKS = {'host_id': '$response.body#/host/id'}

ROUTES = [
    Route('/', 'get', 'List API versions', 300, _list('versions', VERSION),
          public=True),
    Route('/versions', 'get', 'List API versions', 300, _list('versions', VERSION),
          public=True),
    Route('/v1', 'get', 'Show API version 1', 200, _wrap('version', VERSION),
          errors=(503,)),
    Route('/v1/openapi.json', 'get', 'This OpenAPI document', 200, OPENAPI_DOCUMENT),
    # Leases
    Route('/v1/leases', 'get', 'List leases (all projects for an administrator)',
          200, _paged('leases', LEASE), query=_params(_leases.LIST), errors=_READ,
          refusals=_LIST_REFUSALS),
    Route('/v1/leases', 'post', 'Create a lease', 201, _wrap('lease', LEASE),
          request=schemas.LEASE_CREATE, errors=(403,) + _NOVA,
          refusals=LEASE_CREATE_REFUSALS, links=_LEASE_LINKS, example=_LEASE_EXAMPLE),
    Route('/v1/leases/{lease_id}', 'get', 'Show a lease', 200, _wrap('lease', LEASE),
          errors=(403, 404, 503)),
    Route('/v1/leases/{lease_id}', 'put', 'Update a lease', 200, _wrap('lease', LEASE),
          request=schemas.LEASE_UPDATE, errors=(403, 404) + _NOVA,
          refusals=LEASE_UPDATE_REFUSALS,
          example={'name': 'lease-2', 'end_date': '2099-01-01 13:00'}),
    Route('/v1/leases/{lease_id}', 'delete', 'Delete a lease', 204, None,
          errors=(403, 404) + _NOVA),
    # Hosts
    Route('/v1/os-hosts', 'get', 'List hosts', 200, _paged('hosts', HOST),
          query=_params(_hosts.HOSTS_LIST), errors=_READ, refusals=_LIST_REFUSALS),
    Route('/v1/os-hosts', 'post', 'Enrol a Nova hypervisor', 201, _wrap('host', HOST),
          request=schemas.HOST_CREATE, errors=(403, 404) + _NOVA,
          refusals=CAPABILITY_REFUSALS, links=_HOST_LINKS,
          example={'name': 'compute-2', 'gpu': 'a100'}),
    Route('/v1/os-hosts/{host_id}', 'get', 'Show a host', 200, _wrap('host', HOST),
          errors=(403, 404, 503)),
    Route('/v1/os-hosts/{host_id}', 'put', 'Set extra capabilities of a host', 200,
          _wrap('host', HOST), request=schemas.HOST_UPDATE,
          errors=(403, 404) + _NOVA, refusals=CAPABILITY_REFUSALS,
          example={'gpu': 'h100', 'rack': '12'}),
    Route('/v1/os-hosts/{host_id}', 'delete', 'Remove a host', 204, None,
          errors=(403, 404) + _NOVA),
    Route('/v1/os-hosts/{host_id}/allocation', 'get', "Show a host's allocations",
          200, _wrap('allocation', ALLOCATION),
          query=_params(_hosts.ALLOCATION_QUERY), errors=(403, 404, 503)),
    Route('/v1/os-hosts/{host_id}/allocation', 'put',
          "Move a host's current and future reservations to other hosts (what "
          "stays is returned)", 200, _wrap('allocation', ALLOCATION),
          request=schemas.HOST_REALLOCATE, errors=(403, 404) + _NOVA),
    Route('/v1/os-hosts/{host_id}/maintenance', 'put',
          'Put a host into maintenance (from now or a later time)', 200,
          _wrap('host', HOST), request=schemas.HOST_MAINTENANCE,
          errors=(403, 404) + _NOVA, refusals=MAINTENANCE_REFUSALS,
          example={'start_date': 'now', 'reason': 'disk replacement'}),
    Route('/v1/os-hosts/{host_id}/maintenance', 'delete',
          'Take a host out of maintenance', 204, None, errors=(403, 404) + _NOVA),
    Route('/v1/os-hosts/allocations', 'get', 'List allocations of every host', 200,
          _paged('allocations', ALLOCATION), query=_params(_hosts.ALLOCATIONS_LIST),
          refusals=_LIST_REFUSALS,
          errors=_READ),
    Route('/v1/os-hosts/properties', 'get', 'List extra capability names', 200,
          _list('resource_properties', PROPERTY),
          query=_params(_hosts.PROPERTIES_QUERY), errors=_READ),
    Route('/v1/os-hosts/properties/{name}', 'patch',
          'Make an extra capability private or public', 200,
          _wrap('resource_property', RESOURCE_PROPERTY),
          request=schemas.RESOURCE_PROPERTY_UPDATE, errors=(403, 404, 503),
          example={'private': True}),
    # Floating IPs
    Route('/v1/floatingips', 'get', 'List reservable floating IPs', 200,
          _list('floatingips', FLOATINGIP), errors=_READ),
    Route('/v1/floatingips', 'post', 'Register a floating IP address of an external '
          'Neutron network', 201, _wrap('floatingip', FLOATINGIP),
          request=schemas.FLOATINGIP_CREATE, errors=(403, 404, 502, 503),
          refusals=FLOATINGIP_REFUSALS, links={'floatingip_id': '$response.body#/floatingip/id'},
          example={'floating_network_id': '24a0fbd5-45c8-5d2c-9a0b-4e5b4b2d1c11',
                   'floating_ip_address': '172.24.4.100'}),
    Route('/v1/floatingips/{floatingip_id}', 'get', 'Show a reservable floating IP', 200,
          _wrap('floatingip', FLOATINGIP), errors=(403, 404, 503)),
    Route('/v1/floatingips/{floatingip_id}', 'delete', 'Remove a reservable floating IP '
          '(refused while a current or future lease holds it)', 204, None,
          errors=(403, 404, 409, 503)),
    # Preemptible servers reclaimed for reservations
    Route('/v1/preemptions', 'get', 'List the preemptible servers noticed and '
          'reclaimed for reservations', 200, _paged('preemptions', PREEMPTION),
          query=_params(_preemptions.LIST), errors=_READ,
          refusals=_ANSWER_REFUSALS + _MARKER_REFUSALS),
    # Before reserving: availability, offerings, calendar, usage
    Route('/v1/availability', 'get',
          'How many hosts (or instances of a shape) are free over a window', 200,
          _wrap('availability', AVAILABILITY),
          query=_params(_availability.HOW_MANY), errors=_ANSWER,
          refusals=AVAILABILITY_REFUSALS),
    Route('/v1/availability/duration', 'get',
          'How long a number of hosts (or instances) stays free', 200,
          _wrap('availability', AVAILABILITY),
          query=_params(_availability.HOW_LONG), errors=_ANSWER,
          refusals=AVAILABILITY_REFUSALS),
    Route('/v1/offerings', 'get', 'When a lease of a size and length fits', 200,
          _list('offerings', OFFERING), query=_params(_availability.OFFERINGS),
          errors=_ANSWER, refusals=AVAILABILITY_REFUSALS),
    Route('/v1/calendar', 'get', 'Free hosts or instances over time (and per '
          'host for administrators)', 200, _wrap('calendar', CALENDAR),
          query=_params(_availability.CALENDAR), errors=_ANSWER,
          refusals=AVAILABILITY_REFUSALS + _MARKER_REFUSALS),
    Route('/v1/usage', 'get', 'Reserved hours per project', 200,
          _wrap('usage', USAGE), query=_params(_availability.USAGE),
          errors=_ANSWER, refusals=USAGE_REFUSALS),
]

# Every operation may also answer these: 400 for a malformed
# OpenStack-API-Version header (or a bad parameter or body), 401 without
# valid credentials (not on public routes), 406 for an unsupported version,
# 414 for a URL longer than the edge takes.
COMMON_ERRORS = (400, 401, 406, 414)
_ERROR_TEXT = {
    400: 'Bad request: invalid body, parameter or OpenStack-API-Version header',
    401: 'Authentication required',
    403: 'Forbidden by policy or by an enforcement rule',
    404: 'Not found',
    405: 'Method not allowed on this path (the Allow header lists those allowed)',
    406: 'API version not supported',
    409: 'Conflict with the current state (e.g. not enough free hosts)',
    413: 'Request body larger than [oslo_middleware] max_request_body_size',
    414: 'URL (path and query string) longer than %d characters'
         % validation.MAX_URL_LENGTH,
    415: 'Content-Type other than application/json (in UTF-8) on an operation '
         'that takes a body',
    502: 'Nova, Placement or Neutron answered with an error',
    503: 'Nova, Placement, Neutron, the database or the manager is unavailable',
}


# --- conversion to the OpenAPI 3.0 schema dialect ---------------------------

def to_openapi(schema):
    """A JSON Schema draft 7 schema in the OpenAPI 3.0 dialect: type lists
    become ``anyOf`` (``null`` becomes ``nullable``), arrays get ``items``."""
    if isinstance(schema, list):
        return [to_openapi(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ('properties',):
            out[key] = {k: to_openapi(v) for k, v in value.items()}
        elif key in ('items', 'additionalProperties', 'not') and isinstance(value, dict):
            out[key] = to_openapi(value)
        elif key in ('anyOf', 'oneOf', 'allOf'):
            subs = [to_openapi(s) for s in value]
            nulls = [s for s in subs if s == {'type': 'null'}]
            subs = [s for s in subs if s != {'type': 'null'}]
            if nulls:
                out['nullable'] = True
            if len(subs) == 1 and key != 'allOf' and not nulls:
                out[key] = subs
            elif len(subs) == 1:
                for k, v in subs[0].items():
                    out.setdefault(k, v)
            else:
                out[key] = subs
        elif key == 'type' and isinstance(value, list):
            types = [t for t in value if t != 'null']
            if 'null' in value:
                out['nullable'] = True
            if len(types) == 1:
                out['type'] = types[0]
            else:
                out['anyOf'] = [{'type': t} for t in types]
        else:
            out[key] = copy.deepcopy(value)
    if out.get('type') == 'array' and 'items' not in out:
        out['items'] = {}
    if out.get('nullable') and isinstance(out.get('enum'), list) and None not in out['enum']:
        out['enum'] = out['enum'] + [None]
    return out


def to_json_schema(schema):
    """Back from the OpenAPI 3.0 dialect to JSON Schema (``nullable``), to
    validate with jsonschema."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == 'properties':
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key in ('items', 'additionalProperties', 'not') and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in ('anyOf', 'oneOf', 'allOf'):
            out[key] = [to_json_schema(s) for s in value]
        elif key != 'nullable':
            out[key] = copy.deepcopy(value)
    if schema.get('nullable'):
        if isinstance(out.get('type'), str):
            out['type'] = [out['type'], 'null']
            if 'enum' in out:
                out['enum'] = list(out['enum']) + [None]
        else:
            out = {'anyOf': [out, {'type': 'null'}]}
    return out


# --- the document -----------------------------------------------------------

def _operation_id(method, path):
    words = [p.strip('{}').replace('-', '_').replace('.', '_')
             for p in path.split('/') if p]
    return '_'.join([method] + (words or ['root']))


def _path_params(path):
    return [p[1:-1] for p in path.split('/') if p.startswith('{')]


def _json_response(description, schema):
    return {'description': description,
            'content': {'application/json': {'schema': to_openapi(schema)}}}


def _body_required(schema):
    """An empty body is the empty object: required only if {} is refused."""
    return not schemas.Validator(schema).is_valid({})


def _operation(route):
    path, method = route.path, route.method
    takes_body = route.request is not None
    responses = {}
    if route.body is None:
        responses[str(route.status)] = {'description': 'Done (no body)'}
    else:
        responses[str(route.status)] = _json_response('Success', route.body)
    if route.links:
        responses[str(route.status)]['links'] = {
            _operation_id(other.method, other.path): {
                'operationId': _operation_id(other.method, other.path),
                'parameters': dict(route.links)}
            for other in ROUTES if set(route.links) == set(_path_params(other.path))}
    codes = set(route.errors) | set(COMMON_ERRORS)
    if route.public:
        codes.discard(401)
    if takes_body:
        codes |= {413, 415}
    for code in sorted(codes):
        responses[str(code)] = {'$ref': '#/components/responses/Error%d' % code}
    refusals = COMMON_REFUSALS + (BODY_REFUSALS if takes_body else []) + route.refusals
    responses['400'] = {
        'description': '%s. A valid request is also refused when: %s.' % (
            _ERROR_TEXT[400], '; '.join(r['reason'] for r in refusals)),
        'content': {'application/json': {
            'schema': {'$ref': '#/components/schemas/Error'}}}}
    operation = {'operationId': _operation_id(method, path),
                 'summary': route.summary, 'responses': responses,
                 'x-refusals': refusals}
    parameters = [{'name': name, 'in': 'path', 'required': True,
                   'schema': {'type': 'string', 'minLength': 1}}
                  for name in _path_params(path)]
    parameters += [{'name': name, 'in': 'query', 'required': required,
                    'schema': to_openapi(schema)}
                   for name, required, schema in route.query]
    if parameters:
        operation['parameters'] = parameters
    if takes_body:
        media = {'schema': to_openapi(route.request)}
        if route.example is not None:
            media['example'] = route.example
        operation['requestBody'] = {'required': _body_required(route.request),
                                    'content': {'application/json': media}}
    if route.public:
        operation['security'] = []
    return operation


def document(server_url=None, auth_optional=False):
    """The OpenAPI 3.0 document as a dict (``server_url``: the API's root;
    ``auth_optional``: a token may be left out, as under noauth)."""
    paths = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route)
    doc = {
        'openapi': '3.0.3',
        'info': {
            'title': 'Blazar reservation API',
            'version': '1.0',
            'description': (
                'Resource reservation (service type "reservation"). Every error '
                'answers the JSON body {error_code, error_message, error_name}; '
                'a method not listed for a path answers 405 with an Allow '
                'header. A body is JSON (application/json, UTF-8; no '
                'Content-Type counts as JSON): another Content-Type is a 415 '
                'on an operation that takes a body and is ignored, with the '
                'body, on the others. No string (path, query, body) may hold '
                'U+0000 or a lone UTF-16 surrogate; dates are UTC '
                "'YYYY-MM-DD HH:MM' (minute precision: seconds are refused). "
                'Each operation lists under x-refusals the 400s a request '
                'that its schemas accept may still get.')},
        'paths': paths,
        'components': {
            'securitySchemes': {'token': {
                'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token',
                'description': "A Keystone token (with auth_strategy = noauth: "
                               "optional, 'user:project')"}},
            'schemas': {'Error': to_openapi(ERROR)},
            'responses': {
                'Error%d' % code: {
                    'description': text,
                    'content': {'application/json': {
                        'schema': {'$ref': '#/components/schemas/Error'}}}}
                for code, text in sorted(_ERROR_TEXT.items())},
        },
        'security': [{}, {'token': []}] if auth_optional else [{'token': []}],
    }
    if server_url:
        doc['servers'] = [{'url': server_url.rstrip('/')}]
    return doc


# --- validation of responses (used by the tests) ----------------------------

def _match(doc, path):
    parts = path.split('/')
    best = None
    for template, operations in doc['paths'].items():
        tparts = template.split('/')
        if len(tparts) != len(parts):
            continue
        if all(t == p or (t.startswith('{') and p) for t, p in zip(tparts, parts, strict=False)):
            literal = sum(not t.startswith('{') for t in tparts)
            if best is None or literal > best[0]:
                best = (literal, template, operations)
    return best


def _lookup(doc, path):
    path = path.rstrip('/') or '/'
    best = _match(doc, path)
    if best is None and path.endswith('.json'):
        best = _match(doc, path[:-len('.json')])
    if best is None and path != '/':
        best = _match(doc, path + '.json')
        if best is not None and not best[1].endswith('.json'):
            best = None
    return best


def operation(doc, method, path):
    """(path template, operation or None) of a concrete request path:
    (None, None) when no documented path matches. Pecan strips a '.json'
    extension before routing, so '/v1/leases.json' is '/v1/leases' and
    '/v1/openapi' is '/v1/openapi.json'."""
    best = _lookup(doc, path)
    if best is None:
        return None, None
    return best[1], best[2].get(method.lower())


_routing = []


def path_operations(path):
    """(path template, {method: operation}) of a concrete request path, as
    the server routes it; (None, None) when no documented path matches."""
    if not _routing:
        _routing.append(document())
    best = _lookup(_routing[0], path)
    if best is None:
        return None, None
    return best[1], best[2]


def response_schema(doc, op, status):
    """The JSON schema (draft 7 dialect) of ``status`` for an operation, '' if
    the status is documented without a body, None if it is not documented."""
    response = op['responses'].get(str(status))
    if response is None:
        return None
    if '$ref' in response:
        response = doc['components']['responses'][response['$ref'].split('/')[-1]]
    content = response.get('content', {}).get('application/json')
    if content is None:
        return ''
    schema = content['schema']
    if '$ref' in schema:
        schema = doc['components']['schemas'][schema['$ref'].split('/')[-1]]
    return to_json_schema(schema)


def check_response(doc, method, path, status, body):
    """Problems (a list of strings) with a response, against ``doc``.
    ``body`` is the parsed JSON body, or None when there is none."""
    import jsonschema
    template, op = operation(doc, method, path)
    where = '%s %s -> %s' % (method.upper(), path, status)
    if op is None:
        # Undocumented path or method: only an error body (404/405, or 400
        # and 414 for a path the edge refuses whatever it routes to).
        if status not in (400, 404, 405, 414) and not (
                template is None and status in (401, 406)):
            return ['%s: %s is not documented' % (
                where, 'path' if template is None else 'method')]
        schema = to_json_schema(to_openapi(ERROR))
    else:
        schema = response_schema(doc, op, status)
        if schema is None:
            return ['%s: status not documented for %s %s' % (
                where, method.upper(), template)]
        if schema == '':
            return ['%s: unexpected body' % where] if body not in (None, b'', '') else []
    if body is None:
        return ['%s: no JSON body' % where]
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body),
                    key=lambda e: list(e.absolute_path))
    return ['%s: %s at %s' % (where, e.message[:300],
                              '/'.join(str(p) for p in e.absolute_path) or 'body')
            for e in errors[:3]]
