"""Nova's versioned ``service.update`` notifications, for a simulated cloud.

Nova sends one when a compute service is disabled or enabled, forced down
or brought back (not when it merely stops reporting). :class:`ServiceNotifier`
publishes the same message (publisher ``nova-compute:<host>``, payload
``ServiceStatusPayload`` 1.1 under ``nova_object.data``) on an oslo.messaging
notification transport, so Blazar's notification monitor can be tested end
to end: in process on the ``fake`` driver, or over RabbitMQ.

    notifier = ServiceNotifier('rabbit://guest:guest@127.0.0.1:5672/')
    cloud.on_service_update(notifier)
    cloud.fail_host('compute-1', mode='forced_down')   # -> service.update
"""
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts

from blazar.simulator import model

PAYLOAD_VERSION = '1.1'
SERVICE_VERSION = 66   # a recent nova-compute service version


def service_update_payload(service):
    """The versioned payload of a service dict (``Cloud.list_services``)."""
    zone = (service.get('zone') or '').split(',')[0] or None
    return {
        'nova_object.name': 'ServiceStatusPayload',
        'nova_object.namespace': 'nova',
        'nova_object.version': PAYLOAD_VERSION,
        'nova_object.data': {
            'host': service['host'], 'binary': service['binary'],
            'topic': 'compute', 'report_count': 0,
            'disabled': service['status'] == 'disabled',
            'disabled_reason': service['disabled_reason'],
            'availability_zone': zone,
            'last_seen_up': (model.iso(service['updated_at'], micro=False)
                             if service.get('alive', True) else None),
            'forced_down': bool(service['forced_down']),
            'version': SERVICE_VERSION, 'uuid': service['id']}}


class ServiceNotifier:
    """Publishes ``service.update`` for each service dict it is called with.

    Its transport has its own configuration (``exchange`` is Nova's
    ``control_exchange``), independent of the process's.
    """

    def __init__(self, transport_url, topics=('versioned_notifications',),
                 exchange='nova'):
        self.url = transport_url
        conf = cfg.ConfigOpts()
        for group, opts in messaging_opts.list_opts():
            if group is None:
                conf.register_opts(opts)
        conf.set_override('control_exchange', exchange)
        self.transport = messaging.get_notification_transport(conf, url=transport_url)
        self.notifier = messaging.Notifier(self.transport, driver='messagingv2',
                                           topics=list(topics))
        self.sent = 0

    @classmethod
    def from_config(cls, conf=None):
        """From ``[simulator] notification_*``; None when no URL is set."""
        if conf is None:
            from blazar.conf import CONF as conf
        opts = conf.simulator
        if not opts.notification_transport_url:
            return None
        return cls(opts.notification_transport_url, opts.notification_topics,
                   opts.notification_exchange)

    def __call__(self, service):
        if service.get('binary') != 'nova-compute':
            return
        self.notifier.prepare(publisher_id='nova-compute:%s' % service['host']).info(
            {}, 'service.update', service_update_payload(service))
        self.sent += 1

    def close(self):
        # The fake driver's cleanup would empty every in-process exchange.
        if not str(self.url).startswith('fake'):
            self.transport.cleanup()
