"""ProjectLimitsFilter: how much a project may hold.

* ``max_hosts_per_project``, ``max_vcpus_per_project``,
  ``max_memory_mb_per_project``, ``max_floatingips_per_project``: the most a
  project may hold at the same moment, over all its leases (a reserved host
  counts its whole size).
* ``max_host_hours_per_project``: the most host-hours a project may reserve
  in any rolling period of ``host_hours_period``, counting its past, current
  and future leases.

Each limit has a ``<option>_overrides`` dictionary of per-project values;
-1 means no limit. The project's other leases are read with one query on
the allocation time index, inside the lease's transaction (which holds the
allocation lock, so two requests of a project cannot both slip under a
limit). A change that does not make a lease's usage worse is always
allowed, so lowering a limit never traps a lease that is already over it.
"""
import datetime
import logging

from oslo_config import cfg
from oslo_utils import timeutils

from blazar.db import api as db_api
from blazar.enforcement import usage
from blazar.enforcement.filters import base

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

HOST_HOURS = 'max_host_hours_per_project'


class _Noun:
    def __init__(self, one, many):
        self.one, self.many = one, many

    def __mod__(self, count):
        return '%d %s' % (count, self.one if count == 1 else self.many)


CONCURRENT = (('hosts', 'max_hosts_per_project', _Noun('host', 'hosts')),
              ('vcpus', 'max_vcpus_per_project', _Noun('vCPU', 'vCPUs')),
              ('memory_mb', 'max_memory_mb_per_project',
               _Noun('MB of memory', 'MB of memory')),
              ('floatingips', 'max_floatingips_per_project',
               _Noun('floating IP', 'floating IPs')))


def limit_for(option, project_id):
    """The project's limit: its override if any, else the option; -1 none."""
    overrides = CONF.enforcement[option + '_overrides'] or {}
    if project_id in overrides:
        try:
            return int(overrides[project_id])
        except ValueError:
            LOG.warning('Ignoring [enforcement] %s_overrides value %r of project '
                        '%s: not an integer', option, overrides[project_id],
                        project_id)
    return CONF.enforcement[option]


class ProjectLimitsFilter(base.BaseFilter):

    def check_create(self, context, lease):
        self._check(context, lease, None)

    def check_update(self, context, current_lease, new_lease):
        unchanged = all(current_lease[key] == new_lease[key]
                        for key in ('start_date', 'end_date', 'usage'))
        if not unchanged:
            self._check(context, new_lease, current_lease)

    def _check(self, context, lease, current):
        project = lease['project_id']
        limits = [(kind, option, noun, limit_for(option, project))
                  for kind, option, noun in CONCURRENT]
        limits = [entry for entry in limits if entry[3] >= 0]
        hours_limit = limit_for(HOST_HOURS, project)
        if not limits and hours_limit < 0:
            return
        now = timeutils.utcnow()
        period = datetime.timedelta(seconds=CONF.enforcement.host_hours_period)
        versions = [v for v in (lease, current) if v is not None]
        low = min(max(v['start_date'], now) for v in versions)
        high = max(v['end_date'] for v in versions)
        if hours_limit >= 0:
            low = min(low, min(v['start_date'] for v in versions) - period)
            high = high + period
        others = db_api.project_usage(context, project, low, high,
                                      exclude_lease_id=lease['id'])
        for kind, option, noun, limit in limits:
            self._check_concurrent(lease, current, others, now, kind, option, noun,
                                   limit)
        if hours_limit >= 0:
            self._check_host_hours(lease, current, others, period, hours_limit)

    # --- at the same moment -----------------------------------------------
    @staticmethod
    def _concurrent(version, others, now, kind):
        """(total at the peak, others at the peak, this lease, moment)."""
        start, end = max(version['start_date'], now), version['end_date']
        mine = version['usage'][kind]
        if start >= end or not mine:
            return None
        held, moment = usage.peak(others, kind, start, end)
        return held + mine, held, mine, moment

    def _check_concurrent(self, lease, current, others, now, kind, option, noun, limit):
        new = self._concurrent(lease, others, now, kind)
        if new is None or new[0] <= limit:
            return
        old = self._concurrent(current, others, now, kind) if current else None
        if current is not None and new[0] <= (old[0] if old else 0):
            return
        total, held, mine, moment = new
        if held:
            theirs = 'its other leases hold %s at %s UTC' % (
                noun % held, usage.format_time(moment))
        else:
            theirs = 'its other leases hold none meanwhile'
        if current is None:
            ours = 'this lease adds %s' % (noun % mine)
        else:
            ours = 'this lease would hold %s (it holds %s now)' % (
                noun % mine, noun % current['usage'][kind])
        self.refuse(option, 'Project %s would hold %s at once, over its limit of %s '
                            '(%s): %s and %s.' % (lease['project_id'], noun % total,
                                                  noun % limit, option, theirs, ours))

    # --- host-hours per rolling period -------------------------------------
    @staticmethod
    def _host_hours(version, others, period):
        """(total in the busiest period, others in it, this lease in it,
        period start)."""
        hosts = version['usage']['hosts']
        if not hosts:
            return None
        mine = {'start_date': version['start_date'], 'end_date': version['end_date'],
                'hosts': hosts}
        start, total = usage.busiest_period(others + [mine], period,
                                            version['start_date'], version['end_date'])
        ours = usage.amount_hours([mine], 'hosts', start, start + period)
        return total, total - ours, ours, start

    def _check_host_hours(self, lease, current, others, period, limit):
        new = self._host_hours(lease, others, period)
        if new is None or new[0] <= limit + 1e-9:
            return
        old = self._host_hours(current, others, period) if current else None
        if current is not None and new[0] <= (old[0] if old else 0) + 1e-9:
            return
        total, held, mine, start = new
        fmt = usage.format_amount
        self.refuse(HOST_HOURS,
                    'Project %s would reserve %s host-hours in the %s from %s to %s '
                    'UTC, over its limit of %s (%s): its other leases hold %s '
                    'host-hours in that period and this lease %s %s.' % (
                        lease['project_id'], fmt(total),
                        usage.format_duration(period.total_seconds()),
                        usage.format_time(start), usage.format_time(start + period),
                        fmt(limit), HOST_HOURS, fmt(held),
                        'adds' if current is None else 'would hold', fmt(mine)))
