"""The API's handle on the manager: one method per RPC call."""
from oslo_config import cfg
import oslo_messaging as messaging

from blazar import exceptions
from blazar import rpc

CONF = cfg.CONF


class ManagerAPI:

    def __init__(self):
        # A broker that is away answers 503 after a few retries, not never.
        self._client = rpc.get_client(CONF.manager.rpc_topic).prepare(
            retry=CONF.api.broker_retries)

    def _call(self, context, method, **kwargs):
        try:
            return self._client.call(context, method, **kwargs)
        except Exception as exc:
            raise _translated(exc)

    def as_owner(self, context, method, owner, **kwargs):
        """Call ``method`` for a lease the caller expects to own: the
        manager raises OwnerNotConfirmed instead of touching another's
        lease, and so does this for a manager too old to check."""
        client = self._client.prepare(version=rpc.OWNER_VERSION)
        try:
            return client.call(context, method, owner=owner, **kwargs)
        except Exception as exc:
            if _unsupported_version(exc):
                raise exceptions.OwnerNotConfirmed(id=kwargs.get('lease_id'))
            raise _translated(exc)

    def __getattr__(self, method):
        if method.startswith('_'):
            raise AttributeError(method)
        return lambda context, **kwargs: self._call(context, method, **kwargs)


def _unsupported_version(exc):
    """The manager's refusal of a call newer than it: rebuilt as the class
    where oslo.messaging's modules travel, a RemoteError naming it where
    they do not."""
    return isinstance(exc, messaging.UnsupportedVersion) or (
        isinstance(exc, messaging.RemoteError) and exc.exc_type == 'UnsupportedVersion')


def _translated(exc):
    """What the API raises for an error of a call: Blazar's own as they
    are, the broker's and the manager's failures as 503 or 500 messages."""
    if isinstance(exc, exceptions.BlazarException):
        return exc
    if isinstance(exc, messaging.RemoteError):
        return exceptions.BlazarException(
            'The manager failed: %s' % (exc.value or exc.exc_type))
    if isinstance(exc, messaging.MessagingTimeout):
        return exceptions.ManagerUnavailable(reason='no answer within %ss'
                                             % CONF.rpc_response_timeout)
    if isinstance(exc, messaging.MessageDeliveryFailure):
        return exceptions.ManagerUnavailable(
            reason='the message broker cannot be reached')
    if isinstance(exc, (messaging.MessagingException, OSError)):
        return exceptions.ManagerUnavailable(reason=type(exc).__name__)
    return exc
