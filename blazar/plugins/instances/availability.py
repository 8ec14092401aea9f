"""virtual:instance and flavor:instance availability: how many, how long,
when, and the calendar of free slots of a shape.

Every answer is computed from what lease creation uses: the parameters are
checked by the plugin's own ``validate_reservation`` and completed by its
``complete`` (for ``flavor:instance`` that reads the flavor from Nova, and
refuses one the project cannot use, as a create does), the hosts and every
reservation's holdings come from :func:`.capacity.load`, and the numbers
from :mod:`blazar.allocation.slots` (:func:`~blazar.allocation.slots.max_amount`)
and :mod:`blazar.allocation.slot_availability`, whose answers are exactly
what :func:`~blazar.allocation.slots.select_slots` grants. So an offering
POSTed as a lease is accepted (unless the calendar changed meanwhile: then
the create answers 409).

The loaded calendar is the plugin's, cached per shape and caught up by
deltas (:mod:`.calendar`, which lease creates keep up to date too). A
calendar frame reaching into the past loads afresh.
"""
from blazar.allocation import hosts as host_allocation
from blazar.allocation import properties
from blazar.allocation import slot_availability
from blazar.allocation import slots
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins.hosts import plugin as host_plugin
from blazar.plugins.instances import capacity
from blazar.plugins.instances import params as checks

# What a question echoes of its reservation description, per type.
ECHOED = {
    checks.VIRTUAL: ('vcpus', 'memory_mb', 'disk_gb', 'affinity',
                     'resource_properties'),
    checks.FLAVOR: ('flavor_id', 'affinity', 'resource_properties'),
}
SHAPE = ('vcpus', 'memory_mb', 'disk_gb')
# Holdings shown to administrators in the calendar's detail.
DETAIL_KEYS = ('start_date', 'end_date', 'reservation_id', 'lease_id',
               'project_id', 'resource_type', 'slots')


class InstanceAvailability:
    """Answers for one instance resource type (``virtual:instance`` or
    ``flavor:instance``), through that type's plugin."""

    count_name = 'amount'
    margin = staticmethod(host_plugin.margin)

    def __init__(self, plugin):
        self.plugin = plugin
        self.resource_type = plugin.resource_type
        # The plugin's calendars, which its lease creates keep up to date.
        self.calendars = plugin.calendars

    @property
    def loads(self):
        """How many times a calendar was loaded."""
        return self.calendars.loads

    @property
    def deltas(self):
        """How many times one caught up with a delta."""
        return self.calendars.deltas

    # --- the request ------------------------------------------------------
    def check_params(self, params):
        """The description as a lease would carry it, without ``amount``
        (the question gives it): 400 naming a bad or unknown field."""
        checked = self.plugin.validate_reservation(dict(params, amount=1))
        return {key: checked[key] for key in ECHOED[self.resource_type]}

    def reservation_body(self, amount, params):
        """The reservation of a lease body asking exactly ``amount``
        instances of this description."""
        return dict({'resource_type': self.resource_type}, **params,
                    amount=amount)

    def _request(self, context, params):
        """The parameters a create would reserve with: the shape's
        resources and traits (the flavor read from Nova)."""
        values = self.plugin.validate_reservation(dict(params, amount=1))
        return self.plugin.prepare(context, {'project_id': context.project_id},
                                    values)

    def _keywords(self, request):
        """The selection keywords :func:`.capacity.select` passes too."""
        return {'margin': self.margin(), 'affinity': request['affinity'],
                'query': properties.combine('', request['resource_properties'])}

    def load(self, context, request):
        """The calendar for the request's shape (the plugin's, cached)."""
        return self.calendars.snapshot(context, request['resources'], request['traits'])

    def forget(self):
        """Drop the cached calendars (the next question reloads)."""
        self.calendars.forget()

    def _inputs(self, context, params):
        """``(request, candidates, holdings, selection keywords)``: Nova
        first (the flavor), then the calendar."""
        request = self._request(context, params)
        loaded = self.load(context, request)
        return request, loaded.candidates, loaded.busy, self._keywords(request)

    # --- the questions ----------------------------------------------------
    def how_many(self, context, window, params):
        """The largest ``amount`` a lease for ``window`` gets."""
        request, candidates, holdings, kw = self._inputs(context, params)
        _all, matching = host_allocation.filter_candidates(candidates, kw['query'])
        answer = {'reservable': len(candidates), 'matching': len(matching),
                  'amount': slots.max_amount(candidates, holdings,
                                             request['resources'], window, **kw)}
        if self.resource_type == checks.FLAVOR:
            answer.update({key: request[key] for key in SHAPE})
        return answer

    def how_long(self, context, start, amount, params):
        """``(end, free)``: the latest end of a lease of ``amount``
        instances starting at ``start`` (None: unbounded; ``start``: not
        one minute) and the largest amount a lease of that run gets."""
        request, candidates, holdings, kw = self._inputs(context, params)
        run = slot_availability.latest_end(candidates, holdings,
                                           request['resources'], amount, start,
                                           **kw)
        if run is None:
            return start, 0
        return run.end, run.amount

    def offerings(self, context, amount, duration, frame, limit, params):
        """Up to ``limit`` windows of ``duration`` inside ``frame``, earliest
        first: ``[(start, end, largest amount), ...]``."""
        if frame[1] - frame[0] < duration:
            self._request(context, params)      # still a 400 if it is bad
            return []
        request, candidates, holdings, kw = self._inputs(context, params)
        found = slot_availability.find_windows(
            candidates, holdings, request['resources'], amount, duration, frame,
            k=limit, **kw)
        return [(w.start, w.end, w.amount) for w in found]

    def calendar(self, context, frame, params, detail=False, page=None):
        """How many instances of the shape (with the affinity) a lease could
        get at each instant of ``frame``; ``total`` as many with nothing
        booked; with ``detail`` each matching host's capacity and
        holdings (every matching host, or with ``page``, limit and marker,
        a page of them by id)."""
        request = self._request(context, params)
        kw = self._keywords(request)
        with db_api.reading(context):
            loaded = self.load(context, request)
            candidates, holdings = loaded.candidates, loaded.busy
            if frame[0] < loaded.loaded_at.replace(second=0, microsecond=0):
                # Holdings that ended before the load matter to this frame.
                candidates, holdings = capacity.load(
                    context, request['resources'], request['traits'],
                    since=frame[0])
            rows = None
            if detail:
                rows = db_api.calendar_rows(context, frame[0] - kw['margin'],
                                            frame[1] + kw['margin'])
        shape = request['resources']
        profile = slot_availability.free_slot_profile(
            candidates, holdings, shape, frame, **kw)
        total = slots.max_amount(candidates, {}, shape, frame, **kw)
        result = {'total': total, 'cleaning_time': kw['margin'],
                  'profile': profile}
        if detail:
            _all, matching = host_allocation.filter_candidates(candidates,
                                                               kw['query'])
            matching = base.host_page(matching, page)
            by_host = {}
            for row in rows:
                by_host.setdefault(row['compute_host_id'], []).append(
                    {key: row[key] for key in DETAIL_KEYS})
            result['hosts'] = [{
                'id': h.id,
                'hypervisor_hostname': h.attributes.get('hypervisor_hostname'),
                'capacity': dict(h.capacity or {}),
                'slots': slots.fits(h.capacity or {}, (), shape, frame),
                'busy': by_host.get(h.id, [])} for h in matching]
        return result
