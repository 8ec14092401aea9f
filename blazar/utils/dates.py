"""Dates on the wire: naive UTC, minute precision in, fixed formats out."""
import datetime
import re

from oslo_utils import timeutils

from blazar import exceptions

# What python-blazarclient and the dashboard parse.
WIRE_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'
TIMESTAMP_FORMAT = '%Y-%m-%d %H:%M:%S'

_INPUT = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<hour>\d{2}):(?P<minute>\d{2})'
    r'(?::(?P<second>[0-5]\d)(?:\.\d{1,6})?)?(?:Z|\+00:00)?\Z')
INPUT_PATTERN = _INPUT.pattern.replace('(?P<date>', '(').replace(
    '(?P<hour>', '(').replace('(?P<minute>', '(').replace('(?P<second>', '(')


def utcnow_minute():
    """The current minute: what 'now' means in a request."""
    return timeutils.utcnow().replace(second=0, microsecond=0)


def start_or_now(start, now):
    """``start``, or ``now`` when ``start`` is the minute just before it.

    A client that works out "now" itself sends the minute it saw: the
    Horizon panel does when the start date is left blank ("blank for now").
    The minute can turn while the request travels to the manager; refusing
    it then ("Start date must be later than current date") would fail the
    panel's default at random. One minute back is still "now"; earlier
    stays refused.
    """
    if now - datetime.timedelta(minutes=1) <= start < now:
        return now
    return start


def parse_input(value, field, now=None):
    """Parse a request date ('YYYY-MM-DD HH:MM' UTC, or 'now').

    Seconds, a 'T' separator and a UTC suffix are tolerated, and truncated to
    the minute: leases have minute precision.
    """
    if value == 'now':
        return now or utcnow_minute()
    match = _INPUT.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise exceptions.InvalidDate(date=value, field=field)
    try:
        return datetime.datetime.strptime(
            '%s %s:%s' % (match['date'], match['hour'], match['minute']),
            '%Y-%m-%d %H:%M')
    except ValueError:
        raise exceptions.InvalidDate(date=value, field=field)


# What a naive datetime looks like after RPC (oslo's to_primitive).
_PRIMITIVE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\Z')


def to_wire(value):
    """Datetime (or its ISO string after RPC) to '...T...ffffff'."""
    if isinstance(value, str) and _PRIMITIVE.match(value):
        return value
    value = _as_datetime(value)
    return value.strftime(WIRE_FORMAT) if value else None


def to_timestamp(value):
    """Datetime (or its ISO string after RPC) to 'YYYY-MM-DD HH:MM:SS'."""
    if isinstance(value, str) and _PRIMITIVE.match(value):
        return value[:10] + ' ' + value[11:19]
    value = _as_datetime(value)
    return value.strftime(TIMESTAMP_FORMAT) if value else None


def _as_datetime(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return timeutils.normalize_time(timeutils.parse_isotime(value))
