"""oslo.messaging plumbing: one transport per process, context-carrying
serializer, the manager's RPC server and client, and the notifier.

Exceptions from ``blazar.exceptions`` raised in the manager are rebuilt as
the same classes on the caller's side (``allowed_remote_exmods``).
"""
import datetime
import threading

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_serialization import jsonutils

from blazar import context as blazar_context
from blazar.utils import dates

CONF = cfg.CONF
ALLOWED_EXMODS = ['blazar.exceptions']
# What the manager serves. 1.1: update_lease and delete_lease take
# ``owner`` (the owner the API checked its policy against;
# blazar/api/controllers/v1/leases.py).
RPC_VERSION = '1.1'
# What a call asks for unless it needs more, so that an API upgraded before
# its managers still reaches them (a call that needs 1.1 says so).
CALL_VERSION = '1.0'
OWNER_VERSION = '1.1'

_lock = threading.Lock()
_transport = None
_notifier = None


def to_primitive(value):
    """JSON-ready copy of a payload: the manager returns plain dicts, lists
    and datetimes, converted here directly (oslo's generic converter is
    several times slower on large lease lists). Datetimes keep four-digit
    years (oslo's and ``strftime`` write year 1 as '1-01-01' on glibc,
    which nothing parses back)."""
    if isinstance(value, dict):
        return {key: to_primitive(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_primitive(item) for item in value]
    if isinstance(value, datetime.datetime):
        return dates.format_wire(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return jsonutils.to_primitive(value, convert_instances=True)


class RequestContextSerializer(messaging.Serializer):
    """Contexts travel as dicts; payloads as JSON primitives, so the fake and
    the RabbitMQ transports hand the API exactly the same values."""

    def serialize_entity(self, ctxt, entity):
        return to_primitive(entity)

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return blazar_context.RequestContext.from_dict(ctxt)


def get_transport():
    global _transport
    with _lock:
        if _transport is None:
            _transport = messaging.get_rpc_transport(
                CONF, allowed_remote_exmods=ALLOWED_EXMODS)
        return _transport


def get_notifier():
    global _notifier
    with _lock:
        if _notifier is None:
            transport = messaging.get_notification_transport(
                CONF, allowed_remote_exmods=ALLOWED_EXMODS)
            _notifier = messaging.Notifier(
                transport, publisher_id=CONF.notifications.publisher_id,
                serializer=RequestContextSerializer())
        return _notifier


def cleanup():
    """Drop the transports (tests reconfigure them)."""
    global _transport, _notifier
    with _lock:
        if _transport is not None:
            _transport.cleanup()
        if _notifier is not None:
            _notifier.transport.cleanup()
        _transport = _notifier = None


def get_client(topic):
    target = messaging.Target(topic=topic, version=CALL_VERSION)
    return messaging.get_rpc_client(get_transport(), target,
                                    serializer=RequestContextSerializer())


def get_server(topic, server, endpoints):
    target = messaging.Target(topic=topic, server=server, version=RPC_VERSION)
    return messaging.get_rpc_server(get_transport(), target, endpoints,
                                    executor='threading',
                                    serializer=RequestContextSerializer())


def notify(context, event_type, payload):
    get_notifier().info(context, event_type, payload)
