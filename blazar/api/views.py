"""Wire shapes of the objects the API returns (dates in the formats the
existing clients parse)."""
from blazar.utils import dates


def _timestamps(obj):
    obj['created_at'] = dates.to_timestamp(obj.get('created_at'))
    obj['updated_at'] = dates.to_timestamp(obj.get('updated_at'))
    return obj


def lease(value):
    value = dict(value)
    value['start_date'] = dates.to_wire(value['start_date'])
    value['end_date'] = dates.to_wire(value['end_date'])
    value['reservations'] = [_timestamps(dict(r)) for r in value.get('reservations', [])]
    value['events'] = [_timestamps(dict(e, time=dates.to_wire(e['time'])))
                       for e in value.get('events', [])]
    return _timestamps(value)


def host(value):
    value = dict(value)
    capabilities = value.pop('capabilities', {}) or {}
    value['id'] = str(value['id'])
    if 'maintenance_start' in value:
        value['maintenance_start'] = dates.to_wire(value['maintenance_start'])
    _timestamps(value)
    for key, cap in capabilities.items():
        value.setdefault(key, cap)
    return value


def floatingip(value):
    return _timestamps({key: value.get(key) for key in (
        'id', 'floating_network_id', 'subnet_id', 'floating_ip_address', 'reservable',
        'created_at', 'updated_at')})


def allocation(value):
    return {'resource_id': str(value['resource_id']),
            'reservations': [dict(r, start_date=dates.to_wire(r['start_date']),
                                  end_date=dates.to_wire(r['end_date']))
                             for r in value['reservations']]}


def resource_property(value):
    value = dict(value)
    value['created_at'] = dates.to_wire(value.get('created_at'))
    value['updated_at'] = dates.to_wire(value.get('updated_at'))
    return value


def preemption(value):
    value = dict(value)
    value['noticed_at'] = dates.to_wire(value.get('noticed_at'))
    value['reclaimed_at'] = dates.to_wire(value.get('reclaimed_at'))
    return _timestamps(value)
