"""Request-body schemas: what the clients send passes, the rest is a 400
whose message names the offending field."""
import pytest

from blazar import exceptions
from blazar.api import schemas
from blazar.utils import dates

HOST_RESERVATION = {
    # What `blazar lease-create --physical-reservation min=1,max=1,...` sends.
    'resource_type': 'physical:host', 'min': 1, 'max': 1,
    'hypervisor_properties': '[">=", "$vcpus", "2"]',
    'resource_properties': '', 'before_end': 'default',
}

DROP = object()  # lease_create(field=DROP) leaves the field out


def lease_create(**changes):
    body = {'name': 'lease-1', 'start_date': '2030-01-01 10:00',
            'end_date': '2030-01-02 10:00', 'reservations': [dict(HOST_RESERVATION)],
            'events': []}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not DROP}


def invalid(schema, body):
    with pytest.raises(exceptions.InvalidInput) as info:
        schemas.validate(schema, body)
    assert info.value.code == 400
    return info.value.message


# --- valid bodies --------------------------------------------------------

@pytest.mark.parametrize('body', [
    lease_create(),
    lease_create(start_date='now'),
    lease_create(before_end_date='2030-01-02 09:00'),
    lease_create(before_end_date=None),
    lease_create(reservations=[]),
    lease_create(reservations=DROP, events=DROP),
    lease_create(events=[{'event_type': 'before_end_lease', 'time': 'x'}]),
    lease_create(start_date='2030-01-01T10:00', end_date='2030-01-02T10:00Z'),
    lease_create(name='x' * 255),
    lease_create(reservations=[dict(HOST_RESERVATION),
                               {'resource_type': 'virtual:instance', 'vcpus': 1,
                                'memory_mb': '1024', 'disk_gb': 0, 'amount': '2',
                                'affinity': 'False', 'resource_properties': ''}]),
    lease_create(reservations=[{'resource_type': 'flavor:instance', 'flavor_id': 'f1',
                                'amount': 1, 'affinity': None}]),
    lease_create(reservations=[dict(HOST_RESERVATION, min='1', max='2147483647',
                                    hypervisor_properties=['>=', '$vcpus', 2])]),
    # Another type's plugin checks its own parameters.
    lease_create(reservations=[{'resource_type': 'virtual:floatingip',
                                'network_id': 'n1', 'amount': 1}]),
], ids=lambda b: ','.join(sorted(b)))
def test_lease_create_accepts_client_bodies(body):
    assert schemas.validate(schemas.LEASE_CREATE, body) is None


@pytest.mark.parametrize('body', [
    {},
    {'name': 'renamed'},
    {'end_date': '2030-01-03 10:00'},
    {'start_date': 'now', 'end_date': '2030-01-03 10:00'},
    {'before_end_date': '2030-01-02 09:00'},
    {'before_end_date': None},
    {'reservations': [{'id': 'a1b2', 'min': 2, 'max': 3}]},
    {'name': 'renamed', 'start_date': '2030-01-01 11:00',
     'end_date': '2030-01-02 11:00', 'reservations': [{'id': 'r-1'}]},
])
def test_lease_update_accepts_client_bodies(body):
    assert schemas.validate(schemas.LEASE_UPDATE, body) is None


@pytest.mark.parametrize('body', [
    {'name': 'compute-1'},
    {'name': 'compute-1', 'gpu': 'a100'},
    {'name': 'compute-1', 'gpu': 'a100', 'cores': 64, 'ssd': True, 'ghz': 2.5},
    {'id': '42'},
])
def test_host_create_accepts_client_bodies(body):
    assert schemas.validate(schemas.HOST_CREATE, body) is None


@pytest.mark.parametrize('body', [
    {'gpu': 'h100'}, {'gpu': 'h100', 'cores': 128, 'ssd': False},
    {'notes': 'x' * schemas.MAX_CAPABILITY_VALUE}, {'k' * 64: 'v'},
])
def test_host_update_accepts_client_bodies(body):
    assert schemas.validate(schemas.HOST_UPDATE, body) is None


@pytest.mark.parametrize('private', [True, False])
def test_property_update_accepts_client_bodies(private):
    assert schemas.validate(schemas.RESOURCE_PROPERTY_UPDATE,
                            {'private': private}) is None


# --- invalid bodies ------------------------------------------------------

