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

The loaded calendar is cached per shape, and caught up by deltas
----------------------------------------------------------------
Loading is most of the cost of a question (10,000 hosts and 100,000
allocations take seconds; the answer itself a fraction of that). As for
hosts (:mod:`blazar.plugins.hosts.availability`, whose docstring gives the
argument), the result of :func:`.capacity.load` is kept, keyed by the
generation of the allocation lock: every change of hosts, of their copied
Placement inventories and traits (:mod:`blazar.plugins.hosts.inventory`)
and of allocations takes that lock, moves the generation and records the
hosts it touched (:mod:`blazar.db.api.calendar`). A question reads the
generation (one primary-key lookup); if it moved, the hosts changed since
are read (one range scan) and :func:`.capacity.load` runs for those hosts
alone (on primary keys and ix_allocations_host_window), merged in by
:mod:`blazar.allocation.deltas`; a full load only when the log was pruned
past the generation held or the delta is large. The candidates' capacity
and traits depend on the shape, so the cache is per shape (resources and
traits; the last :data:`MAX_SHAPES` shapes asked), each caught up on its
own. The cached holdings are those ending after ``load time - cleaning
time``: those that ended since cannot meet a window starting now or later
(a delta reads from the same load time, and drops what ended once that is
old, as the host calendar does). A calendar frame reaching into the past
loads afresh.
"""
import collections
import json
import threading

from oslo_utils import timeutils

from blazar.allocation import deltas
from blazar.allocation import hosts as host_allocation
from blazar.allocation import properties
from blazar.allocation import slot_availability
from blazar.allocation import slots
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins.hosts import calendar as host_calendar
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
# How many shapes' loads are kept.
MAX_SHAPES = 8

Loaded = collections.namedtuple(
    'Loaded', 'engine generation margin loaded_at candidates holdings')
Loaded.__doc__ = ('What :func:`.capacity.load` gave for a shape, and the '
                  'allocation lock generation it was read at.')


class InstanceAvailability:
    """Answers for one instance resource type (``virtual:instance`` or
    ``flavor:instance``), through that type's plugin."""

    count_name = 'amount'
    margin = staticmethod(host_plugin.margin)

    def __init__(self, plugin):
        self.plugin = plugin
        self.resource_type = plugin.resource_type
        self._lock = threading.Lock()
        self._cache = collections.OrderedDict()     # shape key -> Loaded
        self.loads = 0          # how many times a calendar was loaded
        self.deltas = 0         # how many times one caught up with a delta

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
        """The calendar for the request's shape: the cached one if the
        generation of the allocation lock has not moved, else the cached
        one caught up with the hosts that changed (six queries), else a
        fresh :func:`.capacity.load` (its four queries, with the
        generation, in one read transaction)."""
        engine = db_api.get_engine()
        margin = self.margin()
        key = (json.dumps(request['resources'], sort_keys=True),
               json.dumps(request['traits'], sort_keys=True))
        with db_api.reading(context):
            generation = db_api.allocation_generation(context)
            with self._lock:
                cached = self._cache.get(key)
            if (cached is None or cached.engine is not engine
                    or cached.margin != margin):
                cached = None
            elif cached.generation == generation:
                with self._lock:
                    if key in self._cache:
                        self._cache.move_to_end(key)
                return cached
            now = timeutils.utcnow()
            loaded = None
            if cached is not None and cached.generation < generation:
                loaded = self._catch_up(context, request, cached, generation, now)
            if loaded is None:
                loaded = Loaded(engine, generation, margin, now,
                                *capacity.load(context, request['resources'],
                                               request['traits'], since=now))
                self.loads += 1
        with self._lock:
            current = self._cache.get(key)
            if (current is None or current.engine is not engine
                    or current.generation <= generation):
                self._cache[key] = loaded
                self._cache.move_to_end(key)
                while len(self._cache) > MAX_SHAPES:
                    self._cache.popitem(last=False)
        return loaded

    def _catch_up(self, context, request, cached, generation, now):
        """``cached`` brought to ``generation`` with the hosts changed since
        its own (None when a full load is due)."""
        touched = db_api.calendar_changes_since(context, cached.generation)
        if touched is None or len(touched) > host_calendar.DELTA_HOSTS:
            return None
        loaded_at = cached.loaded_at
        candidates, holdings = cached.candidates, cached.holdings
        if touched:
            ids = sorted(touched)
            fresh, held = capacity.load(context, request['resources'],
                                        request['traits'], since=loaded_at,
                                        host_ids=ids)
            candidates = deltas.merge_hosts(candidates, ids, fresh)
            holdings = deltas.merge_by_host(holdings, ids, held)
        if now - loaded_at >= host_calendar.TRIM_AFTER:
            holdings = deltas.trim(holdings, now - cached.margin)
            loaded_at = now
        self.deltas += 1
        return cached._replace(generation=generation, loaded_at=loaded_at,
                               candidates=candidates, holdings=holdings)

    def forget(self):
        """Drop the cached calendars (the next question reloads)."""
        with self._lock:
            self._cache.clear()

    def _inputs(self, context, params):
        """``(request, candidates, holdings, selection keywords)``: Nova
        first (the flavor), then the calendar."""
        request = self._request(context, params)
        loaded = self.load(context, request)
        return request, loaded.candidates, loaded.holdings, self._keywords(request)

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
            candidates, holdings = loaded.candidates, loaded.holdings
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
