"""JSON schemas of request bodies, and a validator whose 400 names the field.

These schemas are the request bodies of the OpenAPI document
(blazar/api/openapi.py): what passes here is what the document accepts.
Patterns are read as JSON Schema reads them (ECMA 262: ``$`` is the very
end of the text) and ``integer`` excludes ``1.0``, so that the server
agrees with the tools that read the document. What JSON Schema cannot say
(extra capability names, the same reservation twice) is checked by
:func:`validate` after the schema and listed in the document's refusals.
"""
import functools
import re

import jsonschema

from blazar import exceptions
from blazar.allocation import properties
from blazar.plugins.hosts import inventory
from blazar.utils import dates

INT_MAX = 2 ** 31 - 1
# Extra capability values: the same limit on every backend (MariaDB's TEXT
# holds 65,535 bytes: 8,192 characters of 4 bytes each fit).
MAX_CAPABILITY_VALUE = 8192
MAX_CAPABILITY_KEY = inventory.MAX_CAPABILITY_KEY


def digits(highest, lowest=1):
    """An ECMA pattern of the decimal numerals ``lowest``..``highest``
    (``lowest`` 0 or 1), without leading zeros."""
    text = str(highest)
    size = len(text)
    alternatives = ['[1-9][0-9]{0,%d}' % (size - 2)] if size > 1 else []
    for i, char in enumerate(text):
        low, digit = (1 if i == 0 else 0), int(char)
        if digit > low:
            rest = size - i - 1
            alternatives.append('%s[%d-%d]%s' % (text[:i], low, digit - 1,
                                                 '[0-9]{%d}' % rest if rest else ''))
    alternatives.append(text)
    if lowest == 0:
        alternatives.insert(0, '0')
    return '^(?:%s)$' % '|'.join(alternatives)


def any_case(*words):
    """An ECMA pattern of ``words`` in any letter case (ECMA has no (?i))."""
    def word(w):
        return ''.join('[%s%s]' % (c.lower(), c.upper()) if c.isalpha() else re.escape(c)
                       for c in w)
    return '^(?:%s)$' % '|'.join(word(w) for w in words)


DATE_PATTERN = '^now$|' + dates.INPUT_PATTERN
DATE = {'type': 'string', 'pattern': DATE_PATTERN,
        'description': "a UTC date 'YYYY-MM-DD HH:MM' or 'now'"}
# A date that cannot be 'now' (a start of usage, which ends now by default).
PAST_OR_FUTURE_DATE = {'type': 'string', 'pattern': dates.INPUT_PATTERN,
                       'description': "a UTC date 'YYYY-MM-DD HH:MM'"}
_DATE_PATTERNS = (DATE_PATTERN, dates.INPUT_PATTERN)
_DATE_WORDS = (DATE['description'], PAST_OR_FUTURE_DATE['description'])
_NULLABLE_DATE = {'anyOf': [DATE, {'type': 'null'}],
                  'description': DATE['description']}
_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'description': 'a non-empty string of at most 255 characters'}
_SCALAR = {'anyOf': [{'type': 'string', 'maxLength': MAX_CAPABILITY_VALUE},
                     {'type': 'number'}, {'type': 'boolean'}],
           'description': 'a string (of at most %d characters), number or boolean'
                          % MAX_CAPABILITY_VALUE}
_NULLABLE_SCALAR = {'anyOf': _SCALAR['anyOf'] + [{'type': 'null'}],
                    'description': 'a string (of at most %d characters), number, '
                                   'boolean or null (deletes it)' % MAX_CAPABILITY_VALUE}
_ID = {'type': 'string', 'minLength': 1, 'maxLength': 36, 'description': 'an id'}


def _count(lowest=1):
    """An integer, or its digits as a string (what the CLI sends)."""
    return {'anyOf': [{'type': 'integer', 'minimum': lowest, 'maximum': INT_MAX},
                      {'type': 'string', 'pattern': digits(INT_MAX, lowest)}],
            'description': 'a whole number from %d to %d (or its digits as a string)'
                           % (lowest, INT_MAX)}


