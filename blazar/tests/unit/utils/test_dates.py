"""Dates in requests (minute precision) and in responses (fixed formats)."""
import datetime

from hypothesis import given
from hypothesis import strategies as st
from oslo_utils import timeutils
import pytest

from blazar import exceptions
from blazar.utils import dates

D = datetime.datetime(2030, 1, 2, 10, 15)


@pytest.mark.parametrize('value', [
    '2030-01-02 10:15',
    '2030-01-02T10:15',
    '2030-01-02 10:15Z',
    '2030-01-02T10:15Z',
    '2030-01-02 10:15+00:00',
])
def test_accepted_forms(value):
    parsed = dates.parse_input(value, 'start_date')
    assert parsed == D
    assert parsed.tzinfo is None


@pytest.mark.parametrize('value', [
    '2030-01-02 10:15:00',
    '2030-01-02 10:15:59',
    '2030-01-02T10:15:59.999999',
    '2030-01-02T10:15:30.5',
    '2030-01-02T10:15:07Z',
    '2030-01-02T10:15:07.123+00:00',
    '2030-01-02T10:15:00.000000',
])
def test_seconds_are_refused_not_dropped(value):
    # Dropping them would start and end the lease earlier than asked.
    with pytest.raises(exceptions.InvalidDate) as info:
        dates.parse_input(value, 'start_date')
    message = info.value.message
    assert message.startswith('%s is an invalid date. Required format: '
                              '%%Y-%%m-%%d %%H:%%M' % value)
    assert 'start_date has seconds' in message and 'minute precision' in message


@pytest.mark.parametrize('value', [
    '\uff12\uff10\uff13\uff10-01-02 10:15',     # full-width digits
    '2030-01-02 \u0661\u0660:15',                # Arabic-Indic digits
    '2030-01-02 10:\U0001d7d9\U0001d7dd',        # mathematical digits
])
def test_non_ascii_digits_are_refused(value):
    with pytest.raises(exceptions.InvalidDate) as info:
        dates.parse_input(value, 'end_date')
    assert 'end_date must be written with ASCII digits' in info.value.message


@pytest.mark.parametrize('value, year', [('0001-01-01 00:00', 1),
                                         ('9999-12-31 23:59', 9999)])
def test_every_four_digit_year(value, year):
    assert dates.parse_input(value, 'start_date').year == year


def test_year_zero_is_not_a_date():
    with pytest.raises(exceptions.InvalidDate) as info:
        dates.parse_input('0000-01-01 00:00', 'start_date')
    assert 'not a date of the calendar' in info.value.message


def test_now_is_the_given_now():
    now = datetime.datetime(2030, 5, 6, 7, 8)
    assert dates.parse_input('now', 'start_date', now) is now


def test_now_without_given_now_is_the_current_minute():
    fake_now = datetime.datetime(2031, 3, 4, 5, 6, 7, 891011)
    timeutils.set_time_override(fake_now)
    try:
        assert dates.parse_input('now', 'start_date') == datetime.datetime(
            2031, 3, 4, 5, 6)
        assert dates.utcnow_minute() == datetime.datetime(2031, 3, 4, 5, 6)
    finally:
        timeutils.clear_time_override()


@pytest.mark.parametrize('value', [
    '2030-13-01 10:00', '2030-02-30 10:00', '2030-00-10 10:00',
    '2030-01-01 24:00', '2030-01-01 10:60',
    '2030-01-01', '10:00', '', ' 2030-01-01 10:00', '2030-01-01 10:00 ',
    '2030-01-01  10:00', '2030/01/01 10:00', '30-01-01 10:00', '2030-1-1 10:00',
    '2030-01-01 10:00+02:00', '2030-01-01 10:00:00.1234567', '2030-01-01 10',
    'NOW', 'Now', 'tomorrow',
    None, 5, 1893492000.0, D, ['2030-01-01 10:00'],
])
@pytest.mark.parametrize('field', ['start_date', 'end_date', 'before_end_date'])
def test_invalid_dates_name_the_field(value, field):
    with pytest.raises(exceptions.InvalidDate) as info:
        dates.parse_input(value, field)
    assert info.value.code == 400
    assert isinstance(info.value, exceptions.InvalidInput)
    message = info.value.message
    # Upstream's words first, then which field and why.
    shown = value if isinstance(value, str) else repr(value)
    assert message.startswith('%s is an invalid date. Required format: '
                              '%%Y-%%m-%%d %%H:%%M (' % shown[:61])
    assert '(%s ' % field in message


def test_input_pattern_is_the_parser_pattern_without_group_names():
    import re
    pattern = re.compile(dates.INPUT_PATTERN)
    assert pattern.groupindex == {}
    assert pattern.match('2030-01-02T10:15Z')
    assert not pattern.match('2030-01-02T10:15:59.5Z')
    assert not pattern.match('2030-01-02')


# --- out -----------------------------------------------------------------