@pytest.mark.parametrize('missing', ['name', 'start_date', 'end_date'])
def test_lease_create_missing_parameter(missing):
    message = invalid(schemas.LEASE_CREATE, lease_create(**{missing: DROP}))
    assert message == 'Missing parameter %s' % missing


@pytest.mark.parametrize('field, value', [
    ('name', 5), ('name', ''), ('name', 'x' * 256), ('name', None),
    ('reservations', {}), ('reservations', 'physical:host'),
    ('events', {}),
])
def test_lease_create_wrong_type_or_format_names_the_field(field, value):
    message = invalid(schemas.LEASE_CREATE, lease_create(**{field: value}))
    assert message.startswith('Invalid %s:' % field)
    assert repr(value)[:40] in message


@pytest.mark.parametrize('field, value', [
    ('start_date', 5), ('start_date', 'tomorrow'), ('start_date', '2030-01-01'),
    ('start_date', None), ('start_date', 'NOW'),
    ('end_date', '01/02/2030 10:00'), ('end_date', '2030-01-02 10:00+02:00'),
    ('before_end_date', 'soon'), ('before_end_date', 7),
])
def test_bad_date_has_upstreams_words_and_names_the_field(field, value):
    message = invalid(schemas.LEASE_CREATE, lease_create(**{field: value}))
    shown = value if isinstance(value, str) else repr(value)
    assert message.startswith('%s is an invalid date. Required format: '
                              '%%Y-%%m-%%d %%H:%%M (%s ' % (shown, field))


def test_date_error_says_what_is_expected():
    message = invalid(schemas.LEASE_CREATE, lease_create(end_date='tomorrow'))
    assert message == ("tomorrow is an invalid date. Required format: %Y-%m-%d %H:%M "
                       "(end_date must be a UTC date 'YYYY-MM-DD HH:MM' or 'now')")


@pytest.mark.parametrize('value', ['2030-01-01 10:00:59', '2030-01-01T10:00:00Z',
                                   '2030-01-01 10:00:00.000000'])
def test_seconds_are_a_400_that_says_so(value):
    message = invalid(schemas.LEASE_CREATE, lease_create(start_date=value))
    assert 'start_date has seconds: dates have minute precision' in message


def test_non_ascii_digits_are_a_400():
    message = invalid(schemas.LEASE_CREATE,
                      lease_create(start_date='\uff12\uff10\uff13\uff10-01-01 10:00'))
    assert 'start_date must be written with ASCII digits' in message


def test_a_trailing_newline_is_not_the_end_of_the_text():
    # JSON Schema (ECMA 262) reads '$' as the very end, so does the server.
    message = invalid(schemas.LEASE_CREATE, lease_create(end_date='2030-01-02 10:00\n'))
    assert 'is an invalid date' in message


@pytest.mark.parametrize('value, field', [
    ('2030-13-01 10:00', 'start_date'),
    ('2030-02-30 10:00', 'start_date'),
    ('2030-01-01 24:00', 'end_date'),
    ('2030-01-01 10:60', 'end_date'),
])
def test_impossible_date_passes_schema_but_is_refused_when_parsed(value, field):
    # The schema checks the shape only; the manager's parse_input refuses the
    # impossible calendar date, still as a 400 naming the field.
    assert schemas.validate(schemas.LEASE_CREATE, lease_create(**{field: value})) is None
    with pytest.raises(exceptions.InvalidDate) as info:
        dates.parse_input(value, field)
    assert info.value.code == 400
    assert field in info.value.message and value in info.value.message


def test_lease_create_unknown_key():
    message = invalid(schemas.LEASE_CREATE, lease_create(prolong_for='1d'))
    assert message == "Unknown parameter in body: 'prolong_for'"


def test_lease_create_several_unknown_keys_are_all_named():
    message = invalid(schemas.LEASE_CREATE, lease_create(foo=1, bar=2))
    assert message.startswith('Unknown parameter in body:')
    assert "'foo'" in message and "'bar'" in message


def test_several_unknown_keys_message_has_no_jsonschema_leftover():
    message = invalid(schemas.LEASE_CREATE, lease_create(foo=1, bar=2))
    assert 'unexpected' not in message


