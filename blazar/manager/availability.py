"""How many, how long, when, the calendar and usage: the manager's answers.

This module parses and checks the request (dates, durations, counts) the
way lease creation does, hands the question to the resource type's
provider, and shapes the answer. Providers compute from the same loaded
data and the same allocation core as lease creation
(:mod:`blazar.plugins.hosts.availability` for ``physical:host``,
:mod:`blazar.plugins.instances.availability` for ``virtual:instance`` and
``flavor:instance``); a resource type plugs in by adding its provider class
to :data:`PROVIDERS` (built with the type's plugin), with
``check_params``, ``reservation_body``, ``margin``, ``how_many``,
``how_long``, ``offerings`` and ``calendar`` (see
:class:`blazar.plugins.hosts.availability.HostAvailability`), and
``count_name`` when the size of a request is not called ``count``
(``amount`` for instances); usage reads the allocations of every type.

Dates are naive UTC with minute precision, like leases. Answers carry
datetimes; the API formats them.
"""
import datetime
import re
import threading

from blazar import exceptions
from blazar import plugins as plugin_loader
from blazar.db import api as db_api
from blazar.plugins.floatingips import availability as fip_availability
from blazar.plugins.hosts import availability as host_availability
from blazar.plugins.instances import availability as instance_availability
from blazar.plugins.instances import params as instance_params
from blazar.utils import dates

MINUTE = datetime.timedelta(minutes=1)
# The latest date the API can write back ('YYYY-MM-DD HH:MM').
MAX_DATE = datetime.datetime(9999, 12, 31, 23, 59)
# Offerings start within this long after the earliest start unless the
# request gives a latest end.
DEFAULT_OFFERING_FRAME = datetime.timedelta(days=30)
# The calendar shows this long from its start unless given an end.
DEFAULT_CALENDAR_FRAME = datetime.timedelta(days=7)
# Usage covers this long before its end unless given a start.
DEFAULT_USAGE_FRAME = datetime.timedelta(days=30)
DEFAULT_OFFERINGS = 5
MAX_OFFERINGS = 50

PROVIDERS = {
    host_availability.RESOURCE_TYPE: host_availability.HostAvailability,
    instance_params.VIRTUAL: instance_availability.InstanceAvailability,
    instance_params.FLAVOR: instance_availability.InstanceAvailability,
    fip_availability.RESOURCE_TYPE: fip_availability.FloatingIPAvailability,
}

_DURATION = re.compile(
    r'^(?:(?P<w>\d{1,4})w)?(?:(?P<d>\d{1,6})d)?(?:(?P<h>\d{1,7})h)?'
    r'(?:(?P<m>\d{1,8})m?)?$')
DURATION_PATTERN = _DURATION.pattern.replace('?P<w>', '').replace(
    '?P<d>', '').replace('?P<h>', '').replace('?P<m>', '')


def parse_duration(value, field='duration'):
    """Minutes as an int, or a string such as '90', '90m', '8h', '2d',
    '1w', '1d12h' -> timedelta (whole minutes, at least one)."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        minutes = value
    else:
        match = _DURATION.match(value) if isinstance(value, str) and value else None
        if not match:
            raise exceptions.MalformedParameter(
                param=field, reason="%r is not a number of minutes or a "
                "duration such as '90m', '8h', '2d' or '1d12h'" % (value,))
        minutes = (int(match['w'] or 0) * 7 * 1440 + int(match['d'] or 0) * 1440
                   + int(match['h'] or 0) * 60 + int(match['m'] or 0))
    if minutes < 1:
        raise exceptions.MalformedParameter(
            param=field, reason='must be at least one minute')
    return datetime.timedelta(minutes=minutes)


def _positive(value, field, highest=None):
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise exceptions.MalformedParameter(param=field,
                                            reason='must be a whole number >= 1')
    if highest is not None and value > highest:
        raise exceptions.MalformedParameter(
            param=field, reason='must be at most %d' % highest)
    return value


def _add(t, delta):
    """``t + delta`` capped at :data:`MAX_DATE` (no overflow)."""
    try:
        return min(t + delta, MAX_DATE)
    except OverflowError:
        return MAX_DATE


def _sub(t, delta):
    """``t - delta``, no earlier than year 1 (no overflow)."""
    try:
        return t - delta
    except OverflowError:
        return datetime.datetime.min


def _ceil_minute(t):
    if t.second or t.microsecond:
        return t.replace(second=0, microsecond=0) + MINUTE
    return t


def _size(provider, count):
    """The size of a request (hosts, or instances: ``amount``), checked."""
    name = getattr(provider, 'count_name', 'count')
    if count is None:
        raise exceptions.MissingParameter(param=name)
    return _positive(count, name)


def _sizes(provider, count):
    """The size as answers carry it: ``count`` always (the same key for
    every type), and the type's own name too when it differs."""
    return dict({'count': count}, **{getattr(provider, 'count_name', 'count'): count})


