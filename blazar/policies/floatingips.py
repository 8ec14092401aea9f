from oslo_policy import policy

from blazar.policies import base

PREFIX = 'blazar:floatingips:%s'


def _rule(action, check, operations, description):
    return policy.DocumentedRuleDefault(
        name=PREFIX % action, check_str=check, description=description,
        operations=[{'path': p, 'method': m} for m, p in operations],
        scope_types=['project'])


rules = [
    _rule('get', base.RULE_READER_OR_ADMIN,
          [('GET', '/v1/floatingips'), ('GET', '/v1/floatingips/{floatingip_id}')],
          'List or show reservable floating IPs.'),
    _rule('post', base.RULE_ADMIN, [('POST', '/v1/floatingips')],
          'Register a floating IP address leases may reserve.'),
    _rule('delete', base.RULE_ADMIN, [('DELETE', '/v1/floatingips/{floatingip_id}')],
          'Remove a reservable floating IP.'),
]


def list_rules():
    return rules
