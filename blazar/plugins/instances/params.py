"""Checking and normalising instance reservation parameters.

``virtual:instance`` describes the instance shape directly; for
``flavor:instance`` the shape is read from an existing Nova flavor (what
Nova will ask Placement for when that flavor boots). Both end up as the
same stored fields plus ``resources`` (one instance's needs per resource
class) and ``traits`` (required/forbidden), which is all the capacity code
looks at.
"""
import json

from blazar import exceptions
from blazar.allocation import flavors
from blazar.allocation import properties

VIRTUAL = 'virtual:instance'
FLAVOR = 'flavor:instance'
INT_MAX = 2 ** 31 - 1
VIRTUAL_PARAMS = ('vcpus', 'memory_mb', 'disk_gb', 'amount', 'affinity',
                  'resource_properties')
FLAVOR_PARAMS = ('flavor_id', 'amount', 'affinity', 'resource_properties')
_NULLS = (None, '', 'none', 'null')
_TRUE = ('true', 'yes', '1', 'on')
_FALSE = ('false', 'no', '0', 'off')


def integer(values, key, lowest):
    """An int (or a string of digits, as the CLI sends) within bounds."""
    value = values.get(key)
    if value is None:
        raise exceptions.MissingParameter(param=key)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise exceptions.MalformedParameter(param=key, reason='%r is not an integer'
                                            % (value,))
    if not lowest <= value <= INT_MAX:
        raise exceptions.InvalidRange(
            what=key, reason='%s must be between %d and %d, got %d'
                             % (key, lowest, INT_MAX, value))
    return value


def affinity(values):
    """None (anywhere), True (one host) or False (distinct hosts); the CLI
    sends strings such as 'False' or 'None'."""
    value = values.get('affinity')
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else value
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise exceptions.MalformedParameter(
        param='affinity', reason='must be null, true or false, got %r' % (value,))


def query_text(values, key='resource_properties'):
    value = values.get(key) or ''
    try:
        properties.parse(value)
    except exceptions.MalformedRequirements as exc:
        raise exceptions.MalformedRequirements('%s: %s' % (key, exc.message))
    return value if isinstance(value, str) else json.dumps(value)


def _refuse_unknown(values, allowed, resource_type):
    unknown = set(values) - set(allowed) - {'resource_type', 'id'}
    if unknown:
        raise exceptions.InvalidInput(
            reason='Unknown parameter(s) for %s: %s (allowed: %s)'
                   % (resource_type, ', '.join(sorted(unknown)), ', '.join(allowed)))


def shape_resources(vcpus, memory_mb, disk_gb):
    """One instance's Placement resources for a virtual:instance shape."""
    wanted = {'VCPU': vcpus, 'MEMORY_MB': memory_mb, 'DISK_GB': disk_gb}
    return {rc: n for rc, n in wanted.items() if n > 0}


def check_virtual(values):
    _refuse_unknown(values, VIRTUAL_PARAMS, VIRTUAL)
    params = {'vcpus': integer(values, 'vcpus', 1),
              'memory_mb': integer(values, 'memory_mb', 1),
              'disk_gb': integer(values, 'disk_gb', 0),
              'amount': integer(values, 'amount', 1),
              'affinity': affinity(values),
              'resource_properties': query_text(values)}
    params['resources'] = shape_resources(params['vcpus'], params['memory_mb'],
                                          params['disk_gb'])
    params['traits'] = {'required': [], 'forbidden': []}
    params['source_flavor'] = None
    return params


def check_flavor_request(values):
    """The flavor-independent part; the flavor itself is read from Nova."""
    _refuse_unknown(values, FLAVOR_PARAMS, FLAVOR)
    flavor_id = values.get('flavor_id')
    if flavor_id in (None, ''):
        raise exceptions.MissingParameter(param='flavor_id')
    if not isinstance(flavor_id, str):
        flavor_id = str(flavor_id)
    return {'flavor_id': flavor_id, 'amount': integer(values, 'amount', 1),
            'affinity': affinity(values),
            'resource_properties': query_text(values)}


def from_flavor(params, flavor):
    """Complete flavor:instance parameters from the Nova flavor."""
    resources, required, forbidden = flavors.placement_request(flavor)
    for key, value in (flavor.get('extra_specs') or {}).items():
        scope, _sep, _name = key.partition(':')
        if scope.startswith('trait') and str(value).lower() not in ('required',
                                                                     'forbidden'):
            raise exceptions.MalformedParameter(
                param='flavor_id', reason='flavor %s has extra spec %s=%s: a trait '
                'must be required or forbidden' % (flavor['id'], key, value))
    return dict(params, vcpus=int(flavor['vcpus']), memory_mb=int(flavor['ram']),
                disk_gb=int(flavor['disk']) + int(flavor.get('ephemeral') or 0),
                resources=resources,
                traits={'required': sorted(t for group in required for t in group),
                        'forbidden': sorted(forbidden)},
                source_flavor=flavor)
