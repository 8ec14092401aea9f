"""auth_strategy = keystone puts keystonemiddleware in front of the API;
Keystone being unavailable when the manager needs it is a 503 with a message.
"""
from keystoneauth1 import loading as ks_loading
from keystonemiddleware import auth_token  # noqa: F401  registers its options
import pytest

from blazar.api import app as api_app
from blazar.clients import keystone
from blazar.tests import ports
from blazar.tests.functional.conftest import Api
from blazar.utils import wsgi


def test_requests_without_a_token_are_refused_but_discovery_is_public(config,
                                                                      sqlite_database):
    config.set_override('auth_strategy', 'keystone')
    config.set_override('www_authenticate_uri', 'http://127.0.0.1:9/identity',
                        group='keystone_authtoken')
    server = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0).start()
    try:
        anonymous = Api(server.url, token=None)
        resp = anonymous.get('/v1/leases')
        assert resp.status_code == 401
        assert resp.json()['error_code'] == 401
        assert 'Keystone uri' in resp.headers['WWW-Authenticate']
        assert anonymous.get('/').status_code == 300
        assert anonymous.get('/healthcheck').status_code == 200
    finally:
        server.stop()


@pytest.fixture
def unreachable_keystone(config):
    """Leases need trusts ([trustee] set) but Keystone is down: the API still
    authenticates with noauth (it was set up so), the manager asks Keystone."""
    opts = ks_loading.get_auth_plugin_conf_options('password')
    config.register_opts(opts, group='trustee')
    config.set_override('auth_strategy', 'keystone')
    port = ports.free_port()        # nothing listens there
    for key, value in {'auth_type': 'password',
                       'auth_url': 'http://127.0.0.1:%d/v3' % port,
                       'username': 'blazar', 'password': 'secret',
                       'user_domain_name': 'Default', 'timeout': 5}.items():
        config.set_override(key, value, group='trustee')
    keystone.reset_client()
    yield config
    keystone.reset_client()
    config.reset()
    config.unregister_opts(opts, group='trustee')


def test_keystone_unavailable_at_lease_create_is_a_503_with_a_message(
        api, unreachable_keystone):
    resp = api.post('/v1/leases', {'name': 'no-keystone', 'start_date': '2099-01-01 10:00',
                                   'end_date': '2099-01-02 10:00'})
    assert resp.status_code == 503, resp.text
    message = resp.json()['error_message']
    assert message.startswith('Identity service (Keystone) is unavailable: '
                              'Unable to establish connection'), message
    assert 'no-keystone' not in {lease['name'] for lease in
                                 api.get('/v1/leases').json()['leases']}
