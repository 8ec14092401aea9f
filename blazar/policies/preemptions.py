"""Preemptions: which preemptible servers were reclaimed, for whom."""
from oslo_policy import policy

from blazar.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='blazar:preemptions:get', check_str=base.RULE_ADMIN,
        description='List the preemptible servers noticed and reclaimed for '
                    'reservations (server, owner, reservation, action, time).',
        operations=[{'path': '/v1/preemptions', 'method': 'GET'}],
        scope_types=['project']),
]


def list_rules():
    return rules
