"""Availability, offerings, calendar and usage: read-only questions.

Tenants may ask how many hosts are free, for how long, when, and see the
free-host count over time (never another tenant's leases); the per-host
calendar with lease and project ids, and other projects' usage, are for
administrators.
"""
from oslo_policy import policy

from blazar.policies import base


def _rule(name, check, operations, description):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'path': p, 'method': 'GET'} for p in operations],
        scope_types=['project'])


rules = [
    _rule('blazar:availability:get', base.RULE_READER_OR_ADMIN,
          ['/v1/availability', '/v1/availability/duration'],
          'How many resources a lease could get for a window, and how long '
          'a given number stays free from a start date.'),
    _rule('blazar:offerings:get', base.RULE_READER_OR_ADMIN, ['/v1/offerings'],
          'Windows where a lease of a given size and duration fits, each '
          'with a ready lease body.'),
    _rule('blazar:calendar:get', base.RULE_READER_OR_ADMIN, ['/v1/calendar'],
          'The number of free resources over a time frame.'),
    _rule('blazar:calendar:get_hosts', base.RULE_ADMIN, ['/v1/calendar'],
          'Include each host with its busy intervals and their reservation, '
          'lease and project ids in the calendar.'),
    _rule('blazar:usage:get', base.RULE_READER_OR_ADMIN, ['/v1/usage'],
          "A project's reserved host-hours and VCPU/memory/disk-hours over "
          'a time frame (the target is the project asked about).'),
    _rule('blazar:usage:get_all_projects', base.RULE_ADMIN, ['/v1/usage'],
          'Usage of every project (when no project_id is given).'),
]


def list_rules():
    return rules