QUERY = {'anyOf': [{'type': 'string', 'maxLength': properties.MAX_LENGTH},
                   {'type': 'array'}, {'type': 'null'}],
         'description': 'a property query: JSON text (at most %d characters, '
                        'nested at most %d levels) or the list itself'
                        % (properties.MAX_LENGTH, properties.MAX_DEPTH)}
AFFINITY = {'anyOf': [{'type': 'boolean'}, {'type': 'null'},
                      {'type': 'string', 'pattern': any_case(
                          '', 'none', 'null', 'true', 'yes', '1', 'on',
                          'false', 'no', '0', 'off')}],
            'description': 'true (one host), false (distinct hosts) or null '
                           '(anywhere)'}

# Reservations by resource type: the parameters each plugin takes
# (blazar/plugins/*), checked here so that every request the document
# accepts is one the plugin takes. A type not listed here is passed to its
# plugin (400 if it is not enabled).
RESERVATION_PARAMS = {
    'physical:host': {
        'min': _count(), 'max': _count(),
        'hypervisor_properties': QUERY, 'resource_properties': QUERY,
        'before_end': {'anyOf': [{'type': 'string',
                                  'enum': ['', 'default', 'snapshot']},
                                 {'type': 'null'}],
                       'description': "'default', 'snapshot' or ''"},
    },
    'virtual:instance': {
        'vcpus': _count(), 'memory_mb': _count(), 'disk_gb': _count(0),
        'amount': _count(), 'affinity': AFFINITY, 'resource_properties': QUERY,
    },
    'flavor:instance': {
        'flavor_id': {'anyOf': [{'type': 'string', 'minLength': 1, 'maxLength': 255},
                                {'type': 'integer', 'minimum': 0,
                                 'maximum': INT_MAX}],
                      'description': 'a Nova flavor id'},
        'amount': _count(), 'affinity': AFFINITY, 'resource_properties': QUERY,
    },
}
RESERVATION_PARAMS['virtual:floatingip'] = {
    'network_id': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                   'description': 'a Neutron external network id'},
    'amount': _count(),
    'required_floatingips': {
        'anyOf': [{'type': 'array', 'items': {'type': 'string', 'maxLength': 255}},
                  {'type': 'null'}],
        'description': 'addresses that must be among those reserved'},
}
RESERVATION_REQUIRED = {
    'virtual:floatingip': ['network_id'],
    'physical:host': ['min', 'max'],
    'virtual:instance': ['vcpus', 'memory_mb', 'disk_gb', 'amount'],
    'flavor:instance': ['flavor_id', 'amount'],
}
_RESOURCE_TYPE = {'type': 'string', 'minLength': 1, 'maxLength': 66,
                  'description': 'a resource type'}


def reservation_schema(resource_type):
    """The reservation of a lease create, for one resource type."""
    props = dict(RESERVATION_PARAMS[resource_type],
                 resource_type={'type': 'string', 'enum': [resource_type]})
    return {'type': 'object', 'properties': props,
            'required': ['resource_type'] + RESERVATION_REQUIRED[resource_type],
            'additionalProperties': False}


OTHER_RESERVATION = {
    'type': 'object',
    'properties': {'resource_type': dict(_RESOURCE_TYPE, **{
        'not': {'enum': sorted(RESERVATION_PARAMS)}})},
    'required': ['resource_type'],
    'description': 'a reservation of another resource type (its plugin '
                   'checks the parameters)'}
RESERVATION_CREATE = {
    'type': 'object',
    'oneOf': [reservation_schema(t) for t in sorted(RESERVATION_PARAMS)]
    + [OTHER_RESERVATION],
    'description': 'a reservation: resource_type and its parameters'}

_ALL_PARAMS = {}
for _params in RESERVATION_PARAMS.values():
    _ALL_PARAMS.update(_params)
