"""The default policy (blazar/policies) with real Keystone tokens: reader,
member and admin, each on its own project's lease and another project's,
on every route of the API.

The expectations restate the defaults: a project reader may read its
project's leases and ask availability questions; a member may also create,
update and delete its project's leases; hosts, allocations and properties,
the per-host calendar and other projects' usage are for administrators;
another project's lease is out of reach (403) for all but administrators.
"""
import datetime
import re

import pytest
import requests

from blazar.api import openapi

READER, MEMBER, ADMIN = 'a-reader', 'a-member', 'admin'
ROLES = (READER, MEMBER, ADMIN)
# Who owns "own" and "other" leases for each caller, and who creates them.
OWNERS = {READER: {'own': MEMBER, 'other': 'b-member'},
          MEMBER: {'own': MEMBER, 'other': 'b-member'},
          ADMIN: {'own': ADMIN, 'other': MEMBER}}
LATER = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime('%Y-%m-%d %H:%M')
MUCH_LATER = (datetime.datetime.utcnow() + datetime.timedelta(days=3)).strftime(
    '%Y-%m-%d %H:%M')


# Allowed, whatever the outcome then is (anything but 401, 403 or a 5xx).
PASSES = 'passes policy'


def _all(status):
    return {READER: status, MEMBER: status, ADMIN: status}


def _admin_only(status):
    return {READER: 403, MEMBER: 403, ADMIN: status}


# (method, path, body, {'own'|'any': {role: status}, 'other': {...}})
# {lease} is a lease of the target project, {fresh} one made for this case
# alone (it may be deleted), {host} an enrolled host, {new_host} a host to
# enrol, {project} the target project.
LEASE_ROUTES = [
    ('GET', '/leases/{lease}', None,
     {'own': _all(200), 'other': {READER: 403, MEMBER: 403, ADMIN: 200}}),
    ('PUT', '/leases/{fresh}', {'name': 'renamed'},
     {'own': {READER: 403, MEMBER: 200, ADMIN: 200},
      'other': {READER: 403, MEMBER: 403, ADMIN: 200}}),
    ('DELETE', '/leases/{fresh}', None,
     {'own': {READER: 403, MEMBER: 204, ADMIN: 204},
      'other': {READER: 403, MEMBER: 403, ADMIN: 204}}),
    ('GET', '/usage?project_id={project}', None,
     {'own': _all(200), 'other': {READER: 403, MEMBER: 403, ADMIN: 200}}),
]
PROJECTLESS_ROUTES = [
    ('GET', '/leases', None, _all(200)),
    ('POST', '/leases', {'name': 'made', 'start_date': LATER, 'end_date': MUCH_LATER},
     {READER: 403, MEMBER: 201, ADMIN: 201}),
    ('GET', '/os-hosts', None, _admin_only(200)),
    ('POST', '/os-hosts', {'name': '{new_host}'}, _admin_only(201)),
    ('GET', '/os-hosts/{host}', None, _admin_only(200)),
    ('PUT', '/os-hosts/{host}', {'rack': 'r1'}, _admin_only(200)),
    ('DELETE', '/os-hosts/{new_host_id}', None, _admin_only(204)),
    ('GET', '/os-hosts/allocations', None, _admin_only(200)),
    ('GET', '/os-hosts/{host}/allocation', None, _admin_only(200)),
    ('GET', '/os-hosts/properties', None, _admin_only(200)),
    ('PATCH', '/os-hosts/properties/gpu', {'private': False}, _admin_only(200)),
    ('PUT', '/os-hosts/{host}/maintenance', {}, _admin_only(PASSES)),
    ('DELETE', '/os-hosts/{host}/maintenance', None, _admin_only(PASSES)),
    ('PUT', '/os-hosts/{host}/allocation', {}, _admin_only(PASSES)),
    ('GET', '/availability?end_date=%s' % LATER, None, _all(200)),
    ('GET', '/availability/duration?count=1', None, _all(200)),
    ('GET', '/offerings?count=1&duration=1h', None, _all(200)),
    ('GET', '/calendar?hosts=false', None, _all(200)),
    ('GET', '/calendar?hosts=true', None, _admin_only(200)),
    ('GET', '/usage', None, _all(200)),
    ('GET', '/preemptions', None, _admin_only(200)),
    # The deployment loads no floating-IP plugin: policy is what is checked.
    ('GET', '/floatingips', None, _all(PASSES)),
    ('GET', '/floatingips/unknown-fip', None, _all(PASSES)),
    ('POST', '/floatingips', {}, _admin_only(PASSES)),
    ('DELETE', '/floatingips/unknown-fip', None, _admin_only(PASSES)),
    ('GET', '/openapi.json', None, _all(200)),
    ('GET', '', None, _all(200)),     # /v1 itself
]
PUBLIC_ROUTES = ['/', '/versions']   # no token needed (version discovery)


def _cases():
    for method, path, body, expected in LEASE_ROUTES:
        for target in ('own', 'other'):
            for role in ROLES:
                yield pytest.param(role, method, path, body, target, expected[target][role],
                                   id='%s-%s %s-%s' % (role, method, path, target))
    for method, path, body, expected in PROJECTLESS_ROUTES:
        for role in ROLES:
            yield pytest.param(role, method, path, body, None, expected[role],
                               id='%s-%s %s' % (role, method, path))


