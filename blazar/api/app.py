"""The WSGI application: middleware around the Pecan controllers."""
from oslo_config import cfg
from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
import pecan

from blazar import policy
from blazar.api import errors
from blazar.api import hooks
from blazar.api.controllers import root
from blazar.api.middleware import auth
from blazar.api.middleware import edge
from blazar.api.middleware import microversion
from blazar.conf import opts as conf_opts

CONF = cfg.CONF


class HealthcheckRoute:
    """/healthcheck answers from oslo.middleware's health check app."""

    def __init__(self, app, health):
        self.app = app
        self.health = health

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '').rstrip('/') == '/healthcheck':
            return self.health(environ, start_response)
        return self.app(environ, start_response)


def setup_app():
    policy.init()
    app = pecan.make_app(root.RootController(),
                         hooks=[hooks.MethodHook(), hooks.ContextHook(), hooks.ErrorHook()],
                         force_canonical=False, guess_content_type_from_ext=True)
    # URL length, path, query, identity, methods, content type, body size
    # and body: checked from the OpenAPI route table before Pecan routes.
    app = edge.Edge(app)
    app = microversion.Microversion(app)
    app = auth.wrap(app)
    app = HealthcheckRoute(app, healthcheck.Healthcheck(None, {
        'backends': 'disable_by_file',
        'disable_by_file_path': '/etc/blazar/healthcheck_disable'}))
    app = errors.JsonErrors(app)
    app = request_id.RequestId(app)
    conf_opts.set_lib_defaults()  # the CORS defaults the sample documents
    app = cors.CORS(app, CONF)
    app = http_proxy_to_wsgi.HTTPProxyToWSGI(app, CONF)
    return app
