"""physical:host availability: how many, how long, when, and the calendar.

Every answer is computed from the inputs lease creation uses
(:func:`.plugin.load_candidates`, :func:`.plugin.load_busy`, the property
query of :func:`.plugin.check_params`, ``[DEFAULT] cleaning_time``) by the
functions of :mod:`blazar.allocation.availability`, which share
:func:`blazar.allocation.windows.scan` with
:func:`blazar.allocation.hosts.select_hosts`. So a window reported free for
``count`` hosts is one a lease create accepts for ``min = max = count``
(unless the calendar changes in between: then the create answers 409).

The calendar is the one lease creation uses, kept in memory and caught
up by deltas (:mod:`.calendar`, shared with the physical:host plugin).
"""
from blazar.allocation import availability
from blazar.allocation import hosts as host_allocation
from blazar.allocation import properties
from blazar.allocation import windows
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins.hosts import inventory
from blazar.plugins.hosts import plugin

RESOURCE_TYPE = inventory.RESOURCE_TYPE


def check_params(params):
    """The property queries, normalised exactly as a lease create stores
    them (400 naming the field if malformed, or for an unknown key)."""
    checked = plugin.check_params(dict(params, min=1, max=1))
    return {'hypervisor_properties': checked['hypervisor_properties'],
            'resource_properties': checked['resource_properties']}


def reservation_body(count, params):
    """The reservation of a lease body asking exactly ``count`` hosts."""
    return {'resource_type': RESOURCE_TYPE, 'min': count, 'max': count,
            'hypervisor_properties': params['hypervisor_properties'],
            'resource_properties': params['resource_properties']}


class HostAvailability:
    """Answers for ``physical:host``; one instance per manager (it holds
    the cached calendar)."""

    resource_type = RESOURCE_TYPE
    check_params = staticmethod(check_params)
    reservation_body = staticmethod(reservation_body)
    margin = staticmethod(plugin.margin)

    def __init__(self, host_plugin=None):
        # The physical:host plugin, whose calendar lease writes keep up to
        # date too; without it (tests), a calendar of its own.
        self._calendar = getattr(host_plugin, 'calendar', None) or plugin.new_calendar()

    # --- the calendar ----------------------------------------------------
    def snapshot(self, context):
        return self._calendar.snapshot(context)

    def forget(self):
        """Drop the cached calendar (the next question reloads it)."""
        self._calendar.forget()

    @property
    def loads(self):
        return self._calendar.loads

    @property
    def deltas(self):
        return self._calendar.deltas

    @staticmethod
    def _matching(snap, params):
        query = properties.combine(params['hypervisor_properties'],
                                   params['resource_properties'])
        hosts, matching = host_allocation.filter_candidates(snap.candidates,
                                                            query)
        return hosts, matching

    # --- the questions ----------------------------------------------------
    def how_many(self, context, window, params):
        """The largest ``max`` (with ``min = max``) a lease for ``window``
        gets: the matching hosts free for the whole window."""
        snap = self.snapshot(context)
        hosts, matching = self._matching(snap, params)
        free = availability.max_free_count(
            snap.busy, window, snap.margin, hosts=[h.id for h in matching])
        return {'reservable': len(hosts), 'matching': len(matching),
                'max': free}

    def how_long(self, context, start, count, params):
        """The latest end of a lease of ``count`` hosts starting at
        ``start``: ``(end, free)``, ``end`` None when unbounded (that many
        hosts have nothing booked after ``start``), ``end == start`` when
        not even one minute is free."""
        snap = self.snapshot(context)
        _, matching = self._matching(snap, params)
        run = availability.longest_free_run(
            snap.busy, start, count, snap.margin,
            hosts=[h.id for h in matching])
        if run is None:
            return start, 0
        return run.end, len(run.hosts)

    def offerings(self, context, count, duration, frame, limit, params):
        """Up to ``limit`` windows of ``duration`` inside ``frame``,
        earliest first, each free on at least ``count`` matching hosts:
        ``[(start, end, free hosts), ...]``."""
        snap = self.snapshot(context)
        _, matching = self._matching(snap, params)
        if frame[1] - frame[0] < duration:
            return []
        found = availability.find_windows(
            snap.busy, count, duration, frame, k=limit, margin=snap.margin,
            hosts=[h.id for h in matching])
        return [(w.start, w.end, len(w.hosts)) for w in found]

    def calendar(self, context, frame, params, detail=False, page=None):
        """The number of matching hosts free at each instant of ``frame``
        (a step function), and with ``detail`` each host's busy intervals
        with their reservation, lease and project: every matching host, or
        with ``page`` (limit, marker) a page of them by id, whose
        allocations alone are read when the cached calendar answers the
        profile."""
        with db_api.reading(context):
            snap = self.snapshot(context)
            margin = snap.margin
            # The cached calendar holds every allocation that can reach a
            # frame starting at or after its load (allocations have minute
            # precision): only the administrator's detail, or a frame
            # reaching into the past, needs its own query.
            loaded = snap.loaded_at.replace(second=0, microsecond=0)
            rows = None
            _, matching = self._matching(snap, params)
            shown = base.host_page(matching, page) if detail else []
            if frame[0] < loaded or (detail and not page):
                rows = db_api.calendar_rows(context, frame[0] - margin,
                                            windows.later(frame[1], margin))
            elif detail:
                rows = db_api.calendar_rows(context, frame[0] - margin,
                                            windows.later(frame[1], margin),
                                            host_ids=[h.id for h in shown])
        ids = [h.id for h in matching]
        if rows is None:
            busy = snap.busy
        else:
            busy = {}
            for row in rows:
                busy.setdefault(row['compute_host_id'], []).append(
                    (row['start_date'], row['end_date']))
        profile = availability.free_count_profile(busy, frame, margin,
                                                  hosts=ids)
        result = {'total': len(ids), 'cleaning_time': margin,
                  'profile': profile}
        if detail:
            by_host = {}
            for row in rows:
                by_host.setdefault(row['compute_host_id'], []).append({
                    key: row[key] for key in (
                        'start_date', 'end_date', 'reservation_id',
                        'lease_id', 'project_id')})
            result['hosts'] = [{
                'id': h.id,
                'hypervisor_hostname': h.attributes.get('hypervisor_hostname'),
                'busy': by_host.get(h.id, [])} for h in shown]
        return result