def lease_date(t):
    """A datetime as a lease request writes it."""
    return t.strftime('%Y-%m-%d %H:%M')


def _future_start(value, field, now):
    start = dates.parse_input(value or 'now', field, now)
    if start < now:
        raise exceptions.InvalidInput(
            reason='%s must not be in the past (now is %s UTC)'
            % (field, lease_date(now)))
    return start


class AvailabilityService:
    """One per manager; holds one provider (and its cached calendar) per
    resource type."""

    def __init__(self, plugins):
        self.plugins = plugins
        self._lock = threading.Lock()
        self._providers = {}

    def provider(self, resource_type):
        resource_type = resource_type or host_availability.RESOURCE_TYPE
        plugin = plugin_loader.get(self.plugins, resource_type)
        factory = PROVIDERS.get(resource_type)
        if factory is None:
            raise exceptions.UnsupportedResourceType(
                'Availability queries do not support the %s resource type yet '
                '(supported: %s)' % (resource_type,
                                     ', '.join(sorted(PROVIDERS))))
        with self._lock:
            if resource_type not in self._providers:
                self._providers[resource_type] = factory(plugin)
            return self._providers[resource_type]

    # --- how many ---------------------------------------------------------
    def how_many(self, context, resource_type=None, start_date='now',
                 end_date=None, params=None):
        provider = self.provider(resource_type)
        params = provider.check_params(params or {})
        if not end_date:
            raise exceptions.MissingParameter(param='end_date')
        now = dates.utcnow_minute()
        start = _future_start(start_date, 'start_date', now)
        end = dates.parse_input(end_date, 'end_date', now)
        if end <= start:
            raise exceptions.InvalidInput(
                reason='End date must be later than start date')
        answer = provider.how_many(context, (start, end), params)
        return dict({'resource_type': provider.resource_type,
                     'start_date': start, 'end_date': end},
                    **params, cleaning_time=int(provider.margin() / MINUTE),
                    **answer)

    # --- how long ---------------------------------------------------------
    def how_long(self, context, resource_type=None, start_date='now',
                 count=None, params=None):
        provider = self.provider(resource_type)
        params = provider.check_params(params or {})
        count = _size(provider, count)
        now = dates.utcnow_minute()
        start = _future_start(start_date, 'start_date', now)
        end, free = provider.how_long(context, start, count, params)
        if end is not None and end > MAX_DATE:
            end = MAX_DATE
        return dict({'resource_type': provider.resource_type,
                     'start_date': start}, **_sizes(provider, count), **params,
                    end_date=end,
                    duration=None if end is None else int((end - start) / MINUTE),
                    free=free)

    # --- when -------------------------------------------------------------
    def offerings(self, context, resource_type=None, count=None, duration=None,
                  earliest_start=None, latest_end=None, limit=None,
                  params=None, name=None):
        provider = self.provider(resource_type)
        params = provider.check_params(params or {})
        count = _size(provider, count)
        if duration is None:
            raise exceptions.MissingParameter(param='duration')
        length = parse_duration(duration)
        limit = _positive(DEFAULT_OFFERINGS if limit is None else limit,
                          'limit', MAX_OFFERINGS)
        # An offering must still be valid when it comes back as a lease, and
        # a create refuses a start before the current minute: never offer a
        # start before the next whole minute.
        soonest = _ceil_minute(db_api.utcnow())
        earliest = dates.parse_input(earliest_start or 'now', 'earliest_start',
                                     soonest)
        earliest = max(earliest, soonest)
        if latest_end:
            latest = dates.parse_input(latest_end, 'latest_end', soonest)
            if latest <= earliest:
                raise exceptions.InvalidInput(
                    reason='latest_end must be later than earliest_start '
                    '(and than now)')
        else:
            latest = _add(earliest, DEFAULT_OFFERING_FRAME + length)
        found = provider.offerings(context, count, length, (earliest, latest),
                                   limit, params)
        name = name or 'lease'
        return [{'start_date': start, 'end_date': end, **_sizes(provider, count),
                 'free': free, 'duration': int(length / MINUTE),
                 'lease': {'name': name, 'start_date': lease_date(start),
                           'end_date': lease_date(end),
                           'reservations': [provider.reservation_body(count, params)],
                           'events': []}}
                for start, end, free in found]

    # --- calendar ---------------------------------------------------------
    def calendar(self, context, resource_type=None, start_date='now',
                 end_date=None, params=None, detail=False, page=None):
        """The free profile over a frame; with ``detail`` each matching
        host's busy intervals, every host or, with ``page`` ({'limit',
        'marker'}), the hosts by id after the marker host (400 if it is
        not one of them), at most ``limit``."""
        provider = self.provider(resource_type)
        params = provider.check_params(params or {})
        now = dates.utcnow_minute()
        start = dates.parse_input(start_date or 'now', 'start_date', now)
        end = (dates.parse_input(end_date, 'end_date', now) if end_date
               else _add(start, DEFAULT_CALENDAR_FRAME))
        if end <= start:
            raise exceptions.InvalidInput(
                reason='End date must be later than start date')
        extra = {'page': page} if detail and page else {}
        answer = provider.calendar(context, (start, end), params, detail=detail, **extra)
        profile = answer['profile']
        steps = [{'start_date': t, 'end_date': (profile[i + 1][0]
                                                if i + 1 < len(profile) else end),
                  'free': free} for i, (t, free) in enumerate(profile)]
        result = dict({'resource_type': provider.resource_type,
                       'start_date': start, 'end_date': end}, **params,
                      cleaning_time=int(answer['cleaning_time'] / MINUTE),
                      total=answer['total'], free=steps)
        if detail:
            for key in ('hosts', 'floatingips'):
                if key in answer:
                    result[key] = answer[key]
        return result

    # --- usage ------------------------------------------------------------
    def usage(self, context, start_date=None, end_date=None, project_id=None):
        """Reserved time per project over ``[start, end)``: host-hours of
        host reservations and the VCPU, memory and disk hours of the hosts
        (or instances) held, from the allocations (cleaning time excluded),
        summed by the database. ``project_id`` None: every project with
        some usage."""
        now = dates.utcnow_minute()
        end = dates.parse_input(end_date, 'end_date', now) if end_date else now
        start = (dates.parse_input(start_date, 'start_date', now) if start_date
                 else _sub(end, DEFAULT_USAGE_FRAME))
        if end <= start:
            raise exceptions.InvalidInput(
                reason='End date must be later than start date')
        projects = []
        fips = db_api.floatingip_usage_totals(context, start, end, project_id)
        rows = {row['project_id']: row
                for row in db_api.usage_totals(context, start, end, project_id)}
        lease_ids = db_api.usage_lease_ids(context, start, end, project_id) if fips else {}
        empty = {'host_seconds': 0.0, 'instance_seconds': 0.0, 'vcpu_seconds': 0.0,
                 'memory_mb_seconds': 0.0, 'disk_gb_seconds': 0.0, 'leases': 0,
                 'reservations': 0}
        for project in sorted(set(rows) | set(fips), key=lambda p: (p is None, p or '')):
            row = rows.get(project) or dict(empty, project_id=project)
            fip = fips.get(project)
            if fip:
                row = dict(row, leases=len(lease_ids.get(project, set())
                                           | fip['lease_ids']),
                           reservations=row['reservations'] + len(fip['reservations']))
            entry = {'project_id': row['project_id'],
                     'floatingip_hours': (fip['seconds'] if fip else 0.0) / 3600.0,
                     'host_hours': row['host_seconds'] / 3600.0,
                     'instance_hours': row['instance_seconds'] / 3600.0,
                     'vcpu_hours': row['vcpu_seconds'] / 3600.0,
                     'memory_mb_hours': row['memory_mb_seconds'] / 3600.0,
                     'disk_gb_hours': row['disk_gb_seconds'] / 3600.0,
                     'leases': row['leases'], 'reservations': row['reservations']}
            for field in USAGE_FIELDS:
                entry[field] = round(entry[field], 4)
            projects.append(entry)
        if project_id is not None and not projects:
            projects.append(dict({'project_id': project_id, 'leases': 0,
                                  'reservations': 0},
                                 **{field: 0.0 for field in USAGE_FIELDS}))
        return {'start_date': start, 'end_date': end, 'projects': projects}


USAGE_FIELDS = ('host_hours', 'instance_hours', 'vcpu_hours', 'memory_mb_hours',
                'disk_gb_hours', 'floatingip_hours')


