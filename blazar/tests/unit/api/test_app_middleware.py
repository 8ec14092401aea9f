"""The oslo.middleware layers around the API: CORS, proxy headers, request
id and /healthcheck, configured through their usual options."""
from oslo_config import cfg
from oslo_middleware import cors
from oslo_middleware import http_proxy_to_wsgi
import pytest
import webob

from blazar.api import app as api_app

CONF = cfg.CONF
HORIZON = 'https://horizon.example.com'


def make_app(allowed_origin=None, proxy_headers=False):
    CONF.register_opts(cors.CORS_OPTS, 'cors')
    CONF.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
    if allowed_origin:
        CONF.set_override('allowed_origin', allowed_origin, group='cors')
    CONF.set_override('enable_proxy_headers_parsing', proxy_headers,
                      group='oslo_middleware')
    return api_app.setup_app()


def call(app, path, method='GET', headers=None):
    request = webob.Request.blank(path, base_url='http://api.example.com:1234',
                                  method=method, headers=headers or {})
    return request.get_response(app)


def test_cors_preflight_from_an_allowed_origin():
    app = make_app(allowed_origin=[HORIZON])
    resp = call(app, '/v1/leases', 'OPTIONS', {
        'Origin': HORIZON, 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'X-Auth-Token,Content-Type,'
                                          'OpenStack-API-Version'})
    assert resp.status_int == 200
    assert resp.headers['Access-Control-Allow-Origin'] == HORIZON
    assert 'POST' in resp.headers['Access-Control-Allow-Methods']
    allowed = resp.headers['Access-Control-Allow-Headers'].lower()
    for header in ('x-auth-token', 'content-type', 'openstack-api-version'):
        assert header in allowed


def test_cors_exposes_the_request_id_on_actual_requests():
    app = make_app(allowed_origin=[HORIZON])
    resp = call(app, '/', headers={'Origin': HORIZON})
    assert resp.headers['Access-Control-Allow-Origin'] == HORIZON
    exposed = resp.headers['Access-Control-Expose-Headers'].lower()
    assert 'x-openstack-request-id' in exposed
    assert 'openstack-api-version' in exposed


@pytest.mark.parametrize('allowed', [None, ['https://other.example.com']])
def test_cors_preflight_from_another_origin_is_not_allowed(allowed):
    app = make_app(allowed_origin=allowed)
    resp = call(app, '/v1/leases', 'OPTIONS', {
        'Origin': HORIZON, 'Access-Control-Request-Method': 'POST'})
    assert 'Access-Control-Allow-Origin' not in resp.headers


def test_forwarded_proto_and_host_make_the_version_links():
    app = make_app(proxy_headers=True)
    resp = call(app, '/', headers={'X-Forwarded-Proto': 'https',
                                   'X-Forwarded-Host': 'cloud.example.com'})
    assert resp.status_int == 300
    href = resp.json['versions'][0]['links'][0]['href']
    assert href == 'https://cloud.example.com/v1'
    resp = call(app, '/v1', headers={'X-Forwarded-Proto': 'https'})
    assert resp.json['version']['links'][0]['href'] == 'https://api.example.com:1234/v1'


def test_forwarded_prefix_is_kept_in_the_links():
    app = make_app(proxy_headers=True)
    resp = call(app, '/', headers={'X-Forwarded-Proto': 'https',
                                   'X-Forwarded-Prefix': '/reservation'})
    href = resp.json['versions'][0]['links'][0]['href']
    assert href == 'https://api.example.com:1234/reservation/v1'


def test_proxy_headers_are_ignored_unless_enabled():
    app = make_app(proxy_headers=False)
    resp = call(app, '/', headers={'X-Forwarded-Proto': 'https'})
    assert resp.json['versions'][0]['links'][0]['href'] == 'http://api.example.com:1234/v1'


def test_every_answer_carries_a_request_id():
    app = make_app()
    for path in ('/', '/healthcheck', '/v1/nothing'):
        resp = call(app, path)
        assert resp.headers['X-Openstack-Request-Id'].startswith('req-'), path


def test_healthcheck_needs_no_token_under_keystone():
    CONF.set_override('auth_strategy', 'keystone')
    app = make_app()
    resp = call(app, '/healthcheck')
    assert resp.status_int == 200
    assert resp.text.strip() == 'OK'
