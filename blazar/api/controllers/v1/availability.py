"""/v1/availability, /v1/availability/duration, /v1/offerings, /v1/calendar
and /v1/usage: questions answered by the manager, read-only.

Query parameters are validated against a JSON schema (400 naming the
parameter); the manager checks what depends on time and on the resource
type (blazar/manager/availability.py).
"""
import pecan

from blazar import exceptions
from blazar import policy
from blazar.allocation import properties
from blazar.api import controllers as c
from blazar.api import paging
from blazar.api import schemas
from blazar.manager import availability as answers
from blazar.utils import dates

_DATE = schemas.DATE
_WHOLE = {'type': 'string', 'pattern': r'^[1-9][0-9]{0,5}$',
          'description': 'a whole number from 1 to 999999'}
_LIMIT = {'type': 'string', 'pattern': r'^([1-9]|[1-4][0-9]|50)$',
          'description': 'a whole number from 1 to %d' % answers.MAX_OFFERINGS}
_DURATION = {'type': 'string', 'minLength': 1,
             'pattern': answers.DURATION_PATTERN,
             'description': "a number of minutes or a duration such as '90m', "
                            "'8h', '2d' or '1d12h'"}
_QUERY = {'type': 'string', 'maxLength': properties.MAX_LENGTH,
          'description': 'a property query (JSON text of at most %d characters, '
                         'nested at most %d levels)'
                         % (properties.MAX_LENGTH, properties.MAX_DEPTH)}
_TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'description': 'a non-empty string of at most 255 characters'}


def _size(lowest):
    return {'type': 'string', 'pattern': schemas.digits(schemas.INT_MAX, lowest),
            'description': 'a whole number from %d to %d (as in a lease '
                           'reservation)' % (lowest, schemas.INT_MAX)}


# The reservation description, as in a lease: physical:host's property
# queries, virtual:instance's shape, flavor:instance's flavor (the resource
# type's plugin checks them and refuses the others).
_RESOURCE = {'resource_type': {'type': 'string', 'minLength': 1, 'maxLength': 66,
                               'description': "a resource type: 'physical:host' "
                                              "(default), 'virtual:instance', "
                                              "'flavor:instance' or "
                                              "'virtual:floatingip'"},
             'hypervisor_properties': _QUERY, 'resource_properties': _QUERY,
             'vcpus': _size(1), 'memory_mb': _size(1), 'disk_gb': _size(0),
             'flavor_id': _TEXT,
             'network_id': dict(_TEXT, description='floating IPs: a Neutron network id'),
             'affinity': {'type': 'string',
                          'pattern': schemas.any_case(
                              '', 'true', 'false', 'yes', 'no', 'on', 'off', '1',
                              '0', 'none', 'null'),
                          'description': 'instances: true (one host), false '
                                         '(distinct hosts) or none (anywhere)'}}
RESOURCE_PARAMS = ('hypervisor_properties', 'resource_properties', 'vcpus',
                   'memory_mb', 'disk_gb', 'flavor_id', 'affinity', 'network_id')
# The size of a request: ``count`` hosts or an ``amount`` of instances (the
# two names are synonyms; give one).
_AMOUNT = dict(_WHOLE, description='number of instances (synonym of count)')


def _schema(required=(), **properties):
    return {'type': 'object', 'properties': dict(_RESOURCE, **properties),
            'required': list(required)}


HOW_MANY = _schema(['end_date'], start_date=_DATE, end_date=_DATE)
HOW_LONG = _schema(start_date=_DATE, count=_WHOLE, amount=_AMOUNT)
OFFERINGS = _schema(['duration'], count=_WHOLE, amount=_AMOUNT,
                    duration=_DURATION, earliest_start=_DATE, latest_end=_DATE,
                    limit=_LIMIT, name=_TEXT)
_BOOLEAN = {'type': 'string',
            'pattern': schemas.any_case('true', 'false', 'yes', 'no', '1', '0'),
            'description': 'true or false'}
# Administrators' host detail pages by host id (blazar/api/paging.py).
CALENDAR = _schema(start_date=_DATE, end_date=_DATE, hosts=_BOOLEAN,
                   limit=dict(paging.LIMIT, description='with the host detail: '
                              + paging.LIMIT['description'] + ' (hosts_links)'),
                   marker=dict(paging.MARKER, description='with the host detail: '
                               'the id of the last host of the previous page'))
# Usage ends now unless told otherwise: its start is a date, never 'now'.
USAGE = {'type': 'object',
         'properties': {'start_date': schemas.PAST_OR_FUTURE_DATE, 'end_date': _DATE,
                        'project_id': _TEXT}}


