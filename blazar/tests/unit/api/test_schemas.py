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
    lease_create(start_date='2030-01-01T10:00:00.000000',
                 end_date='2030-01-02T10:00:00Z'),
    lease_create(name='x' * 255),
    lease_create(reservations=[dict(HOST_RESERVATION),
                               {'resource_type': 'virtual:instance', 'vcpus': 1}]),
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
    {}, {'gpu': 'h100'}, {'gpu': 'h100', 'cores': 128, 'ssd': False},
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
    ('start_date', 5), ('start_date', 'tomorrow'), ('start_date', '2030-01-01'),
    ('start_date', None), ('start_date', 'NOW'),
    ('end_date', '01/02/2030 10:00'), ('end_date', '2030-01-02 10:00+02:00'),
    ('before_end_date', 'soon'), ('before_end_date', 7),
    ('reservations', {}), ('reservations', 'physical:host'),
    ('events', {}),
])
def test_lease_create_wrong_type_or_format_names_the_field(field, value):
    message = invalid(schemas.LEASE_CREATE, lease_create(**{field: value}))
    assert message.startswith('Invalid %s:' % field)
    assert repr(value)[:40] in message


def test_date_error_says_what_is_expected():
    message = invalid(schemas.LEASE_CREATE, lease_create(end_date='tomorrow'))
    assert message == ("Invalid end_date: 'tomorrow' is not a UTC date "
                       "'YYYY-MM-DD HH:MM' or 'now'")


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
    ('name', ''), ('name', 1), ('start_date', 'later'), ('end_date', 20300101),
    ('before_end_date', '2030-01-01'), ('reservations', {'id': 'r1'}),
])
def test_lease_update_wrong_type_names_the_field(field, value):
    assert invalid(schemas.LEASE_UPDATE, {field: value}).startswith(
        'Invalid %s:' % field)


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


@pytest.mark.parametrize('value', [['a100'], {'m': 1}])
def test_host_update_non_scalar_value(value):
    message = invalid(schemas.HOST_UPDATE, {'gpu': value})
    assert message == 'Invalid gpu: %r is not a string, number, boolean or null' % (value,)


def test_host_update_null_deletes():
    # `blazar host-unset --extra gpu` sends {"gpu": null}.
    schemas.validate(schemas.HOST_UPDATE, {'gpu': None})


@pytest.mark.parametrize('body, expected', [
    ({}, 'Missing parameter private'),
    ({'private': 'true'}, "Invalid private: 'true' is not of type 'boolean'"),
    ({'private': 1}, "Invalid private: 1 is not of type 'boolean'"),
    ({'private': True, 'public': False}, "Unknown parameter in body: 'public'"),
])
def test_property_update_invalid(body, expected):
    assert invalid(schemas.RESOURCE_PROPERTY_UPDATE, body) == expected
