"""JSON schemas of request bodies, and a validator whose 400 names the field."""
import jsonschema

from blazar import exceptions
from blazar.utils import dates

_DATE = {'type': 'string', 'pattern': r'^now$|' + dates.INPUT_PATTERN,
         'description': "a UTC date 'YYYY-MM-DD HH:MM' or 'now'"}
_NULLABLE_DATE = {'anyOf': [_DATE, {'type': 'null'}],
                  'description': _DATE['description']}
_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'description': 'a non-empty string of at most 255 characters'}
_SCALAR = {'type': ['string', 'number', 'boolean'],
           'description': 'a string, number or boolean'}

def _lease_properties(reservation_item):
    return {
        'name': _NAME,
        'start_date': _DATE,
        'end_date': _DATE,
        'before_end_date': _NULLABLE_DATE,
        'reservations': {'type': 'array', 'items': reservation_item},
        # Accepted for compatibility (the CLI sends it); ignored.
        'events': {'type': 'array'},
    }


LEASE_CREATE = {
    'type': 'object',
    'properties': _lease_properties({
        'type': 'object',
        'properties': {'resource_type': {'type': 'string', 'minLength': 1}},
        'required': ['resource_type']}),
    'required': ['name', 'start_date', 'end_date'],
    'additionalProperties': False,
}

LEASE_UPDATE = {
    'type': 'object',
    'properties': _lease_properties({
        'type': 'object',
        'properties': {'id': {'type': 'string', 'minLength': 1}},
        'required': ['id']}),
    'additionalProperties': False,
}

HOST_CREATE = {
    'type': 'object',
    'properties': {'name': {'type': 'string', 'minLength': 1, 'maxLength': 255}},
    'additionalProperties': _SCALAR,
    'anyOf': [{'required': ['name']}, {'required': ['id']}],
}

HOST_UPDATE = {
    'type': 'object',
    # null deletes the capability (upstream's `blazar host-unset --extra`).
    'additionalProperties': {'type': ['string', 'number', 'boolean', 'null'],
                             'description': 'a string, number, boolean or null'},
}

HOST_MAINTENANCE = {
    'type': 'object',
    'properties': {
        'start_date': _DATE,
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


def _field(error):
    return '.'.join(str(p) for p in error.absolute_path) or 'body'


def _message(error):
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == 'required':
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        prefix = _field(error)
        return 'Missing parameter %s' % (missing if prefix == 'body'
                                         else '%s.%s' % (prefix, missing))
    if error.validator == 'additionalProperties':
        unknown = sorted(set(error.instance) - set(schema.get('properties', {})))
        return 'Unknown parameter in %s: %s' % (_field(error),
                                                ', '.join(repr(k) for k in unknown))
    if error.validator == 'anyOf' and error.schema is HOST_CREATE:
        return 'Missing parameter name'
    if 'description' in schema:
        return 'Invalid %s: %r is not %s' % (_field(error), error.instance,
                                             schema['description'])
    return 'Invalid %s: %s' % (_field(error), error.message)


def validate(schema, body):
    """Raise InvalidInput (400) saying which field is wrong and why."""
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        raise exceptions.InvalidInput(_message(error))
