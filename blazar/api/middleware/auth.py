"""Who is calling: keystonemiddleware, or 'noauth' for local use.

Both set the same X-User-Id / X-Project-Id / X-Roles headers the request
context is built from.
"""
import logging

from oslo_config import cfg
import webob

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
PUBLIC_PATHS = ('/', '/versions', '/healthcheck')


class NoAuth:
    """Trusts the caller. A token 'user:project' acts as that user in that
    project (users in [noauth] admin_users are admins); no token, or any
    other token, acts as the configured default identity."""

    def __init__(self, app):
        self.app = app
        LOG.warning('auth_strategy = noauth: every caller is trusted. Use it for '
                    'local development and tests only.')

    def _identity(self, token):
        if token and token.count(':') == 1 and all(token.split(':')):
            return token.split(':')
        return CONF.noauth.default_user_id, CONF.noauth.default_project_id

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        user, project = self._identity(request.headers.get('X-Auth-Token'))
        roles = ['member', 'reader']
        if user in CONF.noauth.admin_users:
            roles.insert(0, 'admin')
        for name in ('X-User-Id', 'X-Project-Id', 'X-Roles', 'X-User-Name',
                     'X-Project-Name', 'X-Identity-Status', 'X-Service-Catalog'):
            request.headers.pop(name, None)
        request.headers.update({
            'X-User-Id': user, 'X-User-Name': user, 'X-Project-Id': project,
            'X-Project-Name': project, 'X-Roles': ','.join(roles),
            'X-Identity-Status': 'Confirmed'})
        return self.app(environ, start_response)


class PublicPaths:
    """Version discovery and health checks need no token."""

    def __init__(self, app, authenticated_app):
        self.app = app
        self.authenticated_app = authenticated_app

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '/').rstrip('/') or '/'
        if path in PUBLIC_PATHS:
            return self.app(environ, start_response)
        return self.authenticated_app(environ, start_response)


def wrap(app):
    if CONF.auth_strategy == 'noauth':
        return NoAuth(app)
    from keystonemiddleware import auth_token
    return PublicPaths(app, auth_token.AuthProtocol(app, {'oslo_config_config': CONF}))