class World:
    """Tokens of the users, and what the cases act on."""

    def __init__(self, deployment):
        self.deployment = deployment
        self.keystone = deployment.keystone
        self._tokens = {}
        self.leases = {}
        self._counter = 0
        self.made = []           # every lease made, deleted at the end

    def token(self, user):
        if user not in self._tokens:
            self._tokens[user] = self.keystone.token(user)
        return self._tokens[user]

    def call(self, user, method, path, body=None):
        headers = {'Accept': 'application/json'}
        if user is not None:
            headers['X-Auth-Token'] = self.token(user)
        return requests.request(method, self.deployment.url + path, json=body,
                                headers=headers, timeout=60)

    def make_lease(self, owner):
        self._counter += 1
        resp = self.call(owner, 'POST', '/leases', {
            'name': 'matrix-%d' % self._counter, 'start_date': LATER,
            'end_date': MUCH_LATER})
        assert resp.status_code == 201, resp.text
        self.made.append(resp.json()['lease'])
        return resp.json()['lease']

    def make_host(self, name):
        resp = self.call(ADMIN, 'POST', '/os-hosts', {'name': name, 'gpu': 'a100'})
        assert resp.status_code == 201, resp.text
        return resp.json()['host']


@pytest.fixture(scope='module')
def world(deployment):
    world = World(deployment)
    world.host = world.make_host('compute-1')
    for owner in (MEMBER, 'b-member', ADMIN):
        world.leases[owner] = world.make_lease(owner)
    yield world
    # Leases of one owner share a trust: none is left to the next module's.
    for lease in world.made:
        world.call(ADMIN, 'DELETE', '/leases/%s' % lease['id'])


def _params(world, role, path, target):
    project_owner = OWNERS[role][target] if target else role
    params = {'host': world.host['id'], 'new_host': 'compute-2',
              'project': world.keystone.users[project_owner].project_id}
    if target:
        params['lease'] = world.leases[project_owner]['id']
        if '{fresh}' in path:
            params['fresh'] = world.make_lease(project_owner)['id']
    return params


@pytest.mark.parametrize('role,method,path,body,target,expected', _cases())
def test_policy(world, role, method, path, body, target, expected):
    params = _params(world, role, path, target)
    if '{new_host_id}' in path:
        params['new_host_id'] = world.make_host('compute-2')['id'] \
            if role == ADMIN else world.host['id']
    if body and 'name' in body and body['name'] == '{new_host}':
        body = {'name': params['new_host']}
    resp = world.call(role, method, path.format(**params), body)
    try:
        if expected == PASSES:
            assert resp.status_code not in (401, 403) and resp.status_code < 500, \
                resp.text
        else:
            assert resp.status_code == expected, resp.text
        if expected == 403:
            assert 'Policy doesn' in resp.json()['error_message']
    finally:
        if method == 'POST' and path == '/os-hosts' and resp.status_code == 201:
            world.call(ADMIN, 'DELETE', '/os-hosts/%s' % resp.json()['host']['id'])


def test_lease_lists_show_own_project_only_except_to_admins(world):
    mine, theirs = world.leases[MEMBER]['id'], world.leases['b-member']['id']
    for role in (READER, MEMBER):
        seen = {lease['id'] for lease in world.call(role, 'GET', '/leases').json()['leases']}
        assert mine in seen and theirs not in seen
        assert all(lease['project_id'] == world.keystone.users[role].project_id
                   for lease in world.call(role, 'GET', '/leases').json()['leases'])
    seen = {lease['id'] for lease in world.call(ADMIN, 'GET', '/leases').json()['leases']}
    assert {mine, theirs, world.leases[ADMIN]['id']} <= seen


def test_a_lease_belongs_to_the_token_s_user_and_project(world):
    lease = world.leases[MEMBER]
    user = world.keystone.users[MEMBER]
    assert (lease['user_id'], lease['project_id']) == (user.id, user.project_id)


def test_a_denied_create_makes_no_trust(world):
    assert world.call(READER, 'POST', '/leases', {
        'name': 'denied', 'start_date': LATER, 'end_date': MUCH_LATER}).status_code == 403
    assert world.keystone.trusts_of(READER) == set()


@pytest.mark.parametrize('path', ['/leases', '/os-hosts', '/availability/duration?count=1',
                                  '/usage'])
def test_without_a_valid_token_every_route_is_401(world, path):
    assert world.call(None, 'GET', path).status_code == 401
    resp = requests.get(world.deployment.url + path, timeout=60,
                        headers={'X-Auth-Token': 'not-a-token'})
    assert resp.status_code == 401
    assert resp.json()['error_code'] == 401


def test_public_routes_need_no_token(deployment):
    root = deployment.url[:-len('/v1')]
    for path in PUBLIC_ROUTES:
        assert requests.get(root + path, timeout=60).status_code == 300


def _route(method, path):
    """A row's (METHOD, path) as the OpenAPI document names it."""
    path = re.sub(r'\{(lease|fresh)\}', '{lease_id}', path.split('?')[0])
    path = re.sub(r'\{(host|new_host_id)\}', '{host_id}', path)
    path = path.replace('/properties/gpu', '/properties/{name}')
    path = path.replace('/floatingips/unknown-fip', '/floatingips/{floatingip_id}')
    return method, '/v1' + path


def test_the_matrix_covers_every_route_of_the_api():
    covered = {_route(method, path)
               for method, path, *_ in LEASE_ROUTES + PROJECTLESS_ROUTES}
    covered |= {('GET', path) for path in PUBLIC_ROUTES}
    routes = {(method.upper(), path)
              for path, operations in openapi.document('http://x')['paths'].items()
              for method in operations
              if method in ('get', 'post', 'put', 'patch', 'delete')}
    assert routes - covered == set(), (
        'routes missing from the Keystone policy matrix (add a row with the '
        'statuses the policy defaults give each role): %s' % sorted(routes - covered))
