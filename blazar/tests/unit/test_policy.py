"""The default policy: who may do what, on their own project or another."""
from oslo_policy import policy as oslo_policy
import pytest

from blazar import context
from blazar import exceptions
from blazar import policies
from blazar import policy

LEASE_RULES = ['blazar:leases:%s' % a for a in ('get', 'post', 'put', 'delete')]
HOST_RULES = ['blazar:oshosts:%s' % a for a in (
    'get', 'post', 'put', 'delete', 'get_allocations', 'get_resource_properties',
    'update_resource_properties', 'maintenance', 'reallocate')]
AVAILABILITY_RULES = ['blazar:availability:get', 'blazar:offerings:get',
                      'blazar:calendar:get', 'blazar:calendar:get_hosts',
                      'blazar:usage:get', 'blazar:usage:get_all_projects']
PREEMPTION_RULES = ['blazar:preemptions:get']
FLOATINGIP_RULES = ['blazar:floatingips:%s' % a for a in ('get', 'post', 'delete')]
BASE_RULES = ['admin', 'project_member_api', 'project_reader_api',
              'project_member_or_admin', 'project_reader_or_admin']

# Roles as Keystone (implied roles) and NoAuth put them in a token.
ROLES = {
    'reader': ['reader'],
    'member': ['member', 'reader'],
    'admin': ['admin', 'member', 'reader'],
    'admin-only': ['admin'],
    'none': [],
}

# rule -> {(role, own project?): allowed}
READER_OWN = {('reader', True), ('member', True)}
MEMBER_OWN = {('member', True)}
ADMIN_ANY = {(r, own) for r in ('admin', 'admin-only') for own in (True, False)}
ADMIN_OWN = {('admin', True)}  # project-scoped rules with the admin holding member too
EXPECTED = {
    'admin': ADMIN_ANY,
    'project_member_api': MEMBER_OWN | ADMIN_OWN,
    'project_reader_api': READER_OWN | ADMIN_OWN,
    'project_member_or_admin': MEMBER_OWN | ADMIN_ANY,
    'project_reader_or_admin': READER_OWN | ADMIN_ANY,
    'blazar:leases:get': READER_OWN | ADMIN_ANY,
    'blazar:leases:post': MEMBER_OWN | ADMIN_ANY,
    'blazar:leases:put': MEMBER_OWN | ADMIN_ANY,
    'blazar:leases:delete': MEMBER_OWN | ADMIN_ANY,
}
EXPECTED.update({rule: ADMIN_ANY for rule in HOST_RULES})
EXPECTED.update({rule: READER_OWN | ADMIN_ANY for rule in AVAILABILITY_RULES})
EXPECTED.update({rule: ADMIN_ANY for rule in PREEMPTION_RULES})
EXPECTED.update({'blazar:floatingips:get': READER_OWN | ADMIN_ANY,
                 'blazar:floatingips:post': ADMIN_ANY,
                 'blazar:floatingips:delete': ADMIN_ANY})
EXPECTED.update({'blazar:calendar:get_hosts': ADMIN_ANY,
                 'blazar:usage:get_all_projects': ADMIN_ANY})


def ctx(role, project='proj1', **kwargs):
    return context.RequestContext(user_id='u-%s' % role, project_id=project,
                                  roles=list(ROLES[role]), **kwargs)


def test_registered_rules_are_the_ones_in_the_matrix():
    names = [rule.name for rule in policies.list_rules()]
    assert len(names) == len(set(names))
    assert set(names) == set(BASE_RULES + LEASE_RULES + HOST_RULES
                             + AVAILABILITY_RULES + PREEMPTION_RULES
                             + FLOATINGIP_RULES) == set(EXPECTED)


def test_api_rules_document_their_operations():
    for rule in policies.list_rules():
        if rule.name.startswith('blazar:'):
            assert rule.operations and rule.description
            for op in rule.operations:
                assert op['path'].startswith('/v1/')
                assert op['method'] in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')


@pytest.mark.parametrize('own', [True, False], ids=['own-project', 'other-project'])
@pytest.mark.parametrize('role', ROLES)
@pytest.mark.parametrize('rule', sorted(EXPECTED))
def test_policy_matrix(rule, role, own):
    context_ = ctx(role)
    target = {'project_id': 'proj1' if own else 'proj2', 'user_id': 'someone'}
    allowed = (role, own) in EXPECTED[rule]
    assert policy.check(context_, rule, target) is allowed
    if allowed:
        assert policy.authorize(context_, rule, target) is None
    else:
        with pytest.raises(exceptions.PolicyNotAuthorized) as info:
            policy.authorize(context_, rule, target)
        assert info.value.code == 403
        assert rule in info.value.message


@pytest.mark.parametrize('role', ['reader', 'member'])
def test_default_target_is_the_callers_own_project(role):
    assert policy.check(ctx(role), 'blazar:leases:get')
    assert not policy.check(ctx(role), 'blazar:oshosts:get')


def test_policy_not_authorized_message():
    with pytest.raises(exceptions.PolicyNotAuthorized) as info:
        policy.authorize(ctx('member'), 'blazar:oshosts:post')
    assert isinstance(info.value, exceptions.NotAuthorized)
    assert info.value.code == 403
    assert info.value.message == \
        "Policy doesn't allow blazar:oshosts:post to be performed"


def test_is_admin_flag_counts_as_admin():
    service = context.get_admin_context()
    assert policy.is_admin(service)
    assert policy.check(service, 'blazar:oshosts:delete', {'project_id': 'any'})
    elevated = ctx('reader').elevated()
    assert policy.is_admin(elevated)
    assert not policy.is_admin(ctx('member'))


def test_unregistered_rule_is_an_error():
    with pytest.raises(oslo_policy.PolicyNotRegistered):
        policy.authorize(ctx('admin'), 'blazar:leases:nope')


def test_policy_file_overrides_a_default(config, tmp_path):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"blazar:oshosts:get": "role:reader"\n')
    policy.init()  # registers the [oslo_policy] options
    assert not policy.check(ctx('reader'), 'blazar:oshosts:get')
    config.set_override('policy_file', str(policy_file), group='oslo_policy')
    policy.reset()
    assert policy.check(ctx('reader'), 'blazar:oshosts:get')
    assert not policy.check(ctx('reader'), 'blazar:oshosts:post')