def query(schema):
    """The query parameters as a dict, checked against ``schema``: 400 for
    an unknown or repeated parameter or a bad value, naming it."""
    params = {}
    for key, value in pecan.request.GET.items():
        if key in params:
            raise exceptions.InvalidInput(
                reason='Parameter %s is given more than once' % key)
        params[key] = value
    unknown = sorted(set(params) - set(schema['properties']))
    if unknown:
        raise exceptions.InvalidInput(
            reason='Unknown parameter(s): %s (allowed: %s)'
                   % (', '.join(unknown), ', '.join(sorted(schema['properties']))))
    schemas.validate(schema, params)
    return params


def _split(params):
    """(resource type, reservation description) of a request."""
    return (params.get('resource_type'),
            {key: params[key] for key in RESOURCE_PARAMS if key in params})


def _size(params):
    """``count`` or ``amount`` (None when neither: the manager names the
    missing one for the resource type)."""
    if 'count' in params and 'amount' in params:
        raise exceptions.InvalidInput(
            reason='Give count or amount, not both')
    value = params.get('count', params.get('amount'))
    return None if value is None else int(value)


def _wire(value, *keys):
    value = dict(value)
    for key in keys:
        value[key] = dates.to_wire(value.get(key))
    return value


class AvailabilityController:
    """How many (``GET /v1/availability``) and how long
    (``GET /v1/availability/duration``)."""

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:availability:get')
        params = query(HOW_MANY)
        resource_type, props = _split(params)
        answer = c.manager().get_availability(
            c.context(), resource_type=resource_type,
            start_date=params.get('start_date', 'now'),
            end_date=params['end_date'], params=props)
        return {'availability': _wire(answer, 'start_date', 'end_date')}

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def duration(self):
        c.authorize('blazar:availability:get')
        params = query(HOW_LONG)
        resource_type, props = _split(params)
        answer = c.manager().get_availability_duration(
            c.context(), resource_type=resource_type,
            start_date=params.get('start_date', 'now'),
            count=_size(params), params=props)
        return {'availability': _wire(answer, 'start_date', 'end_date')}


class OfferingsController:
    """When: ``GET /v1/offerings``."""

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:offerings:get')
        params = query(OFFERINGS)
        resource_type, props = _split(params)
        found = c.manager().list_offerings(
            c.context(), resource_type=resource_type, count=_size(params),
            duration=params['duration'],
            earliest_start=params.get('earliest_start'),
            latest_end=params.get('latest_end'),
            limit=int(params['limit']) if 'limit' in params else None,
            params=props, name=params.get('name'))
        return {'offerings': [_wire(o, 'start_date', 'end_date') for o in found]}


class CalendarController:
    """``GET /v1/calendar``: the free count over a frame for everyone, each
    host's busy intervals for administrators."""

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:calendar:get')
        params = query(CALENDAR)
        resource_type, props = _split(params)
        ctx = c.context()
        if 'hosts' not in params:
            detail = policy.check(ctx, 'blazar:calendar:get_hosts')
        elif params['hosts'].lower() in ('true', 'yes', '1'):
            c.authorize('blazar:calendar:get_hosts')
            detail = True
        else:
            detail = False
        pager = paging.Pager({key: params[key] for key in ('limit', 'marker')
                              if key in params})
        extra = {'page': pager.page} if detail and pager.page else {}
        answer = c.manager().get_calendar(
            ctx, resource_type=resource_type,
            start_date=params.get('start_date', 'now'),
            end_date=params.get('end_date'), params=props, detail=detail, **extra)
        answer = _wire(answer, 'start_date', 'end_date')
        answer['free'] = [_wire(step, 'start_date', 'end_date')
                          for step in answer['free']]
        # Each host (or floating IP) with what holds it, for administrators.
        for key in ('hosts', 'floatingips'):
            if detail and key in answer:
                answer[key] = [
                    dict(item, id=str(item['id']),
                         busy=[_wire(b, 'start_date', 'end_date') for b in item['busy']])
                    for item in answer[key]]
            else:
                answer.pop(key, None)
        if extra and 'hosts' in answer:
            answer.update(pager.answer('hosts', answer['hosts']))
        return {'calendar': answer}


class UsageController:
    """``GET /v1/usage``: reserved hours per project."""

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        params = query(USAGE)
        ctx = c.context()
        project_id = params.get('project_id')
        if project_id is None and not policy.check(
                ctx, 'blazar:usage:get_all_projects'):
            project_id = ctx.project_id
        c.authorize('blazar:usage:get', {'project_id': project_id or ctx.project_id,
                                         'user_id': ctx.user_id})
        answer = c.manager().get_usage(
            ctx, start_date=params.get('start_date'),
            end_date=params.get('end_date'), project_id=project_id)
        return {'usage': _wire(answer, 'start_date', 'end_date')}
