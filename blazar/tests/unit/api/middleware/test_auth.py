"""NoAuth identities and the public paths that bypass authentication."""
import pytest
import webob

from blazar.api.middleware import auth

IDENTITY_HEADERS = ('X-User-Id', 'X-User-Name', 'X-Project-Id', 'X-Project-Name',
                    'X-Roles', 'X-Identity-Status')


class App:
    """Records the request headers it receives."""

    def __init__(self, name='app'):
        self.name = name
        self.seen = []

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        self.seen.append(dict(request.headers))
        response = webob.Response(json_body={'app': self.name})
        return response(environ, start_response)


def through_noauth(headers=None):
    app = App()
    request = webob.Request.blank('/v1/leases', headers=headers or {})
    response = request.get_response(auth.NoAuth(app))
    assert response.status_int == 200
    assert len(app.seen) == 1
    return app.seen[0]


@pytest.mark.parametrize('token, user, project', [
    ('alice:proj1', 'alice', 'proj1'),
    ('bob:c0ffee', 'bob', 'c0ffee'),
])
def test_user_project_token_acts_as_that_member(token, user, project):
    seen = through_noauth({'X-Auth-Token': token})
    assert seen['X-User-Id'] == seen['X-User-Name'] == user
    assert seen['X-Project-Id'] == seen['X-Project-Name'] == project
    assert seen['X-Roles'] == 'member,reader'
    assert seen['X-Identity-Status'] == 'Confirmed'


def test_admin_user_token_gets_the_admin_role():
    seen = through_noauth({'X-Auth-Token': 'admin:p'})
    assert (seen['X-User-Id'], seen['X-Project-Id']) == ('admin', 'p')
    assert seen['X-Roles'].split(',') == ['admin', 'member', 'reader']


def test_configured_admin_users(config):
    config.set_override('admin_users', ['alice'], group='noauth')
    assert through_noauth({'X-Auth-Token': 'alice:p'})['X-Roles'] == \
        'admin,member,reader'
    assert through_noauth({'X-Auth-Token': 'admin:p'})['X-Roles'] == 'member,reader'


@pytest.mark.parametrize('headers', [
    {}, {'X-Auth-Token': ''}, {'X-Auth-Token': 'notused'},
    {'X-Auth-Token': 'a:b:c'}, {'X-Auth-Token': ':x'}, {'X-Auth-Token': 'x:'},
    {'X-Auth-Token': ':'},
], ids=lambda h: repr(h.get('X-Auth-Token')))
def test_other_tokens_act_as_the_default_identity(headers):
    seen = through_noauth(headers)
    # [noauth] defaults: user and project 'admin', an admin user.
    assert (seen['X-User-Id'], seen['X-Project-Id']) == ('admin', 'admin')
    assert seen['X-Roles'] == 'admin,member,reader'


def test_default_identity_comes_from_config(config):
    config.set_override('default_user_id', 'dev', group='noauth')
    config.set_override('default_project_id', 'sandbox', group='noauth')
    seen = through_noauth({'X-Auth-Token': 'notused'})
    assert (seen['X-User-Id'], seen['X-Project-Id']) == ('dev', 'sandbox')
    assert seen['X-Roles'] == 'member,reader'


def test_identity_headers_sent_by_the_client_are_replaced():
    seen = through_noauth({
        'X-Auth-Token': 'mallory:proj2', 'X-Roles': 'admin',
        'X-User-Id': 'admin', 'X-Project-Id': 'proj1', 'X-User-Name': 'root',
        'X-Project-Name': 'ops', 'X-Identity-Status': 'Invalid',
        'X-Service-Catalog': '[{"type": "evil"}]'})
    assert seen['X-Roles'] == 'member,reader'
    assert (seen['X-User-Id'], seen['X-User-Name']) == ('mallory', 'mallory')
    assert (seen['X-Project-Id'], seen['X-Project-Name']) == ('proj2', 'proj2')
    assert seen['X-Identity-Status'] == 'Confirmed'
    assert 'X-Service-Catalog' not in seen


def test_other_headers_are_kept():
    seen = through_noauth({'X-Auth-Token': 'alice:p', 'OpenStack-API-Version':
                           'reservation 1.0', 'X-Openstack-Request-Id': 'req-1'})
    assert seen['Openstack-Api-Version'] == 'reservation 1.0'
    assert seen['X-Openstack-Request-Id'] == 'req-1'


def test_wrap_uses_noauth_under_noauth(config):
    assert config.auth_strategy == 'noauth'
    app = App()
    wrapped = auth.wrap(app)
    assert isinstance(wrapped, auth.NoAuth) and wrapped.app is app


# --- PublicPaths ---------------------------------------------------------

def route(path):
    public, protected = App('public'), App('protected')
    response = webob.Request.blank(path).get_response(
        auth.PublicPaths(public, protected))
    return response.json['app']


@pytest.mark.parametrize('path', ['/', '', '/versions', '/versions/',
                                  '/healthcheck', '/healthcheck/'])
def test_public_paths_skip_authentication(path):
    assert route(path) == 'public'


@pytest.mark.parametrize('path', ['/v1', '/v1/', '/v1/leases', '/v1/os-hosts/1',
                                  '/versions/v1', '/healthcheck/detail',
                                  '/healthchecks'])
def test_other_paths_go_through_authentication(path):
    assert route(path) == 'protected'


def test_wrap_under_keystone_serves_public_paths_without_token(config):
    pytest.importorskip('keystonemiddleware')
    config.set_override('auth_strategy', 'keystone')
    app = App()
    wrapped = auth.wrap(app)
    assert isinstance(wrapped, auth.PublicPaths)
    assert wrapped.app is app
    response = webob.Request.blank('/versions').get_response(wrapped)
    assert response.status_int == 200 and response.json == {'app': 'app'}
    assert type(wrapped.authenticated_app).__name__ == 'AuthProtocol'
    assert len(app.seen) == 1