@pytest.mark.parametrize('reservations, path', [
    ([{'min': 1, 'max': 1}], 'reservations.0.resource_type'),
    ([dict(HOST_RESERVATION), {'min': 1}], 'reservations.1.resource_type'),
])
def test_lease_create_reservation_without_resource_type(reservations, path):
    message = invalid(schemas.LEASE_CREATE, lease_create(reservations=reservations))
    assert message == 'Missing parameter %s' % path


@pytest.mark.parametrize('reservation, path', [
    ({'resource_type': ''}, 'reservations.0.resource_type'),
    ({'resource_type': 3}, 'reservations.0.resource_type'),
    ('physical:host', 'reservations.0'),
])
def test_lease_create_bad_reservation_item(reservation, path):
    message = invalid(schemas.LEASE_CREATE, lease_create(reservations=[reservation]))
    assert message.startswith('Invalid %s:' % path)


@pytest.mark.parametrize('body', [[], None, 'lease', 3])
@pytest.mark.parametrize('schema', [schemas.LEASE_CREATE, schemas.LEASE_UPDATE,
                                    schemas.HOST_CREATE, schemas.HOST_UPDATE,
                                    schemas.RESOURCE_PROPERTY_UPDATE])
def test_body_that_is_not_an_object(schema, body):
    message = invalid(schema, body)
    assert message.startswith('Invalid body:')
    assert "is not of type 'object'" in message


@pytest.mark.parametrize('body, expected', [
    ({'reservations': [{'min': 2}]}, 'Missing parameter reservations.0.id'),
    ({'reservations': [{'id': 'r1'}, {'max': 2}]}, 'Missing parameter reservations.1.id'),
    ({'prolong_for': '1d'}, "Unknown parameter in body: 'prolong_for'"),
    ({'reduce_by': '1h'}, "Unknown parameter in body: 'reduce_by'"),
])
def test_lease_update_invalid(body, expected):
    assert invalid(schemas.LEASE_UPDATE, body) == expected


@pytest.mark.parametrize('field, value', [
    ('name', ''), ('name', 1), ('reservations', {'id': 'r1'}),
])
def test_lease_update_wrong_type_names_the_field(field, value):
    assert invalid(schemas.LEASE_UPDATE, {field: value}).startswith(
        'Invalid %s:' % field)


@pytest.mark.parametrize('field, value', [
    ('start_date', 'later'), ('end_date', 20300101), ('before_end_date', '2030-01-01'),
])
def test_lease_update_bad_date_names_the_field(field, value):
    assert '(%s ' % field in invalid(schemas.LEASE_UPDATE, {field: value})


def test_lease_update_same_reservation_twice():
    message = invalid(schemas.LEASE_UPDATE, {'reservations': [
        {'id': 'r1', 'max': 2}, {'id': 'r2'}, {'id': 'r1', 'max': 3}]})
    assert message == ('Invalid reservations.2.id: reservation r1 is given more '
                       'than once')


@pytest.mark.parametrize('item, expected', [
    ({'id': 'r1', 'min': 0}, 'Invalid reservations.0.min: 0 is not a whole number'),
    ({'id': 'r1', 'max': 2 ** 31}, 'Invalid reservations.0.max: 2147483648 is not'),
    ({'id': 'r1', 'max': '2147483648'}, "Invalid reservations.0.max: '2147483648'"),
    ({'id': 'r1', 'max': 1.0}, 'Invalid reservations.0.max: 1.0 is not'),
    ({'id': 'r1', 'amount': '\u0661'}, 'Invalid reservations.0.amount:'),
    ({'id': 'r1', 'gpus': 1}, "Unknown parameter in reservations.0: 'gpus'"),
    ({'id': 'r1', 'hypervisor_properties': 'x' * 4097},
     'Invalid reservations.0.hypervisor_properties:'),
])
def test_lease_update_reservation_parameters(item, expected):
    assert invalid(schemas.LEASE_UPDATE, {'reservations': [item]}).startswith(expected)