@pytest.mark.parametrize('value', [
    datetime.datetime(2030, 1, 2, 10, 15),
    '2030-01-02T10:15:00',
    '2030-01-02T10:15:00.000000',
    '2030-01-02 10:15:00',
    '2030-01-02T10:15:00Z',
    '2030-01-02T10:15:00+00:00',
])
def test_to_wire_and_to_timestamp(value):
    assert dates.to_wire(value) == '2030-01-02T10:15:00.000000'
    assert dates.to_timestamp(value) == '2030-01-02 10:15:00'


def test_microseconds_are_kept_on_the_wire_only():
    value = datetime.datetime(2030, 1, 2, 10, 15, 7, 123456)
    assert dates.to_wire(value) == '2030-01-02T10:15:07.123456'
    assert dates.to_wire(value.isoformat()) == '2030-01-02T10:15:07.123456'
    assert dates.to_timestamp(value) == '2030-01-02 10:15:07'


def test_none_stays_none():
    assert dates.to_wire(None) is None
    assert dates.to_timestamp(None) is None


def test_value_after_rpc_serialisation():
    # What oslo.messaging's JSON serialiser makes of a datetime.
    from oslo_serialization import jsonutils
    value = datetime.datetime(2030, 1, 2, 10, 15, 7, 5)
    primitive = jsonutils.loads(jsonutils.dumps({'d': value}))['d']
    assert isinstance(primitive, str)
    assert dates.to_wire(primitive) == dates.to_wire(value)
    assert dates.to_timestamp(primitive) == dates.to_timestamp(value)


_datetimes = st.datetimes(min_value=datetime.datetime(1, 1, 1),
                          max_value=datetime.datetime(9999, 12, 31, 23, 59, 59, 999999))


@given(_datetimes)
def test_round_trip(value):
    wire = dates.to_wire(value)
    # Wire text and ISO text (after RPC) come back to the same instant.
    assert dates.to_wire(wire) == wire
    assert dates.to_wire(value.isoformat()) == wire
    assert datetime.datetime.strptime(wire, dates.WIRE_FORMAT) == value
    stamp = dates.to_timestamp(value)
    assert datetime.datetime.strptime(stamp, dates.TIMESTAMP_FORMAT) == \
        value.replace(microsecond=0)
    # What a client sends back, to the minute, is the same minute.
    minute = value.replace(second=0, microsecond=0)
    assert dates.parse_input(dates.format_minute(value), 'end_date') == minute
    assert dates.parse_input(wire[:16], 'end_date') == minute
    assert dates.parse_input(stamp[:16], 'end_date') == minute


@given(_datetimes)
def test_dates_cross_rpc_with_four_digit_years(value):
    # What the manager sends back (blazar.rpc) is what the API writes out.
    from oslo_serialization import jsonutils

    from blazar import rpc
    primitive = jsonutils.loads(jsonutils.dumps(rpc.to_primitive({'d': value})))['d']
    assert primitive == value.isoformat(timespec='microseconds')  # '0001-...'
    assert dates.to_wire(primitive) == primitive
    assert datetime.datetime.strptime(primitive, dates.WIRE_FORMAT) == value
    assert dates.to_timestamp(primitive) == dates.format_timestamp(value)


@pytest.mark.parametrize('value, wire', [
    (datetime.datetime(1, 1, 1), '0001-01-01T00:00:00.000000'),
    (datetime.datetime(999, 12, 31, 23, 59), '0999-12-31T23:59:00.000000'),
    (datetime.datetime(9999, 12, 31, 23, 59, 59, 999999), '9999-12-31T23:59:59.999999'),
])
def test_years_before_1000_keep_four_digits(value, wire):
    from blazar import rpc
    assert rpc.to_primitive(value) == wire
    assert dates.to_wire(value) == wire
    assert dates.to_timestamp(value) == wire[:10] + ' ' + wire[11:19]
    assert dates.format_minute(value) == wire[:10] + ' ' + wire[11:16]


@pytest.mark.parametrize('value', ['2030-01-01 10:00\n', '2030-01-01 10:00:99',
                                   '2030-01-01 10:00:60', '2030-01-01 10:00\x00'])
def test_trailing_newline_and_impossible_seconds_are_refused(value):
    with pytest.raises(exceptions.InvalidDate):
        dates.parse_input(value, 'start_date')


def test_an_offset_after_rpc_is_converted_to_utc():
    assert dates.to_wire('2030-01-01T10:15:00+02:00') == '2030-01-01T08:15:00.000000'


@pytest.mark.parametrize('start, expected', [
    (datetime.datetime(2030, 1, 2, 10, 14), D),      # the minute just gone: now
    (D, D),
    (datetime.datetime(2030, 1, 2, 10, 16), datetime.datetime(2030, 1, 2, 10, 16)),
    (datetime.datetime(2030, 1, 2, 10, 13), datetime.datetime(2030, 1, 2, 10, 13)),
])
def test_only_the_minute_just_gone_is_still_now(start, expected):
    assert dates.start_or_now(start, D) == expected
