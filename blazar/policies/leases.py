from oslo_policy import policy

from blazar.policies import base

PREFIX = 'blazar:leases:%s'


def _rule(action, check, method, path, description):
    return policy.DocumentedRuleDefault(
        name=PREFIX % action, check_str=check, description=description,
        operations=[{'path': path, 'method': method}], scope_types=['project'])


rules = [
    _rule('get', base.RULE_READER_OR_ADMIN, 'GET', '/v1/leases/{lease_id}',
          'List leases of the project (all for admins) or show one.'),
    _rule('post', base.RULE_MEMBER_OR_ADMIN, 'POST', '/v1/leases', 'Create a lease.'),
    _rule('put', base.RULE_MEMBER_OR_ADMIN, 'PUT', '/v1/leases/{lease_id}',
          'Update a lease.'),
    _rule('delete', base.RULE_MEMBER_OR_ADMIN, 'DELETE', '/v1/leases/{lease_id}',
          'Delete a lease.'),
]


def list_rules():
    return rules