RESERVATION_UPDATE = {
    'type': 'object',
    'properties': dict(_ALL_PARAMS, id=_ID, resource_type=_RESOURCE_TYPE),
    'required': ['id'],
    'additionalProperties': False,
    'description': "a reservation of the lease (its id) and the parameters "
                   "of its resource type to change"}


def _lease_properties(reservation_item):
    return {
        'name': _NAME,
        'start_date': DATE,
        'end_date': DATE,
        'before_end_date': _NULLABLE_DATE,
        'reservations': {'type': 'array', 'items': reservation_item},
        # Accepted for compatibility (the CLI sends it); ignored.
        'events': {'type': 'array', 'description': 'ignored'},
    }


LEASE_CREATE = {
    'type': 'object',
    'properties': _lease_properties(RESERVATION_CREATE),
    'required': ['name', 'start_date', 'end_date'],
    'additionalProperties': False,
}

LEASE_UPDATE = {
    'type': 'object',
    'properties': _lease_properties(RESERVATION_UPDATE),
    'additionalProperties': False,
}

FLOATINGIP_CREATE = {
    'type': 'object',
    'properties': {
        'floating_network_id': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                                'description': 'a Neutron external network id'},
        'floating_ip_address': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                                'description': 'an IPv4 or IPv6 address'},
    },
    'required': ['floating_network_id', 'floating_ip_address'],
    'additionalProperties': False,
}

# Host attributes come from Nova: never an extra capability.
_NOT_CAPABILITY = {'not': {}, 'description': 'a host attribute read from Nova, '
                                             'not an extra capability'}


def _host_fields(*allowed):
    return {key: _NOT_CAPABILITY for key in inventory.HOST_FIELDS
            if key not in allowed}


HOST_CREATE = {
    'type': 'object',
    'properties': dict(_host_fields('name', 'id'), name=_NAME, id={
        'anyOf': [{'type': 'string', 'minLength': 1, 'maxLength': 255},
                  {'type': 'integer', 'minimum': 0, 'maximum': INT_MAX}],
        'description': "a hypervisor's id"}),
    'additionalProperties': _SCALAR,
    'anyOf': [{'required': ['name']}, {'required': ['id']}],
    'not': {'required': ['name', 'id']},
}

HOST_UPDATE = {
    'type': 'object',
    'properties': _host_fields(),
    # null deletes the capability (upstream's `blazar host-unset --extra`).
    'additionalProperties': _NULLABLE_SCALAR,
    'minProperties': 1,
}

HOST_MAINTENANCE = {
    'type': 'object',
    'properties': {
        'start_date': DATE,
        'reason': {'type': ['string', 'null'], 'maxLength': 255,
                   'description': 'a string of at most 255 characters'},
    },
    'additionalProperties': False,
}

HOST_REALLOCATE = {
    'type': 'object',
    'properties': {
        'lease_id': {'type': 'string', 'minLength': 1, 'maxLength': 36,
                     'description': 'a lease id'},
        'reservation_id': {'type': 'string', 'minLength': 1, 'maxLength': 36,
                           'description': 'a reservation id'},
    },
    'additionalProperties': False,
}

RESOURCE_PROPERTY_UPDATE = {
    'type': 'object',
    'properties': {'private': {'type': 'boolean'}},
    'required': ['private'],
    'additionalProperties': False,
}

# Capability keys, where a body's other keys are extra capabilities.
CAPABILITY_BODIES = (id(HOST_CREATE), id(HOST_UPDATE))


# --- the validator ----------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _ecma(pattern):
    """A pattern as JSON Schema reads it: '$' is the very end, \\d is ASCII."""
    return re.compile(re.sub(r'(?<!\\)\$', r'\\Z', pattern), re.ASCII)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, 'string') and not _ecma(pattern).search(instance):
        yield jsonschema.ValidationError('%r does not match %r' % (instance, pattern))


def _is_integer(checker, instance):
    return isinstance(instance, int) and not isinstance(instance, bool)


Validator = jsonschema.validators.extend(
    jsonschema.Draft7Validator, validators={'pattern': _pattern},
    type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine(
        'integer', _is_integer))


