"""MaxLeaseDurationFilter: how long a lease may last, and when and how far
an active lease may be prolonged.

* ``max_lease_duration``: a new lease, or a change to one that has not
  started, may last at most this long from its start to its end.
* An active lease being prolonged may end at most ``max_lease_duration``
  after the moment of the request (so it can be renewed, period after
  period, but never booked far ahead), and only during the
  ``extension_window`` before its current end.
* Projects in ``max_lease_duration_exempt_project_ids`` skip these rules.
"""
import datetime

from oslo_config import cfg

from blazar.enforcement import usage
from blazar.enforcement.filters import base
from blazar.utils import dates

CONF = cfg.CONF


def _seconds(delta):
    return delta.total_seconds()


class MaxLeaseDurationFilter(base.BaseFilter):

    @staticmethod
    def _exempt(lease):
        return lease.get('project_id') in CONF.enforcement.max_lease_duration_exempt_project_ids

    def check_create(self, context, lease):
        if not self._exempt(lease):
            self._check_duration(lease['start_date'], lease['end_date'])

    def check_update(self, context, current_lease, new_lease):
        if self._exempt(new_lease):
            return
        old = (current_lease['start_date'], current_lease['end_date'])
        new = (new_lease['start_date'], new_lease['end_date'])
        if old == new:
            return
        # 'now' as requests mean it: the current minute.
        now = dates.utcnow_minute()
        started = current_lease['status'] != 'PENDING' and old[0] <= now
        if not started:
            self._check_duration(*new)
        elif new[1] > old[1]:
            self._check_extension(old[1], new[1], now)

    def _check_duration(self, start, end):
        limit = CONF.enforcement.max_lease_duration
        duration = _seconds(end - start)
        if limit >= 0 and duration > limit:
            self.refuse('max_lease_duration',
                        'Lease duration of %s exceeds the maximum of %s '
                        '(max_lease_duration) by %s.' % (
                            usage.format_duration(duration),
                            usage.format_duration(limit),
                            usage.format_duration(duration - limit)))

    def _check_extension(self, current_end, new_end, now):
        window = CONF.enforcement.extension_window
        left = _seconds(current_end - now)
        if window and left > window:
            opens = current_end - datetime.timedelta(seconds=window)
            self.refuse('extension_window',
                        'An active lease can be prolonged only in the last %s '
                        'before its end (extension_window); this lease ends in '
                        '%s, so retry in %s (from %s UTC).' % (
                            usage.format_duration(window), usage.format_duration(left),
                            usage.format_duration(left - window),
                            usage.format_time(opens)))
        limit = CONF.enforcement.max_lease_duration
        ahead = _seconds(new_end - now)
        if limit >= 0 and ahead > limit:
            self.refuse('max_lease_duration',
                        'An active lease can be prolonged to end at most %s '
                        'from now (max_lease_duration); the requested end date '
                        '%s UTC is %s beyond that.' % (
                            usage.format_duration(limit), usage.format_time(new_end),
                            usage.format_duration(ahead - limit)))
