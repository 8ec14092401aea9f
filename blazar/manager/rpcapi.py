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
        except exceptions.BlazarException:
            raise
        except messaging.MessagingTimeout:
            raise exceptions.ManagerUnavailable(reason='no answer within %ss'
                                                % CONF.rpc_response_timeout)
        except messaging.RemoteError as exc:
            raise exceptions.BlazarException(
                'The manager failed: %s' % (exc.value or exc.exc_type))
        except messaging.MessageDeliveryFailure:
            raise exceptions.ManagerUnavailable(
                reason='the message broker cannot be reached')
        except (messaging.MessagingException, OSError) as exc:
            raise exceptions.ManagerUnavailable(reason=type(exc).__name__)

    def __getattr__(self, method):
        if method.startswith('_'):
            raise AttributeError(method)
        return lambda context, **kwargs: self._call(context, method, **kwargs)