def _field(error):
    return '.'.join(str(p) for p in error.absolute_path) or 'body'


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + '...' + text[-1]


def _described(error):
    """The error, or the closest enclosing one about the same value whose
    schema says in words what it expects (an anyOf of forms)."""
    current = error
    while current is not None:
        if (isinstance(current.schema, dict) and 'description' in current.schema
                and list(current.absolute_path) == list(error.absolute_path)):
            return current
        current = current.parent
    return error


def _message(error):
    if error.validator not in ('required', 'additionalProperties', 'not', 'pattern'):
        error = _described(error)
    elif error.validator == 'pattern' and error.validator_value not in _DATE_PATTERNS:
        error = _described(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == 'required':
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        prefix = _field(error)
        return 'Missing parameter %s' % (missing if prefix == 'body'
                                         else '%s.%s' % (prefix, missing))
    if error.validator == 'additionalProperties':
        unknown = sorted(set(error.instance) - set(schema.get('properties', {})))
        return 'Unknown parameter in %s: %s' % (_field(error),
                                                ', '.join(_shown(k) for k in unknown[:10]))
    if error.schema is HOST_CREATE and error.validator == 'not':
        return 'Give name or id, not both'
    if error.schema is HOST_CREATE and error.validator == 'anyOf':
        return 'Missing parameter name'
    if error.validator == 'minProperties' and error.schema is HOST_UPDATE:
        return 'No data to update'
    if error.validator == 'not' and schema.get('description'):
        return 'Invalid %s: %s' % (_field(error), schema['description'])
    if (error.validator == 'pattern' and error.validator_value in _DATE_PATTERNS) or \
            schema.get('description') in _DATE_WORDS:
        raise dates.invalid(error.instance, _field(error),
                            dates.why_invalid(error.instance, _field(error)))
    if 'description' in schema:
        return 'Invalid %s: %s is not %s' % (_field(error), _shown(error.instance),
                                             schema['description'])
    return 'Invalid %s: %s' % (_field(error), error.message[:300])


def _reservation_errors(error):
    """The errors of a reservation against its own type's schema, when a
    lease create's reservation failed the oneOf of all types."""
    item = error.instance
    if error.validator != 'oneOf' or error.schema is not RESERVATION_CREATE:
        return None
    if not isinstance(item, dict):
        return None
    kind = item.get('resource_type')
    schema = (reservation_schema(kind) if isinstance(kind, str)
              and kind in RESERVATION_PARAMS else OTHER_RESERVATION)
    found = list(Validator(schema).iter_errors(item))
    for sub in found:
        sub.path.extendleft(reversed(list(error.absolute_path)))
    return found


def _check_capabilities(body):
    for key in body:
        if key in ('name', 'id'):
            continue
        if not key:
            raise exceptions.InvalidInput(
                reason='Invalid body: an extra capability needs a name')
        if len(key) > MAX_CAPABILITY_KEY:
            raise exceptions.ExtraCapabilityTooLong(key=key)


def _check_reservation_ids(body):
    seen = set()
    for index, item in enumerate(body.get('reservations') or []):
        if isinstance(item, dict) and item.get('id') in seen:
            raise exceptions.InvalidInput(
                reason='Invalid reservations.%d.id: reservation %s is given more '
                       'than once' % (index, item['id']))
        if isinstance(item, dict):
            seen.add(item.get('id'))


def validate(schema, body):
    """Raise InvalidInput (400) saying which field is wrong and why."""
    errors = list(Validator(schema).iter_errors(body))
    expanded = []
    for error in errors:
        expanded.extend(_reservation_errors(error) or [error])
    if expanded:
        expanded.sort(key=lambda e: list(map(str, e.absolute_path)))
        error = jsonschema.exceptions.best_match(expanded)
        raise exceptions.InvalidInput(_message(error))
    if id(schema) in CAPABILITY_BODIES:
        _check_capabilities(body)
    if schema is LEASE_UPDATE:
        _check_reservation_ids(body)
