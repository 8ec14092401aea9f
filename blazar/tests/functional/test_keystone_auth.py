"""auth_strategy = keystone puts keystonemiddleware in front of the API."""
from keystonemiddleware import auth_token  # noqa: F401  registers its options

from blazar.api import app as api_app
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
