from oslo_policy import policy

from blazar.policies import base

PREFIX = 'blazar:oshosts:%s'


def _rule(action, operations, description):
    return policy.DocumentedRuleDefault(
        name=PREFIX % action, check_str=base.RULE_ADMIN, description=description,
        operations=[{'path': p, 'method': m} for m, p in operations],
        scope_types=['project'])


rules = [
    _rule('get', [('GET', '/v1/os-hosts'), ('GET', '/v1/os-hosts/{host_id}')],
          'List or show reservable hosts.'),
    _rule('post', [('POST', '/v1/os-hosts')], 'Enrol a host.'),
    _rule('put', [('PUT', '/v1/os-hosts/{host_id}')], 'Update a host.'),
    _rule('delete', [('DELETE', '/v1/os-hosts/{host_id}')], 'Remove a host.'),
    _rule('get_allocations', [('GET', '/v1/os-hosts/allocations'),
                              ('GET', '/v1/os-hosts/{host_id}/allocation')],
          'Show what holds the hosts over time.'),
    _rule('get_resource_properties', [('GET', '/v1/os-hosts/properties')],
          'List host properties.'),
    _rule('update_resource_properties',
          [('PATCH', '/v1/os-hosts/properties/{property_name}')],
          'Make a host property private or public.'),
    _rule('maintenance', [('PUT', '/v1/os-hosts/{host_id}/maintenance'),
                          ('DELETE', '/v1/os-hosts/{host_id}/maintenance')],
          'Put a host into maintenance (unreservable, its reservations moved '
          'to other hosts) or take it out.'),
    _rule('reallocate', [('PUT', '/v1/os-hosts/{host_id}/allocation')],
          "Move a host's current and future reservations to other hosts."),
]


def list_rules():
    return rules
