"""Pecan hooks: the request context, and JSON errors for controller failures."""
import pecan
import webob.exc

from blazar import context
from blazar.api import errors


class ContextHook(pecan.hooks.PecanHook):
    priority = 10

    def before(self, state):
        state.request.context = context.RequestContext.from_environ(
            state.request.environ)


class MethodHook(pecan.hooks.PecanHook):
    """Pecan sends every unmatched method to a generic controller's default
    handler; those handlers only read."""
    priority = 5

    def before(self, state):
        if (getattr(state.controller, 'read_only', False)
                and state.request.method not in ('GET', 'HEAD')):
            raise webob.exc.HTTPMethodNotAllowed(
                detail='%s is not allowed on %s' % (state.request.method,
                                                    state.request.path))


class ErrorHook(pecan.hooks.PecanHook):

    def on_error(self, state, exc):
        return errors.from_exception(exc)
