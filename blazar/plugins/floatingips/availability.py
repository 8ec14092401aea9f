"""virtual:floatingip availability: how many addresses of a network are free
for a window, how long N stay free, when N are free for a duration, and the
calendar.

Computed from what lease creation reads (the network's reservable
addresses, their allocations, ``[DEFAULT] cleaning_time``) by the functions
of :mod:`blazar.allocation.availability`, whose "hosts" are addresses here:
the free-ness predicate is the one lease creation uses
(:func:`blazar.allocation.windows.scan`), so a window reported free for N
addresses is one a lease create accepts for ``amount = N`` (unless the
calendar changes in between: then the create answers 409). The calendar is
loaded for each question (two queries): address counts are small.
"""
from oslo_utils import timeutils

from blazar import exceptions
from blazar.allocation import availability
from blazar.db import api as db_api
from blazar.plugins.floatingips import plugin

RESOURCE_TYPE = plugin.RESOURCE_TYPE


def check_params(params):
    """``network_id`` (required), nothing else: 400 naming the field."""
    unknown = sorted(set(params) - {'network_id'})
    if unknown:
        raise exceptions.InvalidInput(
            reason='Unknown parameter(s) for virtual:floatingip: %s (allowed: '
                   'network_id)' % ', '.join(unknown))
    checked = plugin.check_params({'network_id': params.get('network_id'), 'amount': 1})
    return {'network_id': checked['network_id']}


def reservation_body(count, params):
    return {'resource_type': RESOURCE_TYPE, 'network_id': params['network_id'],
            'amount': count}


class FloatingIPAvailability:
    resource_type = RESOURCE_TYPE
    count_name = 'amount'
    check_params = staticmethod(check_params)
    reservation_body = staticmethod(reservation_body)
    margin = staticmethod(plugin._margin)

    def __init__(self, plugin=None):
        self.plugin = plugin

    @staticmethod
    def _load(context, network_id, ends_after=None):
        with db_api.reading(context):
            ids = [f['id'] for f in db_api.floatingip_list(
                context, network_id=network_id, reservable=True)]
            now = timeutils.utcnow()
            busy = db_api.floatingip_busy(
                context, (ends_after or now) - plugin._margin(), network_id=network_id)
        return ids, busy

    def how_many(self, context, window, params):
        ids, busy = self._load(context, params['network_id'])
        return {'reservable': len(ids),
                'amount': availability.max_free_count(busy, window, self.margin(),
                                                      hosts=ids)}

    def how_long(self, context, start, count, params):
        ids, busy = self._load(context, params['network_id'])
        run = availability.longest_free_run(busy, start, count, self.margin(), hosts=ids)
        if run is None:
            return start, 0
        return run.end, len(run.hosts)

    def offerings(self, context, count, duration, frame, limit, params):
        ids, busy = self._load(context, params['network_id'])
        if frame[1] - frame[0] < duration:
            return []
        found = availability.find_windows(busy, count, duration, frame, k=limit,
                                          margin=self.margin(), hosts=ids)
        return [(w.start, w.end, len(w.hosts)) for w in found]

    def calendar(self, context, frame, params, detail=False):
        ids, busy = self._load(context, params['network_id'], ends_after=frame[0])
        margin = self.margin()
        result = {'total': len(ids), 'cleaning_time': margin,
                  'profile': availability.free_count_profile(busy, frame, margin,
                                                             hosts=ids)}
        if detail:
            rows = db_api.floatingip_calendar_rows(context, frame[0] - margin,
                                                   frame[1] + margin)
            by_fip = {}
            for row in rows:
                by_fip.setdefault(row['floatingip_id'], []).append({
                    key: row[key] for key in ('start_date', 'end_date', 'reservation_id',
                                              'lease_id', 'project_id')})
            fips = db_api.floatingips_get(context, ids)
            result['floatingips'] = [{'id': f['id'],
                                      'floating_ip_address': f['floating_ip_address'],
                                      'busy': by_fip.get(f['id'], [])} for f in fips]
        return result
