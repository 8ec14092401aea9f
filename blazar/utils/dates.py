"""Dates on the wire: naive UTC, minute precision in, fixed formats out.

A request date is ``YYYY-MM-DD HH:MM`` (UTC) or ``now``: ASCII digits, a
four-digit year from 0001 to 9999, no seconds (leases have minute
precision, and silently dropping seconds would start and end a lease
earlier than asked). A ``T`` separator and a ``Z`` or ``+00:00`` suffix are
tolerated. Dates go out, and cross RPC, with four-digit years for every
year from 1 to 9999 (``strftime('%Y')`` writes year 1 as ``1`` on glibc, so
nothing here uses it).
"""
import datetime
import re

from oslo_utils import timeutils

from blazar import exceptions

# What python-blazarclient and the dashboard parse.
WIRE_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'
TIMESTAMP_FORMAT = '%Y-%m-%d %H:%M:%S'
# Upstream Blazar's input format, named in its error message.
INPUT_FORMAT = '%Y-%m-%d %H:%M'

_INPUT = re.compile(
    r'^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[ T](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})'
    r'(?:Z|\+00:00)?$')
# The same in the dialect of JSON Schema (ECMA 262: '$' is the very end).
INPUT_PATTERN = _INPUT.pattern.replace('(?P<date>', '(').replace(
    '(?P<hour>', '(').replace('(?P<minute>', '(')
_WITH_SECONDS = re.compile(
    r'^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?'
    r'(?:Z|\+00:00)?\Z')


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


def invalid(value, field, why=None):
    """The 400 for a request date: upstream's words first, then ours."""
    shown = value if isinstance(value, str) else repr(value)
    if len(shown) > 64:
        shown = shown[:61] + '...'
    detail = why or ("%s must be a UTC date 'YYYY-MM-DD HH:MM' or 'now'" % field)
    return exceptions.InvalidDate(
        '%s is an invalid date. Required format: %s (%s)' % (shown, INPUT_FORMAT, detail))


def why_invalid(value, field):
    """The reason a string is not a request date (None if it is one)."""
    if value == 'now':
        return None
    if not isinstance(value, str):
        return "%s must be a string" % field
    if not value.isascii():
        return '%s must be written with ASCII digits' % field
    if _WITH_SECONDS.match(value):
        return ('%s has seconds: dates have minute precision, '
                "write 'YYYY-MM-DD HH:MM'" % field)
    match = _INPUT.fullmatch(value)
    if not match:
        return "%s must be a UTC date 'YYYY-MM-DD HH:MM' or 'now'" % field
    try:
        datetime.datetime.strptime(
            '%s %s:%s' % (match['date'], match['hour'], match['minute']), INPUT_FORMAT)
    except ValueError:
        return '%s is not a date of the calendar (years 0001 to 9999)' % field
    return None


def parse_input(value, field, now=None):
    """Parse a request date ('YYYY-MM-DD HH:MM' UTC, or 'now'); a 400
    naming the field and what is wrong otherwise."""
    if value == 'now':
        return now or utcnow_minute()
    why = why_invalid(value, field)
    if why is not None:
        raise invalid(value, field, why)
    match = _INPUT.fullmatch(value)
    return datetime.datetime.strptime(
        '%s %s:%s' % (match['date'], match['hour'], match['minute']), INPUT_FORMAT)


def format_wire(value):
    """A naive datetime as 'YYYY-MM-DDTHH:MM:SS.ffffff', four-digit year."""
    return '%04d-%02d-%02dT%02d:%02d:%02d.%06d' % (
        value.year, value.month, value.day, value.hour, value.minute,
        value.second, value.microsecond)


def format_timestamp(value):
    """A naive datetime as 'YYYY-MM-DD HH:MM:SS', four-digit year."""
    return '%04d-%02d-%02d %02d:%02d:%02d' % (
        value.year, value.month, value.day, value.hour, value.minute, value.second)


def format_minute(value):
    """A naive datetime as a request writes it: 'YYYY-MM-DD HH:MM'."""
    return '%04d-%02d-%02d %02d:%02d' % (
        value.year, value.month, value.day, value.hour, value.minute)


# What a naive datetime looks like after RPC (blazar.rpc.to_primitive).
_PRIMITIVE = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\Z')


def to_wire(value):
    """Datetime (or its ISO string after RPC) to '...T...ffffff'."""
    if isinstance(value, str) and _PRIMITIVE.match(value):
        return value
    value = _as_datetime(value)
    return format_wire(value) if value else None


def to_timestamp(value):
    """Datetime (or its ISO string after RPC) to 'YYYY-MM-DD HH:MM:SS'."""
    if isinstance(value, str) and _PRIMITIVE.match(value):
        return value[:10] + ' ' + value[11:19]
    value = _as_datetime(value)
    return format_timestamp(value) if value else None


def _as_datetime(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return timeutils.normalize_time(timeutils.parse_isotime(value))


WINDOW_FILTERS = ('start_before', 'start_after', 'end_before', 'end_after')


def parse_window(filters):
    """A list's filters with its window dates (``start_before`` ...
    ``end_after``, request dates or 'now') parsed; a 400 naming the
    filter for a bad one."""
    if not filters:
        return filters
    now = utcnow_minute()
    return {key: (parse_input(value, key, now)
                  if key in WINDOW_FILTERS and isinstance(value, str) else value)
            for key, value in filters.items()}