@pytest.mark.parametrize('item, expected', [
    ({'resource_type': 'physical:host', 'min': 1}, 'Missing parameter reservations.0.max'),
    ({'resource_type': 'physical:host', 'min': 1, 'max': 1, 'vcpus': 2},
     "Unknown parameter in reservations.0: 'vcpus'"),
    ({'resource_type': 'physical:host', 'min': 1, 'max': 1, 'before_end': 'later'},
     'Invalid reservations.0.before_end:'),
    ({'resource_type': 'virtual:instance', 'vcpus': 1, 'memory_mb': 1, 'disk_gb': 0,
      'amount': 1, 'affinity': 'maybe'}, 'Invalid reservations.0.affinity:'),
    ({'resource_type': 'virtual:instance', 'vcpus': 1}, 'Missing parameter '
     'reservations.0.memory_mb'),
    ({'resource_type': 'flavor:instance', 'amount': 1}, 'Missing parameter '
     'reservations.0.flavor_id'),
])
def test_lease_create_reservation_of_each_type(item, expected):
    assert invalid(schemas.LEASE_CREATE, lease_create(reservations=[item])).startswith(
        expected)


@pytest.mark.parametrize('body', [{}, {'gpu': 'a100'}, {'hypervisor_hostname': 'c1'}])
def test_host_create_without_name(body):
    assert invalid(schemas.HOST_CREATE, body) == 'Missing parameter name'


@pytest.mark.parametrize('body, field', [
    ({'name': ''}, 'name'),
    ({'name': 5}, 'name'),
    ({'name': 'x' * 256}, 'name'),
    ({'name': 'compute-1', 'gpu': ['a100']}, 'gpu'),
    ({'name': 'compute-1', 'gpu': {'model': 'a100'}}, 'gpu'),
    ({'name': 'compute-1', 'gpu': None}, 'gpu'),
])
def test_host_create_wrong_type_names_the_field(body, field):
    assert invalid(schemas.HOST_CREATE, body).startswith('Invalid %s:' % field)


@pytest.mark.parametrize('value', [['a100'], {'m': 1},
                                   'x' * (schemas.MAX_CAPABILITY_VALUE + 1)])
def test_host_update_non_scalar_or_too_long_value(value):
    message = invalid(schemas.HOST_UPDATE, {'gpu': value})
    assert message.startswith('Invalid gpu: ')
    assert message.endswith(' is not a string (of at most %d characters), number, '
                            'boolean or null (deletes it)' % schemas.MAX_CAPABILITY_VALUE)


def test_host_update_null_deletes():
    # `blazar host-unset --extra gpu` sends {"gpu": null}.
    schemas.validate(schemas.HOST_UPDATE, {'gpu': None})


@pytest.mark.parametrize('value', [None, ['a100']])
def test_host_create_takes_no_null_capability(value):
    message = invalid(schemas.HOST_CREATE, {'name': 'c1', 'gpu': value})
    assert message.startswith('Invalid gpu: ')
    assert message.endswith(' is not a string (of at most %d characters), number or '
                            'boolean' % schemas.MAX_CAPABILITY_VALUE)


@pytest.mark.parametrize('body, expected', [
    ({}, 'No data to update'),
    ({'': 'x'}, 'Invalid body: an extra capability needs a name'),
    ({'k' * 65: 'x'}, 'Extra capability key too long: %s is longer than 64 characters'
                      % ('k' * 65)),
    ({'vcpus': 4}, 'Invalid vcpus: a host attribute read from Nova, not an extra '
                   'capability'),
    ({'name': 'c1'}, 'Invalid name: a host attribute read from Nova, not an extra '
                     'capability'),
])
def test_host_update_refusals(body, expected):
    assert invalid(schemas.HOST_UPDATE, body) == expected


@pytest.mark.parametrize('body, expected', [
    ({'name': 'c1', 'id': '1'}, 'Give name or id, not both'),
    ({'name': 'c1', 'trust_id': 't'}, 'Invalid trust_id: a host attribute read from '
                                      'Nova, not an extra capability'),
    ({'name': 'c1', '': 'x'}, 'Invalid body: an extra capability needs a name'),
    ([], "Invalid body: [] is not of type 'object'"),
])
def test_host_create_refusals(body, expected):
    assert invalid(schemas.HOST_CREATE, body) == expected


@pytest.mark.parametrize('body, expected', [
    ({}, 'Missing parameter private'),
    ({'private': 'true'}, "Invalid private: 'true' is not of type 'boolean'"),
    ({'private': 1}, "Invalid private: 1 is not of type 'boolean'"),
    ({'private': True, 'public': False}, "Unknown parameter in body: 'public'"),
])
def test_property_update_invalid(body, expected):
    assert invalid(schemas.RESOURCE_PROPERTY_UPDATE, body) == expected
